//! `topology lint` run as a user runs it, on the fixtures and the Magento corpus.

use crate::util;

use crate::util::{assert_contains, diag_summary, offline_plan, run};

/// Diagnostics as `diag_summary` gives them: `e` or `w`, the code, line, column.
type Expected<'a> = &'a [(&'a str, &'a str, u64, u64)];

/// Asserts that `lint ARGS` reports `expected`, in that order.
#[track_caller]
fn assert_lints(args: &[&str], expected: Expected) {
    let out = run(&[&["lint", "--format", "json"], args].concat());
    assert_eq!(diag_summary(&out.json()), owned(expected), "lint {args:?}");
}

fn owned(expected: Expected) -> Vec<(String, String, u64, u64)> {
    let owned = expected
        .iter()
        .map(|(s, c, l, col)| (s.to_string(), c.to_string(), *l, *col));
    owned.collect()
}

/// The Magento corpus lints clean: no errors, exit 0.
#[test]
fn magento_app_lints_clean() {
    let Some(corpus) = util::corpus() else {
        eprintln!("SKIPPED: the Magento corpus is not on this machine");
        return;
    };
    let out = run(&["lint", corpus.join("app").to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(&out.stderr, "10 files checked: no problem found");
}

/// The whole corpus (Magento's modules and its own test modules), in Magento's dialect,
/// named explicitly: nothing Magento ships is refused, so no error and no `magento-*` code.
/// (Its test modules' warnings are real: bindings that give one queue different arguments.)
#[test]
fn magento_corpus_passes_magentos_own_rules() {
    let Some(corpus) = util::corpus() else {
        eprintln!("SKIPPED: the Magento corpus is not on this machine");
        return;
    };
    let path = corpus.to_str().unwrap();
    let out = run(&["lint", "--dialect", "magento", "--format", "json", path]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let found = diag_summary(&out.json());
    assert!(!found.is_empty(), "the corpus has warnings to show");
    for (severity, code, _, _) in &found {
        assert_eq!(severity, "w", "{found:?}");
        assert!(!code.starts_with("magento-"), "{found:?}");
    }
}

/// Every diagnostic says how to fix it (a help line), whatever its code.
#[test]
fn every_diagnostic_has_a_help_line() {
    let mut seen = std::collections::BTreeSet::new();
    let dirs: Vec<std::path::PathBuf> = std::fs::read_dir(util::root().join("fixtures/bad"))
        .unwrap()
        .chain(std::fs::read_dir(util::root().join("fixtures")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    for dir in dirs {
        for dialect in ["magento", "rabbitmq"] {
            let path = dir.to_str().unwrap();
            let out = run(&["lint", "--format", "json", "--dialect", dialect, path]);
            if out.code == 64 {
                continue;
            }
            for d in out.json()["diagnostics"].as_array().unwrap() {
                seen.insert(d["code"].as_str().unwrap().to_string());
                let help = d["help"].as_str().unwrap_or("");
                assert!(!help.is_empty(), "{path}: no help: {d}");
            }
        }
    }
    assert!(seen.len() > 20, "the fixtures produce many codes: {seen:?}");
}

/// Another of Magento's message-queue files given by mistake gets one error that names it,
/// not a cascade of unknown elements.
#[test]
fn other_magento_files_get_one_clear_error() {
    let check = |path: &str, says: &str| {
        let out = run(&["lint", "--format", "json", path]);
        assert_eq!(out.code, 1, "{path}: {}", out.stderr);
        let found = diag_summary(&out.json());
        assert_eq!(found.len(), 1, "{path}: {found:?}");
        assert_eq!(found[0].1, "wrong-root", "{path}: {found:?}");
        let doc = out.json();
        let message = doc["diagnostics"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{path}: {message}");
    };
    check("fixtures/sync/etc/communication.xml", "a communication.xml");
    if let Some(corpus) = util::corpus() {
        let etc = corpus.join("app/code/Magento/ImportExport/etc");
        check(
            etc.join("queue.xml").to_str().unwrap(),
            "deprecated <broker> format",
        );
        check(
            etc.join("queue_publisher.xml").to_str().unwrap(),
            "queue_publisher.xml",
        );
    }
}

/// The seed's simple configuration: the proposal's own sample sends `arg-value` as a TTL,
/// which RabbitMQ refuses; the dead-letter exchange is never declared.
#[test]
fn proposal_simple_reports_the_ttl_string() {
    assert_lints(
        &["fixtures/proposal-simple"],
        &[
            ("e", "argument-type", 5, 61),
            ("w", "undeclared-exchange", 6, 70),
        ],
    );
}

/// Queue-connection mismatch: both queues exist and the proposal's warning is given, word for word.
#[test]
fn proposal_connection_mismatch_warns_with_the_proposal_text() {
    let out = run(&[
        "lint",
        "--format",
        "json",
        "fixtures/proposal-connection-mismatch",
    ]);
    let doc = out.json();
    let messages: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(messages.contains(
        &"`some-queue` is defined in two connections: `amqp` and `db`. If this is intentional, this message can be ignored."
    ), "{messages:?}");
}

/// The valid showcases lint clean: Magento's in the default dialect, the ones that use
/// RabbitMQ's extensions (direct and fanout exchanges, exchange-to-exchange bindings) with
/// `--dialect rabbitmq`, and in the Magento dialect they are errors.
#[test]
fn valid_fixtures_lint_clean() {
    for fixture in [
        "fixtures/proposal-backward-compat",
        "fixtures/retry-triple",
        "fixtures/sync",
    ] {
        let out = run(&["lint", "--deny-warnings", fixture]);
        assert_eq!(out.code, 0, "{fixture}: {}", out.stderr);
    }
    for (fixture, refused) in [
        ("fixtures/outbound-queue", "magento-exchange-type"),
        ("fixtures/outbox", "magento-destination-type"),
    ] {
        let out = run(&["lint", "--deny-warnings", "--dialect", "rabbitmq", fixture]);
        assert_eq!(out.code, 0, "{fixture}: {}", out.stderr);
        let out = run(&["lint", fixture]);
        assert_eq!(out.code, 1, "{fixture}: {}", out.stderr);
        assert!(out.stderr.contains(refused), "{fixture}: {}", out.stderr);
    }
}

/// What Magento refuses when it loads the topology, each at the attribute at fault; a
/// binding whose topic another file gives (merged by id) and `topic=""` are accepted.
#[test]
fn magento_dialect_rules() {
    let expected = [
        ("e", "magento-exchange-type", 4, 40),
        ("e", "magento-destination-type", 8, 58),
        ("e", "magento-binding-topic", 9, 22),
    ];
    assert_lints(&["fixtures/bad/magento"], &expected);
    assert_lints(&["--dialect", "magento", "fixtures/bad/magento"], &expected);
    let out = run(&["lint", "--format", "json", "fixtures/bad/magento"]);
    let doc = out.json();
    let messages: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["help"].as_str().unwrap())
        .collect();
    // Magento's own words, so that a user can find them in Magento's logs.
    assert!(
        messages[0].contains("Given 'direct', 'topic' was expected"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("Given 'exchange', 'queue' was expected"),
        "{messages:?}"
    );
    assert!(
        messages[2].contains("Topic name is required for topic based exchange: shop.events--amqp"),
        "{messages:?}"
    );
    // RabbitMQ accepts all of it.
    assert_lints(&["--dialect", "rabbitmq", "fixtures/bad/magento"], &[]);
    let out = util::run_in(
        &util::root(),
        &["lint", "fixtures/bad/magento"],
        &[("TOPOLOGY_DIALECT", "rabbitmq")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(&["lint", "--dialect", "php", "fixtures/bad/magento"]);
    assert_eq!(out.code, 64, "{}", out.stderr);
}

/// Every RabbitMQ argument rule, located at the value at fault.
#[test]
fn argument_rules() {
    assert_lints(
        &["fixtures/bad/arguments"],
        &[
            ("e", "argument-type", 4, 69),
            ("e", "argument-range", 7, 69),
            ("e", "argument-range", 10, 69),
            ("w", "string-as-integer", 13, 69),
            ("w", "string-as-integer", 16, 69),
            ("e", "argument-range", 19, 65),
            ("e", "argument-range", 22, 68),
            ("e", "argument-range", 25, 70),
            ("e", "argument-value", 28, 66),
            ("e", "argument-value", 31, 68),
            ("e", "dead-letter-routing-key-without-exchange", 34, 36),
            ("e", "argument-type", 37, 78),
            ("e", "argument-type", 40, 80),
            ("e", "queue-type-property", 42, 45),
            ("e", "queue-type-property", 45, 50),
            ("e", "argument-not-applicable", 51, 29),
            ("e", "argument-value", 57, 58),
            ("e", "argument-not-applicable", 61, 36),
            ("w", "unknown-argument", 64, 36),
        ],
    );
}

/// Schema problems: every one of them, not only the first.
#[test]
fn schema_rules() {
    assert_lints(
        &["fixtures/bad/schema"],
        &[
            ("e", "unknown-attribute", 3, 25),
            ("e", "invalid-boolean", 3, 52),
            ("e", "duplicate-id", 5, 22),
            ("e", "missing-attribute", 6, 10),
            ("e", "unknown-element", 7, 10),
            ("e", "missing-type", 9, 14),
            ("e", "invalid-type", 10, 46),
            ("e", "invalid-boolean", 13, 31),
            ("w", "exchange-replaced", 14, 21),
        ],
    );
}

/// Topology checks across entities.
#[test]
fn topology_rules() {
    assert_lints(
        &["--dialect", "rabbitmq", "fixtures/bad/topology"],
        &[
            ("e", "reserved-name", 3, 21),
            ("e", "exchange-type", 4, 31),
            ("e", "cross-connection", 5, 81),
            ("w", "undeclared-exchange", 6, 83),
            ("w", "queue-name-case", 8, 49),
            ("w", "undeclared-exchange", 12, 78),
        ],
    );
}

/// Issue 11: what RabbitMQ refuses and lint passed (each checked on a real broker by
/// tests/broker_rules.rs): a queue named `amq.direct` (403), built-in exchanges redeclared
/// with another type, durability or alternate exchange (406; with their own properties they
/// pass), the default exchange declared or bound to (403), names and argument names longer
/// than AMQP's 255 bytes, and exchange types only a plugin registers (503, which closes the
/// connection): a warning naming the plugin, an error for `x-` alone.
#[test]
fn what_rabbitmq_refuses() {
    assert_lints(
        &["--dialect", "rabbitmq", "fixtures/bad/broker-refuses"],
        &[
            ("e", "reserved-name", 5, 18),
            ("e", "builtin-exchange", 6, 38),
            ("e", "builtin-exchange", 7, 56),
            ("e", "builtin-exchange", 9, 74),
            ("w", "undeclared-exchange", 9, 74),
            ("e", "default-exchange", 13, 21),
            ("e", "default-exchange", 17, 83),
            ("e", "name-too-long", 18, 80),
            ("w", "undeclared-exchange", 18, 80),
            ("e", "name-too-long", 20, 40),
            ("w", "exchange-plugin", 23, 36),
            ("e", "exchange-type", 24, 33),
            ("w", "exchange-plugin", 25, 33),
            ("e", "name-too-long", 27, 36),
        ],
    );
    let out = run(&[
        "lint",
        "--dialect",
        "rabbitmq",
        "--format",
        "json",
        "fixtures/bad/broker-refuses",
    ]);
    let doc = out.json();
    let message = |code: &str, line: u64| {
        doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code && d["line"] == line)
            .map(|d| d["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        message("exchange-plugin", 23),
        "exchange `delayed` has type \"x-delayed-message\", which the rabbitmq_delayed_message_exchange plugin registers"
    );
    assert_eq!(
        message("builtin-exchange", 6),
        "`amq.topic` is built into RabbitMQ, and declared here with other properties: type direct (built in: topic)"
    );
}

/// In Magento's dialect too: Magento declares what its files say, so a topic `amq.direct`
/// is refused by RabbitMQ (406), while `amq.topic` with its own properties is accepted.
#[test]
fn builtin_exchanges_in_magentos_dialect() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("queue_topology.xml"),
        r#"<config>
  <exchange name="amq.topic" connection="amqp"><binding id="a" topic="t" destination="q"/></exchange>
  <exchange name="amq.direct" connection="amqp"><binding id="b" topic="t" destination="q"/></exchange>
</config>"#,
    )
    .unwrap();
    assert_lints(
        &[dir.path().to_str().unwrap()],
        &[("e", "builtin-exchange", 3, 4)],
    );
}

/// Bad input: each gives a located diagnostic and exit 1, never a panic.
#[test]
fn bad_input_is_located() {
    let cases: &[(&str, Expected)] = &[
        ("fixtures/bad/malformed", &[("e", "xml-syntax", 5, 5)]),
        ("fixtures/bad/empty", &[("e", "xml-syntax", 1, 1)]),
        ("fixtures/bad/not-utf8", &[("e", "xml-encoding", 3, 24)]),
        ("fixtures/bad/bom", &[("e", "unknown-attribute", 3, 29)]),
        (
            "fixtures/bad/doctype-internal",
            &[("e", "xml-doctype", 2, 1), ("e", "xml-entity", 8, 21)],
        ),
        (
            "fixtures/bad/doctype-external",
            &[("e", "xml-doctype", 2, 1), ("e", "xml-entity", 7, 32)],
        ),
        (
            "fixtures/bad/deep",
            &[
                ("e", "unknown-element", 2, 40),
                ("e", "xml-too-deep", 2, 358),
            ],
        ),
        ("fixtures/bad/wrong-root", &[("e", "wrong-root", 2, 2)]),
    ];
    for (path, want) in cases {
        let out = run(&["lint", "--format", "json", path]);
        assert_eq!(out.code, 1, "{path}");
        assert_eq!(diag_summary(&out.json()), owned(want), "{path}");
        assert!(!out.stderr.contains("panicked"), "{path}: {}", out.stderr);
    }
}

/// An external entity is never read: the file's content does not leak into any output.
#[test]
fn external_entities_are_never_fetched() {
    let out = offline_plan("json", &["fixtures/bad/doctype-external"]);
    assert!(!out.stdout.contains("root:"), "{}", out.stdout);
    assert_eq!(out.code, 1);
}

/// Merging across modules: later attributes win, arguments merge by name, bindings collapse
/// on (destination, topic), and conflicting inferred queue arguments are reported at both places.
#[test]
fn merge_across_files() {
    let out = offline_plan("json", &["fixtures/merge"]);
    let doc = out.json();
    assert_eq!(
        diag_summary(&doc),
        owned(&[
            ("w", "binding-collapsed", 7, 22),
            ("w", "inferred-queue-arguments", 8, 65)
        ])
    );
    let ex = &doc["topology"]["exchanges"][0];
    assert_eq!(ex["durable"], false, "ModuleB overrides durable");
    let queues = doc["topology"]["queues"].as_array().unwrap();
    let orders = queues.iter().find(|q| q["name"] == "orders").unwrap();
    assert_eq!(orders["arguments"], serde_json::json!({"x-max-length": 10}));
    let bindings = doc["topology"]["bindings"].as_array().unwrap();
    let first = bindings
        .iter()
        .find(|b| b["routing_key"] == "order.created")
        .unwrap();
    assert_eq!(
        first["arguments"],
        serde_json::json!({"x-message-ttl": 2000})
    );
    // `again` (disabled) replaced `same`: no payments binding, but the queue is declared.
    assert!(bindings.iter().all(|b| b["destination"] != "payments"));
    assert!(queues.iter().any(|q| q["name"] == "payments"));
}

/// communication.xml beside a topology file: synchronous topics get Magento's response queues.
#[test]
fn response_queues_for_synchronous_topics() {
    let out = offline_plan("json", &["fixtures/sync"]);
    let doc = out.json();
    let names: Vec<&str> = doc["topology"]["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "async.all",
            "responseQueue.async.sync_one",
            "responseQueue.rpc.price_check",
            "rpc.price"
        ]
    );
}

/// Exit codes: warnings pass unless --deny-warnings; usage errors are 64.
#[test]
fn exit_codes() {
    assert_eq!(run(&["lint", "fixtures/merge"]).code, 0);
    assert_eq!(run(&["lint", "--deny-warnings", "fixtures/merge"]).code, 1);
    assert_eq!(run(&["lint", "fixtures/bad/arguments"]).code, 1);
    let missing = run(&["lint", "fixtures/does-not-exist"]);
    assert_eq!(missing.code, 64);
    assert_contains(&missing.stderr, "cannot read `fixtures/does-not-exist`");
    assert_eq!(run(&["lint", "--format", "yaml"]).code, 64);
    assert_eq!(run(&["lint", "--no-such-flag"]).code, 64);
    assert_eq!(run(&["--help"]).code, 0);
}

/// A file over the size limit is reported, not read.
#[test]
fn huge_file_is_refused_with_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue_topology.xml");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(300 * 1024 * 1024).unwrap(); // sparse: no disk used
    let out = run(&["lint", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert_eq!(diag_summary(&out.json())[0].1, "unreadable");
}

/// GitHub annotations: one workflow command per diagnostic, with file, line and column.
#[test]
fn github_format() {
    let out = run(&["lint", "--format", "github", "fixtures/proposal-simple"]);
    assert_eq!(out.code, 1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        lines[0].starts_with(
            "::error file=fixtures/proposal-simple/queue_topology.xml,line=5,col=61,title=argument-type::"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("::warning "), "{}", lines[1]);
}

/// Human output, rustc-like, as a reviewed snapshot.
#[test]
fn human_output_snapshots() {
    for (name, path) in [
        ("arguments", "fixtures/bad/arguments"),
        ("mismatch", "fixtures/proposal-connection-mismatch"),
        ("malformed", "fixtures/bad/malformed"),
        ("schema", "fixtures/bad/schema"),
    ] {
        let out = run(&["lint", "--color", "never", path]);
        insta::assert_snapshot!(format!("lint_human_{name}"), out.stderr);
    }
}

/// `--help` is part of the interface.
#[test]
fn help_snapshot() {
    insta::assert_snapshot!("help_lint", run(&["lint", "--help"]).stdout);
}

/// An undeclared dead-letter exchange named by many queues is one warning, not one per queue.
#[test]
fn undeclared_exchange_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let queues: String = (1..=3)
        .map(|i| {
            format!(
                r#"<queue name="q{i}"><arguments><argument name="x-dead-letter-exchange" xsi:type="string">dlx</argument></arguments></queue>"#
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("queue_topology.xml"),
        format!(
            r#"<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{queues}</config>"#
        ),
    )
    .unwrap();
    let doc = run(&["lint", "--format", "json", dir.path().to_str().unwrap()]).json();
    let d = doc["diagnostics"].as_array().unwrap();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0]["message"],
        "dead-letter exchange `dlx` of `q1` is not declared by the topology (also named by 2 more)"
    );
}
