//! `topology export`: definitions that the real RabbitMQ imports as they are (a plan
//! afterwards finds nothing to change), pictures that Graphviz draws, the Mermaid text of
//! the retry triple, and bad input refused with nothing on stdout.

use crate::util;

use std::path::Path;
use std::process::Command;

use crate::util::{Vhost, assert_contains, root, run, topology_dir};

/// `plan PATH --connection amqp=<vhost> --detailed-exitcode`: 0 when the broker already
/// holds everything the files declare, argument types included.
fn assert_nothing_to_change(vhost: &Vhost, fixture: &str) {
    let url = vhost.url();
    let plan = run(&["plan", fixture, "--connection", &url, "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "{fixture}: plan after the import\n{}{}",
        plan.stdout, plan.stderr
    );
}

/// The definitions of a fixture, imported into a fresh vhost through the management API,
/// are exactly what `plan` wants: the retry triple (the empty dead-letter exchange, a
/// quorum queue, an integer TTL), bindings carrying integer arguments (merge,
/// two-connections: its `db` half is not exported and not planned).
#[test]
fn imported_definitions_leave_nothing_to_plan() {
    for (fixture, tag) in [
        ("fixtures/retry-triple", "retry"),
        ("fixtures/merge", "merge"),
        ("fixtures/two-connections", "twoconn"),
    ] {
        let vhost = Vhost::new(&format!("export-{tag}"));
        let out = run(&["export", "definitions", fixture, "--vhost", &vhost.name]);
        assert_eq!(out.code, 0, "{fixture}: {}", out.stderr);
        let (status, body) = vhost.import_definitions(&out.stdout);
        assert!(
            (200..300).contains(&status),
            "{fixture}: import answered {status}: {body}\n{}",
            out.stdout
        );
        assert_nothing_to_change(&vhost, fixture);
    }
    // The integer binding argument arrived as an integer.
    let vhost = Vhost::new("export-types");
    let out = run(&["export", "definitions", "fixtures/two-connections"]);
    assert_eq!(vhost.import_definitions(&out.stdout).0, 204);
    let bindings = vhost.definitions()["bindings"].clone();
    let binding = bindings
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["source"] == "inbox.mdc")
        .unwrap_or_else(|| panic!("the binding was imported: {bindings}"));
    assert_eq!(binding["arguments"]["x-match-rate"], 60000);
    assert!(binding["arguments"]["x-match-rate"].is_i64());
}

/// The classic `rabbitmqadmin import FILE` (a global import: each entity goes to the vhost
/// its `vhost` field names) takes the document too. Only where that rabbitmqadmin is
/// installed: it is not needed to run the tool.
#[test]
fn rabbitmqadmin_imports_definitions() {
    let version = Command::new("rabbitmqadmin").arg("--version").output();
    let version = match version {
        Ok(v) => String::from_utf8_lossy(&v.stdout).into_owned(),
        Err(_) => {
            eprintln!("SKIPPED: rabbitmqadmin is not installed");
            return;
        }
    };
    if !version.starts_with("rabbitmqadmin 3.") {
        eprintln!("SKIPPED: only the classic rabbitmqadmin (3.x) is checked, not {version}");
        return;
    }
    let vhost = Vhost::new("export-admin");
    let out = run(&[
        "export",
        "definitions",
        "fixtures/retry-triple",
        "--vhost",
        &vhost.name,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("definitions.json");
    std::fs::write(&file, &out.stdout).unwrap();
    let import = Command::new("rabbitmqadmin")
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    assert_nothing_to_change(&vhost, "fixtures/retry-triple");
}

/// Whether Graphviz's `dot` runs; with `CI` set, a missing `dot` fails the test.
fn have_dot() -> bool {
    util::tool("dot", "-V", "graphviz")
}

/// `dot -Tsvg` of `text`: the SVG, or what dot said. A warning on stderr counts as a
/// failure (dot warns, and goes on, about attributes and syntax it does not know).
fn svg(text: &str) -> Result<String, String> {
    let out = util::with_stdin(Command::new("dot").arg("-Tsvg"), text);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() && stderr.is_empty() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{}: {stderr}", out.status))
    }
}

/// The first dialect under which `dir` lints without errors.
fn clean_dialect(dir: &Path) -> Option<&'static str> {
    ["magento", "rabbitmq"]
        .into_iter()
        .find(|dialect| run(&["lint", "--dialect", dialect, dir.to_str().unwrap()]).code == 0)
}

