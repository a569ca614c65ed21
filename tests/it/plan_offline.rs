//! `topology plan --offline`, and the merged topology of the whole Magento corpus.

use crate::util;

use crate::util::{assert_contains, offline_plan, run};

/// The merged topology of the whole corpus (modules and test modules) is what Magento's
/// installer declares. Worked out by hand from the corpus files; see the snapshot's review
/// notes in the issue. Exchanges `magento` on amqp (modules + test modules), db and stomp;
/// 8 response queues; `topic-queue1`/`topic-queue2` keep the last binding's arguments.
#[test]
fn magento_corpus_topology() {
    let Some(corpus) = util::corpus() else {
        eprintln!("SKIPPED: the Magento corpus is not on this machine");
        return;
    };
    let out = offline_plan("json", &[corpus.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    insta::assert_json_snapshot!("magento_corpus_topology", doc["topology"]);
    let changes = doc["changes"].as_array().unwrap();
    assert!(changes.iter().all(|c| c["action"] == "create"));
    assert_eq!(
        changes.len(),
        doc["topology"]["exchanges"].as_array().unwrap().len()
            + doc["topology"]["queues"].as_array().unwrap().len()
            + doc["topology"]["bindings"].as_array().unwrap().len()
    );
}

/// Offline plan, human: reads like terraform plan.
#[test]
fn offline_plan_human() {
    let out = run(&[
        "plan",
        "--offline",
        "--color",
        "never",
        "fixtures/retry-triple",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("plan_offline_retry_triple", out.stdout);
}

/// The proposal's priority case: one queue, from the <queue> element.
#[test]
fn first_class_queue_wins() {
    let doc = offline_plan("json", &["fixtures/proposal-priority"]).json();
    let queues = doc["topology"]["queues"].as_array().unwrap();
    assert_eq!(queues.len(), 1);
    assert_eq!(queues[0]["origin"], "queue");
    assert_eq!(queues[0]["arguments"]["x-dead-letter-exchange"], "my-dlx");
}

/// Backward compatibility: no <queue>, one inferred queue.
#[test]
fn backward_compatible_inferred_queue() {
    let doc = offline_plan("json", &["fixtures/proposal-backward-compat"]).json();
    let queues = doc["topology"]["queues"].as_array().unwrap();
    assert_eq!(queues.len(), 1);
    assert_eq!(queues[0]["origin"], "binding");
    assert_eq!(queues[0]["name"], "some-queue");
    assert_eq!(queues[0]["connection"], "amqp");
}

/// Mismatch: two queues, one per connection, both declared.
#[test]
fn mismatch_declares_both_queues() {
    let out = offline_plan("json", &["fixtures/proposal-connection-mismatch"]);
    assert_eq!(out.code, 1, "the proposal's TTL `arg-value` is an error");
    let doc = out.json();
    let queues: Vec<(&str, &str)> = doc["topology"]["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["connection"].as_str().unwrap(),
                q["origin"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(queues, [("amqp", "queue"), ("db", "binding")]);
}

/// --detailed-exitcode: offline, everything is a change.
#[test]
fn detailed_exitcode_offline() {
    assert_eq!(
        run(&[
            "plan",
            "--offline",
            "--detailed-exitcode",
            "--dialect",
            "rabbitmq",
            "fixtures/outbox"
        ])
        .code,
        2
    );
    assert_eq!(
        run(&[
            "plan",
            "--offline",
            "--dialect",
            "rabbitmq",
            "fixtures/outbox"
        ])
        .code,
        0
    );
}

/// No URL for a connection with entities is a usage error, not a silent offline plan.
#[test]
fn no_url_is_a_usage_error() {
    // Without a URL, `plan` does not fall back to offline: it says how to give one.
    let out = run(&["plan", "fixtures/retry-triple"]);
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("connection `amqp` has entities but no broker URL")
            && out.stderr.contains("--connection amqp=URL")
            && out.stderr.contains("TOPOLOGY_CONNECTION_AMQP")
            && out.stderr.contains("--offline"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    // Magento's `db` needs none: it is skipped; only `amqp` is named.
    let out = run(&["plan", "fixtures/two-connections"]);
    assert_eq!(out.code, 64, "{}", out.stderr);
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap();
    assert!(
        error.contains("`amqp`") && !error.contains("`db`"),
        "{error}"
    );
    // --offline stays the explicit way.
    let doc = offline_plan("json", &["--dialect", "rabbitmq", "fixtures/outbox"]).json();
    let actions: Vec<&str> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert!(!actions.is_empty());
    assert!(actions.iter().all(|a| *a == "create"));
    // exchange-to-exchange binding
    let b = &doc["topology"]["bindings"][0];
    assert_eq!(b["destination_type"], "exchange");
    assert_eq!(b["destination"], "finance.inbox");
}

/// `plan --offline --format markdown ARGS…`.
fn offline_markdown(args: &[&str]) -> util::Output {
    offline_plan("markdown", args)
}

/// The offline plan as a pull-request comment (`--format markdown`): heading, summary,
/// one table row per entity, the offline note; the exit codes of the human format.
#[test]
fn offline_plan_markdown() {
    let out = offline_markdown(&["fixtures/retry-triple"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("plan_offline_retry_triple_markdown", out.stdout);
    let detailed = offline_markdown(&["--detailed-exitcode", "fixtures/retry-triple"]);
    assert_eq!(detailed.code, 2, "{}", detailed.stderr);
    let broken = offline_markdown(&["fixtures/bad/arguments"]);
    assert_eq!(broken.code, 1, "{}", broken.stderr);
    assert_contains(
        &broken.stdout,
        "| **error** | <code>argument-range</code> | <code>fixtures/bad/arguments/queue\\_topology.xml:7:69</code> |",
    );
}

/// Names from a vendor's file cannot break the Markdown table nor inject HTML: a GFM parser
/// reads every row with five cells, finds no HTML but the renderer's own tags, and gives
/// each name back as it was (a line break shown as `\n`).
#[test]
fn markdown_escapes_hostile_names() {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let exchange = "ex|pipe`tick<script>alert(1)</script>&amp;";
    let dir = util::topology_dir(
        r#"<exchange name="ex|pipe`tick&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;" connection="amqp">
             <binding id="b" topic="k|*_[x](y)" destination="q&#10;| injected | row |"/>
           </exchange>
           <queue name="@octocat ~~gone~~ \" connection="amqp"/>"#,
    );
    let out = offline_markdown(&[dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("<script"), "{}", out.stdout);

    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut html = Vec::new();
    for event in Parser::new_ext(&out.stdout, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::TableRow | Tag::TableHead) => rows.push(Vec::new()),
            Event::Start(Tag::TableCell) => rows.last_mut().unwrap().push(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(cell) = rows.last_mut().and_then(|r| r.last_mut()) {
                    cell.push_str(&t);
                }
            }
            Event::Html(h) | Event::InlineHtml(h) => html.push(h.to_string()),
            Event::End(TagEnd::Table) => {}
            _ => {}
        }
    }
    let allowed = ["<code>", "</code>"];
    assert!(
        html.iter().all(|h| allowed.contains(&h.trim())),
        "{html:?}\n{}",
        out.stdout
    );
    assert_eq!(rows.len(), 5, "header and four entities: {rows:?}");
    assert!(rows.iter().all(|r| r.len() == 5), "{rows:?}");
    let names: Vec<&str> = rows[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(
        names,
        [
            exchange,
            "@octocat ~~gone~~ \\",
            "q\\n| injected | row |",
            &format!("{exchange} -> q\\n| injected | row | [k|*_[x](y)]"),
        ]
    );
}