/// Graphviz draws every fixture directory that lints without errors (in either dialect),
/// and the whole Magento corpus; a fixture that lints with errors in both exports nothing.
#[test]
fn graphviz_draws_every_clean_fixture_and_the_corpus() {
    if !have_dot() {
        return;
    }
    let mut dirs: Vec<_> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("bad"))
        .collect();
    dirs.sort();
    let mut drawn = 0;
    for dir in &dirs {
        let path = dir.to_str().unwrap();
        match clean_dialect(dir) {
            Some(dialect) => {
                let out = run(&["export", "dot", "--dialect", dialect, path]);
                assert_eq!(out.code, 0, "{path}: {}", out.stderr);
                svg(&out.stdout).unwrap_or_else(|e| panic!("{path}: {e}\n{}", out.stdout));
                drawn += 1;
            }
            None => {
                let out = run(&["export", "dot", path]);
                assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{path}");
            }
        }
    }
    assert!(drawn >= 8, "only {drawn} of {} fixtures drawn", dirs.len());
    let Some(corpus) = util::corpus() else {
        eprintln!("SKIPPED: the Magento corpus is not on this machine");
        return;
    };
    let out = run(&["export", "dot", corpus.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let drawing = svg(&out.stdout).unwrap_or_else(|e| panic!("corpus: {e}"));
    // One cluster per connection: amqp, and Magento's db and stomp, which are greyed out.
    assert_eq!(drawing.matches("class=\"cluster\"").count(), 3, "{drawing}");
    assert_eq!(drawing.matches("not provisioned").count(), 2);
}

/// Names that mean something to either language are shown as they are: quotes,
/// backslashes, `<`, `>`, `&` (and an HTML entity), Mermaid's `#name;`, backticks, `|`,
/// and a line break (shown as `\n`, not breaking the label).
#[test]
fn names_are_escaped_in_both_languages() {
    let name = r#"q&quot;x\y&lt;b&gt;&amp;copy;#quot;`end`|"#;
    let queue = "line&#10;break";
    let dir = topology_dir(&format!(
        r#"<exchange name="{name}" type="topic" connection="amqp">
        <binding id="b" topic="k&quot;\n" destinationType="queue" destination="{queue}"/>
    </exchange>"#
    ));
    let path = dir.path().to_str().unwrap();
    let mermaid = run(&["export", "mermaid", "--dialect", "rabbitmq", path]);
    assert_eq!(mermaid.code, 0, "{}", mermaid.stderr);
    assert_eq!(
        mermaid.stdout,
        [
            "flowchart LR",
            "    subgraph c0[\"amqp\"]",
            r#"        c0e0{{"q#quot;x\y#lt;b#gt;#amp;copy;#35;quot;#96;end#96;#124;<br/>topic"}}"#,
            r#"        c0q0[("line\nbreak")]"#,
            r#"        c0e0 -->|"k#quot;\n"| c0q0"#,
            "    end",
            "",
        ]
        .join("\n")
    );
    if !have_dot() {
        return;
    }
    let dot = run(&["export", "dot", "--dialect", "rabbitmq", path]);
    assert_eq!(dot.code, 0, "{}", dot.stderr);
    let drawing = svg(&dot.stdout).unwrap_or_else(|e| panic!("{e}\n{}", dot.stdout));
    // The SVG's text, XML-escaped: what a reader sees is the name itself.
    for shown in [
        r#">q&quot;x\y&lt;b&gt;&amp;copy;#quot;`end`|<"#,
        r">line\nbreak<",
        r">k&quot;\n<",
    ] {
        assert!(drawing.contains(shown), "{shown} not in\n{drawing}");
    }
}

/// The retry triple as Mermaid: the main queue dead-letters to the retry exchange, whose
/// queue dead-letters back to the main queue through the default exchange: the loop.
#[test]
fn mermaid_of_the_retry_triple() {
    let out = run(&["export", "mermaid", "fixtures/retry-triple"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("mermaid_retry_triple", out.stdout);
    let doc = std::fs::read_to_string(root().join("docs/export.md")).unwrap();
    assert!(
        doc.contains(&format!("```mermaid\n{}```", out.stdout)),
        "docs/export.md shows this picture as it is"
    );
}

/// A connection that is not provisioned is greyed out; `--connection-name` draws it alone.
#[test]
fn pictures_grey_out_connections_not_provisioned() {
    let out = run(&["export", "mermaid", "fixtures/two-connections"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(&out.stdout, "subgraph c0[\"amqp\"]");
    assert!(out.stdout.contains("subgraph c1[\"db: not provisioned\"]"));
    assert!(out.stdout.contains("    class c1e0,c1q0 skipped\n"));
    let db = run(&[
        "export",
        "mermaid",
        "fixtures/two-connections",
        "--connection-name",
        "db",
    ]);
    assert_eq!(db.code, 0, "{}", db.stderr);
    assert!(db.stdout.contains("subgraph c0[\"db: not provisioned\"]"));
    assert!(!db.stdout.contains("amqp"), "{}", db.stdout);
}

/// A topology with errors exports nothing, in every format: its diagnostics on stderr,
/// exit 1.
#[test]
fn errors_export_nothing() {
    for format in ["definitions", "mermaid", "dot"] {
        let out = run(&["export", format, "fixtures/bad/topology"]);
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{format}");
        assert!(out.stderr.contains("error"), "{format}: {}", out.stderr);
    }
}

/// An unknown `--connection-name` is a usage error listing the connections the files use,
/// with a near miss suggested.
#[test]
fn unknown_connection_is_a_usage_error() {
    let out = run(&[
        "export",
        "definitions",
        "fixtures/two-connections",
        "--connection-name",
        "amqq",
    ]);
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "error: --connection-name amqq: no file uses a connection named `amqq` (did you mean `amqp`?); the files use `amqp`, `db`\n"
    );
    let out = run(&[
        "export",
        "dot",
        "fixtures/retry-triple",
        "--connection-name",
        "events",
    ]);
    assert_eq!(out.code, 64);
    assert!(
        out.stderr
            .contains("no file uses a connection named `events`; the files use `amqp`"),
        "{}",
        out.stderr
    );
}

/// Definitions of a connection that is not AMQP (Magento's `db`) are refused, whether it is
/// named or the default connection; `--vhost` belongs to definitions only.
#[test]
fn definitions_need_an_amqp_connection() {
    for args in [
        &["--connection-name", "db"][..],
        &["--default-connection", "db"][..],
    ] {
        let out = run(&[&["export", "definitions", "fixtures/two-connections"], args].concat());
        assert_eq!(out.code, 64, "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "");
        assert_contains(
            &out.stderr,
            "connection `db` is not an AMQP connection, so it has no RabbitMQ definitions: Magento's `db` connection is its MySQL queue",
        );
    }
    let out = run(&[
        "export",
        "mermaid",
        "fixtures/retry-triple",
        "--vhost",
        "shop",
    ]);
    assert_eq!((out.code, out.stdout.as_str()), (64, ""), "{}", out.stderr);
}

/// In a Magento install, the default connection is env.php's, and Magento's own `magento`
/// exchange is part of it; every entity names the vhost given.
#[test]
fn definitions_of_a_magento_install() {
    let out = run(&[
        "export",
        "definitions",
        "fixtures/magento-install",
        "--vhost",
        "shop",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let names = |list: &str| -> Vec<String> {
        doc[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("exchanges"), ["magento"]);
    assert_eq!(names("queues"), ["acme.base.sync"]);
    for list in ["exchanges", "queues", "bindings"] {
        for entity in doc[list].as_array().unwrap() {
            assert_eq!(entity["vhost"], "shop", "{entity}");
        }
    }
    let mut keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["bindings", "exchanges", "queues"],
        "only the entities"
    );
}
