//! `plan` and `apply` against the real RabbitMQ on 127.0.0.1 (started by scripts/test.sh).
//! Each test has its own vhost, removed afterwards.

use crate::util;

use std::time::{Duration, Instant};

use crate::util::{Vhost, actions, assert_contains, run, topology_dir};
use serde_json::json;

fn plan_json(vhost: &Vhost, path: &str, extra: &[&str]) -> util::Output {
    plan(vhost, path, &[&["--format", "json"], extra].concat())
}

/// `plan PATH --connection <vhost's URL> EXTRA…`, human output.
fn plan(vhost: &Vhost, path: &str, extra: &[&str]) -> util::Output {
    let url = vhost.url();
    run(&[&["plan", path, "--connection", &url], extra].concat())
}

fn apply(vhost: &Vhost, path: &str, extra: &[&str]) -> util::Output {
    let url = vhost.url();
    run(&[&["apply", path, "--connection", &url], extra].concat())
}

/// Exchange `ex` bound (`a`, and `bindings`) to queue `q1` of x-message-ttl `ttl`; `more`
/// between them.
fn ttl_topology(ttl: u32, bindings: &str, more: &str) -> tempfile::TempDir {
    topology_dir(&format!(
        r#"<exchange name="ex"><binding id="a" topic="a" destination="q1"/>{bindings}</exchange>{more}
           <queue name="q1"><arguments><argument name="x-message-ttl" xsi:type="number">{ttl}</argument></arguments></queue>"#
    ))
}

/// `topology COMMAND --dialect rabbitmq fixtures/outbox --connection CONNECTION MORE…`.
fn outbox(command: &str, connection: &str, more: &[&str]) -> util::Output {
    let args = ["--dialect", "rabbitmq", "fixtures/outbox", "--connection"];
    run(&[&[command][..], &args, &[connection], more].concat())
}

fn count(doc: &serde_json::Value, action: &str) -> usize {
    actions(doc).iter().filter(|a| a.0 == action).count()
}

/// The names of the unmanaged entities of a JSON plan.
fn unmanaged(doc: &serde_json::Value) -> Vec<&str> {
    doc["unmanaged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect()
}

/// apply, then plan: nothing to do; --detailed-exitcode says so.
#[test]
fn apply_then_plan_shows_nothing_to_do() {
    let v = Vhost::new("noop");
    let out = apply(&v, "fixtures/retry-triple", &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // Terraform-style: each entity, in plan order, then a summary.
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0], "+ exchange orders on `amqp`: created",
        "{}",
        out.stdout
    );
    assert!(
        lines.contains(&"+ binding orders.retry -> orders.retry [orders.main] on `amqp`: created"),
        "{}",
        out.stdout
    );
    assert_contains(
        &out.stdout,
        "Apply complete: 9 created (3 exchanges, 3 queues, 3 bindings).",
    );
    let doc = plan_json(&v, "fixtures/retry-triple", &[]).json();
    assert_eq!(count(&doc, "unchanged"), 9, "{:?}", actions(&doc));
    let url = v.url();
    let detailed = plan(&v, "fixtures/retry-triple", &["--detailed-exitcode"]);
    assert_eq!(detailed.code, 0, "{}", detailed.stderr);
    let verbose = run(&["plan", "-v", "fixtures/retry-triple", "--connection", &url]);
    assert_contains(&verbose.stdout, "  = queue orders.main");
    assert_contains(&verbose.stdout, "no changes: 9 entities are up to date");
    let again = apply(&v, "fixtures/retry-triple", &[]);
    assert_eq!(again.code, 0);
    assert_contains(&again.stdout, "Nothing to do");
    // What the broker holds is what the files declare.
    let defs = v.definitions();
    let retry = defs["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "orders.retry")
        .unwrap();
    assert_eq!(retry["arguments"]["x-message-ttl"], 30000);
    assert_eq!(defs["bindings"].as_array().unwrap().len(), 3);
}

/// What the management API lists reads back as it was applied: a quorum queue, a queue with
/// arguments, an exchange-to-exchange binding and bindings with arguments (string and
/// integer, on a headers exchange) are all `unchanged` after apply. An exclusive queue a
/// client holds, and its binding, are not listed as unmanaged (RabbitMQ's definitions
/// export leaves them out too: they go with their connection); a binding from `amq.topic`
/// made by hand is. (Magento declares neither exchange-to-exchange bindings nor headers
/// exchanges: the RabbitMQ dialect.)
#[test]
fn every_kind_of_definition_reads_back_unchanged() {
    let v = Vhost::new("readback");
    let files = topology_dir(
        r#"<exchange name="events" type="topic">
             <binding id="e2e" topic="student.*" destinationType="exchange" destination="inbox"/>
             <binding id="ttl" topic="order.*" destination="orders.ttl">
               <arguments><argument name="x-note" xsi:type="string">kept</argument></arguments>
             </binding>
           </exchange>
           <exchange name="inbox" type="headers">
             <binding id="h" topic="" destination="orders.qq">
               <arguments>
                 <argument name="x-match" xsi:type="string">all</argument>
                 <argument name="tenant" xsi:type="number">7</argument>
               </arguments>
             </binding>
           </exchange>
           <queue name="orders.qq"><arguments>
             <argument name="x-queue-type" xsi:type="string">quorum</argument>
             <argument name="x-delivery-limit" xsi:type="number">5</argument>
           </arguments></queue>
           <queue name="orders.ttl"><arguments>
             <argument name="x-message-ttl" xsi:type="number">60000</argument>
             <argument name="x-dead-letter-exchange" xsi:type="string">events</argument>
           </arguments></queue>"#,
    );
    let p = files.path().to_str().unwrap();
    let rabbitmq = ["--dialect", "rabbitmq"];
    let out = apply(&v, p, &rabbitmq);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let rt = util::amqp::runtime();
    let client = rt.block_on(util::amqp::connect(&v.name, "exclusive-holder"));
    rt.block_on(async {
        let ch = client.create_channel().await.unwrap();
        let exclusive = lapin::options::QueueDeclareOptions {
            exclusive: true,
            ..Default::default()
        };
        let none = lapin::types::FieldTable::default;
        ch.queue_declare("mine".into(), exclusive, none())
            .await
            .unwrap();
        ch.queue_bind(
            "mine".into(),
            "events".into(),
            "#".into(),
            Default::default(),
            none(),
        )
        .await
        .unwrap();
    });
    v.request(
        "POST",
        "/bindings/{vhost}/e/amq.topic/q/orders.ttl",
        json!({"routing_key": "by-hand", "arguments": {}}),
    );

    let doc = plan_json(&v, p, &rabbitmq).json();
    let all = actions(&doc);
    assert_eq!(count(&doc, "unchanged"), 7, "{all:?}");
    assert_eq!(all.len(), 7, "{all:?}");
    let unmanaged = unmanaged(&doc);
    assert_eq!(unmanaged, ["amq.topic -> orders.ttl [by-hand]"], "{doc}");
    assert_eq!(
        plan(&v, p, &[&rabbitmq[..], &["--detailed-exitcode"]].concat()).code,
        0
    );
    rt.block_on(client.close(0, "done".into())).unwrap();
}

/// With more than a thousand exchanges the bindings are read in one listing of the vhost
/// rather than one request per exchange: the plan reads the same.
#[test]
fn a_vhost_of_many_exchanges_reads_back_unchanged() {
    let v = Vhost::new("manyexchanges");
    let mut xml = String::new();
    for i in 0..1001 {
        xml.push_str(&format!(
            r#"<exchange name="e{i:04}"><binding id="b" topic="t.{i}" destination="q"/></exchange>"#
        ));
    }
    let files = topology_dir(&xml);
    let p = files.path().to_str().unwrap();
    let out = apply(&v, p, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    v.request(
        "POST",
        "/bindings/{vhost}/e/e0500/q/q",
        json!({"routing_key": "by-hand", "arguments": {}}),
    );
    let doc = plan_json(&v, p, &[]).json();
    assert_eq!(count(&doc, "unchanged"), 2003, "{:?}", doc["summary"]);
    assert_eq!(actions(&doc).len(), 2003);
    let unmanaged = unmanaged(&doc);
    assert_eq!(unmanaged, ["e0500 -> q [by-hand]"], "{doc}");
}

/// Each kind of change: a new exchange (create), a queue whose TTL changed (replace, with
/// both values), a new binding (create); --detailed-exitcode exits 2.
#[test]
fn each_kind_of_change() {
    let v = Vhost::new("kinds");
    let before = ttl_topology(5000, "", "");
    assert_eq!(apply(&v, before.path().to_str().unwrap(), &[]).code, 0);
    let after = ttl_topology(
        6000,
        r#"<binding id="b" topic="b" destination="q1"/>"#,
        r#"<exchange name="ex2" durable="false"/>"#,
    );
    let p = after.path().to_str().unwrap();
    let doc = plan_json(&v, p, &[]).json();
    assert_eq!(
        actions(&doc),
        [
            ("unchanged".into(), "exchange".into(), "ex".into()),
            ("create".into(), "exchange".into(), "ex2".into()),
            ("replace".into(), "queue".into(), "q1".into()),
            ("unchanged".into(), "binding".into(), "ex -> q1 [a]".into()),
            ("create".into(), "binding".into(), "ex -> q1 [b]".into()),
        ]
    );
    let q = &doc["changes"][2];
    assert_eq!(
        q["differences"],
        json!([{"property": "arguments.x-message-ttl", "broker": 5000, "ours": 6000}])
    );
    let url = v.url();
    assert_eq!(
        run(&["plan", p, "--connection", &url, "--detailed-exitcode"]).code,
        2
    );
    let human = run(&["plan", p, "--connection", &url, "--color", "never"]);
    assert!(
        human.stdout.contains("-/+ queue q1 (replace: x-message-ttl 5000 → 6000; 0 messages will be moved, 0 consumers)"),
        "{}",
        human.stdout
    );
    assert_contains(&human.stdout, "arguments.x-message-ttl: 5000 => 6000");
    assert_contains(&human.stdout, "  + exchange ex2");
}

/// Drift RabbitMQ itself ignores on redeclare: a custom queue argument and an exchange
/// argument other than alternate-exchange.
#[test]
fn custom_argument_drift_is_reported() {
    let v = Vhost::new("drift");
    v.request(
        "PUT",
        "/exchanges/{vhost}/ex",
        json!({"type": "topic", "durable": true, "arguments": {"x-custom": "old"}}),
    );
    v.request(
        "PUT",
        "/queues/{vhost}/q",
        json!({"durable": true, "arguments": {"x-team": "a"}}),
    );
    let files = topology_dir(r#"<exchange name="ex"/><queue name="q"/>"#);
    let doc = plan_json(&v, files.path().to_str().unwrap(), &[]).json();
    assert_eq!(count(&doc, "replace"), 2, "{:?}", actions(&doc));
    assert_eq!(
        doc["changes"][0]["differences"],
        json!([{"property": "arguments.x-custom", "broker": "old", "ours": null}])
    );
    assert_eq!(
        doc["changes"][1]["differences"],
        json!([{"property": "arguments.x-team", "broker": "a", "ours": null}])
    );
}

/// replace is refused without --allow-recreate; with it, a queue holding a message is
/// swapped: the message and every binding (those the files do not declare too) come back.
#[test]
fn replace_is_safe() {
    let v = Vhost::new("replace");
    let files = |ttl: u32| {
        topology_dir(&format!(
            r#"<exchange name="ex"><binding id="a" topic="a.#" destination="q"/></exchange>
               <exchange name="other"/>
               <queue name="q"><arguments><argument name="x-message-ttl" xsi:type="number">{ttl}</argument></arguments></queue>"#
        ))
    };
    let first = files(5000);
    assert_eq!(apply(&v, first.path().to_str().unwrap(), &[]).code, 0);
    // a binding the files do not declare, to the same queue: restored too
    v.request(
        "POST",
        "/bindings/{vhost}/e/other/q/q",
        json!({"routing_key": "x", "arguments": {}}),
    );
    let second = files(9000);
    let p = second.path().to_str().unwrap();

    let refused = apply(&v, p, &[]);
    assert_eq!(refused.code, 1);
    assert_contains(&refused.stderr, "--allow-recreate");
    let ttl = |v: &Vhost| v.definitions()["queues"][0]["arguments"]["x-message-ttl"].clone();
    assert_eq!(ttl(&v), 5000, "nothing was applied");

    v.publish("q");
    let human = run(&["plan", p, "--connection", &v.url(), "--color", "never"]);
    assert_contains(&human.stdout, "1 message will be moved");
    let done = apply(&v, p, &["--allow-recreate"]);
    assert_eq!(done.code, 0, "{}{}", done.stdout, done.stderr);
    assert_contains(&done.stdout, "1 message moved");
    assert_eq!(v.messages("q"), 1, "the message went aside and came back");
    assert_eq!(ttl(&v), 9000);
    let queues: Vec<String> = v.definitions()["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(queues, ["q"], "no holding queue left");
    let bindings: Vec<(String, String)> = v.definitions()["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["source"].as_str().unwrap().into(),
                b["routing_key"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        bindings.contains(&("ex".into(), "a.#".into())),
        "{bindings:?}"
    );
    assert!(
        bindings.contains(&("other".into(), "x".into())),
        "{bindings:?}"
    );
    let doc = plan_json(&v, p, &[]).json();
    assert_eq!(
        count(&doc, "replace") + count(&doc, "create"),
        0,
        "{:?}",
        actions(&doc)
    );
}

/// Quorum queues do not support delete-if-empty: the swap checks the conditions itself; the
/// message and the binding come back to the new queue.
#[test]
fn quorum_replace_keeps_messages() {
    let v = Vhost::new("quorum");
    let files = |limit: u32| {
        topology_dir(&format!(
            r#"<exchange name="ex"><binding id="a" topic="a" destination="q"/></exchange>
               <queue name="q"><arguments><argument name="x-queue-type" xsi:type="string">quorum</argument>
               <argument name="x-delivery-limit" xsi:type="number">{limit}</argument></arguments></queue>"#
        ))
    };
    let first = files(3);
    assert_eq!(apply(&v, first.path().to_str().unwrap(), &[]).code, 0);
    v.publish("q");
    let second = files(5);
    let out = apply(&v, second.path().to_str().unwrap(), &["--allow-recreate"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(v.messages("q"), 1);
    let defs = v.definitions();
    assert_eq!(defs["queues"][0]["arguments"]["x-delivery-limit"], 5);
    let bindings = defs["bindings"].as_array().unwrap().len();
    assert_eq!(bindings, 1, "the binding was put back");
}

/// Unmanaged entities are listed apart and left alone; --prune deletes them, but never a
/// queue holding a message.
#[test]
fn prune() {
    let v = Vhost::new("prune");
    let files = topology_dir(
        r#"<exchange name="ex"><binding id="a" topic="a" destination="q"/></exchange>"#,
    );
    let p = files.path().to_str().unwrap();
    assert_eq!(apply(&v, p, &[]).code, 0);
    v.request(
        "PUT",
        "/exchanges/{vhost}/stray-ex",
        json!({"type": "fanout", "durable": true}),
    );
    v.request(
        "PUT",
        "/queues/{vhost}/stray-empty",
        json!({"durable": true}),
    );
    v.request(
        "PUT",
        "/queues/{vhost}/stray-full",
        json!({"durable": true}),
    );
    v.request(
        "POST",
        "/bindings/{vhost}/e/ex/q/q",
        json!({"routing_key": "stray", "arguments": {}}),
    );
    v.request(
        "PUT",
        "/queues/{vhost}/stray-quorum",
        json!({"durable": true, "arguments": {"x-queue-type": "quorum"}}),
    );
    v.publish("stray-full");

    let doc = plan_json(&v, p, &[]).json();
    let unmanaged = unmanaged(&doc);
    assert_eq!(
        unmanaged,
        [
            "stray-ex",
            "stray-empty",
            "stray-full",
            "stray-quorum",
            "ex -> q [stray]"
        ]
    );
    // Unmanaged entities are not changes: no action; a queue says what it holds.
    util::assert_valid(&util::validator("plan.schema.json"), &doc, "unmanaged");
    for u in doc["unmanaged"].as_array().unwrap() {
        assert!(u.get("action").is_none(), "{u}");
    }
    let full = doc["unmanaged"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "stray-full")
        .unwrap();
    assert_eq!(full["messages"], 1, "{full}");
    assert_eq!(count(&doc, "delete"), 0);
    assert_eq!(apply(&v, p, &[]).code, 0);
    assert_eq!(
        v.definitions()["queues"].as_array().unwrap().len(),
        4,
        "untouched without --prune"
    );

    let pruned = plan_json(&v, p, &["--prune"]).json();
    let deletes: Vec<String> = actions(&pruned)
        .into_iter()
        .filter(|a| a.0 == "delete")
        .map(|a| a.2)
        .collect();
    assert_eq!(
        deletes,
        ["stray-ex", "stray-empty", "stray-quorum", "ex -> q [stray]"]
    );
    let out = apply(&v, p, &["--prune"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let defs = v.definitions();
    let queues: Vec<&str> = defs["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert!(
        queues.contains(&"stray-full") && queues.contains(&"q"),
        "{queues:?}"
    );
    assert!(
        !queues.contains(&"stray-empty") && !queues.contains(&"stray-quorum"),
        "{queues:?}"
    );
    assert_eq!(v.messages("stray-full"), 1);
    assert_eq!(defs["exchanges"].as_array().unwrap().len(), 1);
    assert_eq!(defs["bindings"].as_array().unwrap().len(), 1);
}

/// A saved plan means what it says: `apply --plan` reads the paths and options recorded in it
/// (no PATH), takes the broker URL from the environment, and applies it while the brokers
/// still need exactly those changes. A new unrelated queue does not void it.
#[test]
fn saved_plan_is_applied_with_its_paths_and_the_environment() {
    let v = Vhost::new("saved");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let s = saved.to_str().unwrap();
    let url = v.url();
    let out = outbox("plan", &url, &["--out", s]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(
        written["connections"],
        json!(["amqp"]),
        "the connections the files use"
    );
    v.request(
        "PUT",
        "/queues/{vhost}/someone-else",
        json!({"durable": true}),
    );
    let env_url = url
        .split_once('=')
        .map(|(_, u)| u.to_string())
        .unwrap_or(url.clone());
    let ok = util::run_in(
        &util::root(),
        &["apply", "--plan", s],
        &[("TOPOLOGY_CONNECTION_AMQP", &env_url)],
    );
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(
        v.definitions()["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "finance.inbox"),
        "the outbox's exchanges exist"
    );
    // A PATH beside --plan is a usage error: the plan says which files.
    let both = run(&[
        "apply",
        "fixtures/outbox",
        "--plan",
        s,
        "--connection",
        &url,
    ]);
    assert_eq!(both.code, 64, "{}", both.stderr);
}

/// A saved plan is refused, naming what changed, when a file changed since, or when the
/// broker changed something the plan touches; nothing is applied then.
#[test]
fn stale_saved_plans_are_refused_naming_what_changed() {
    let v = Vhost::new("stale");
    let url = v.url();
    let files = tempfile::tempdir().unwrap();
    let topology = files.path().join("queue_topology.xml");
    std::fs::copy(
        util::root().join("fixtures/retry-triple/queue_topology.xml"),
        &topology,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let s = saved.to_str().unwrap();
    let p = files.path().to_str().unwrap();
    assert_eq!(run(&["plan", p, "--connection", &url, "--out", s]).code, 0);

    // The broker: someone declares orders.main, which the plan creates, with other arguments.
    v.request(
        "PUT",
        "/queues/{vhost}/orders.main",
        json!({"durable": true, "arguments": {"x-message-ttl": 1000}}),
    );
    let stale = run(&["apply", "--plan", s, "--connection", &url]);
    assert_eq!(stale.code, 1, "{}", stale.stderr);
    assert_contains(
        &stale.stderr,
        "queue `orders.main` on `amqp`: planned create, now replace",
    );
    let exchanges = || -> Vec<String> {
        v.definitions()["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        !exchanges().contains(&"orders".to_string()),
        "nothing applied"
    );

    // The files: a changed file is named.
    v.request("DELETE", "/queues/{vhost}/orders.main", json!({}));
    assert_eq!(run(&["plan", p, "--connection", &url, "--out", s]).code, 0);
    let text = std::fs::read_to_string(&topology).unwrap();
    std::fs::write(&topology, text.replace("30000", "31000")).unwrap();
    let changed = run(&["apply", "--plan", s, "--connection", &url]);
    assert_eq!(changed.code, 1, "{}", changed.stderr);
    assert!(
        changed.stderr.contains("the files changed")
            && changed.stderr.contains("queue_topology.xml` changed"),
        "{}",
        changed.stderr
    );
    assert!(
        !exchanges().contains(&"orders".to_string()),
        "nothing applied"
    );

    // Not a plan at all: a usage error.
    std::fs::write(&saved, "{}").unwrap();
    let bad = run(&["apply", "--plan", s, "--connection", &url]);
    assert_eq!(bad.code, 64, "{}", bad.stderr);
}

/// Wrong password, closed port, missing vhost: exit 69, quickly, password never shown.
#[test]
fn unreachable_or_refused_is_69() {
    let cases = [
        (
            "amqp=amqp://guest:wrong-secret@127.0.0.1:5672/%2f",
            "ACCESS_REFUSED",
        ),
        ("amqp=amqp://guest:wrong-secret@127.0.0.1:1/%2f", "refused"),
        (
            "amqp=amqp://guest:guest@127.0.0.1:5672/no-such-vhost-here",
            "vhost",
        ),
        // TLS to the plain port: said in the user's terms, not the TLS stack's.
        (
            "amqp=amqps://guest:wrong-secret@127.0.0.1:5672/%2f",
            "the port does not speak TLS",
        ),
    ];
    for (url, says) in cases {
        let start = Instant::now();
        let out = outbox("plan", url, &["--timeout", "5"]);
        assert_eq!(out.code, 69, "{url}: {}{}", out.stdout, out.stderr);
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "{url} took {:?}",
            start.elapsed()
        );
        assert!(out.stderr.contains(says), "{url}: {}", out.stderr);
        assert!(!out.stderr.contains("wrong-secret") && !out.stdout.contains("wrong-secret"));
        let applied = outbox("apply", url, &["--timeout", "5"]);
        assert_eq!(applied.code, 69);
    }
}

/// The proposal's two-connection case: `db` has no URL and is skipped with the reason;
/// `amqp` is applied; the same queue name on both is reported.
#[test]
fn two_connections_with_db_skipped() {
    let v = Vhost::new("twoconn");
    let out = plan_json(&v, "fixtures/two-connections", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let skipped: Vec<_> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "skip")
        .collect();
    assert_eq!(skipped.len(), 3, "exchange, queue and binding on db");
    assert!(skipped.iter().all(|c| c["connection"] == "db"));
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("TOPOLOGY_CONNECTION_DB")
    );
    assert!(
        doc["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("defined in two connections")
    );
    let applied = apply(&v, "fixtures/two-connections", &[]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let queues = v.definitions()["queues"].as_array().unwrap().clone();
    assert_eq!(queues.len(), 1);
    assert_eq!(queues[0]["arguments"]["x-message-ttl"], 60000);
}

/// Integer binding arguments are sent as signed 64-bit: applying twice does not add a
/// second, identical-looking binding.
#[test]
fn binding_arguments_never_duplicate() {
    let v = Vhost::new("bindargs");
    for _ in 0..2 {
        assert_eq!(apply(&v, "fixtures/two-connections", &[]).code, 0);
    }
    let url = v.url();
    // Also through the environment variable.
    let env = run_env(
        &["apply", "fixtures/two-connections"],
        &[("TOPOLOGY_CONNECTION_AMQP", &url[5..])],
    );
    assert_eq!(env.code, 0, "{}", env.stderr);
    assert_eq!(v.definitions()["bindings"].as_array().unwrap().len(), 1);
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> util::Output {
    util::run_in(&util::root(), args, env)
}

/// A management API that accepts connections but never answers is an error (69) after
/// --timeout, not a silent fall-back to probes; a cluster's management API fails over to the
/// next node when nothing listens at the first.
#[test]
fn management_api_silence_is_an_error_and_nodes_fail_over() {
    let v = Vhost::new("mgmt-silent");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        // Accept and hold every connection without a byte of answer.
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    let silent = format!("amqp=http://127.0.0.1:{port}");
    let out = plan(
        &v,
        "fixtures/retry-triple",
        &["--management", &silent, "--timeout", "1"],
    );
    assert_eq!(out.code, 69, "{}{}", out.stdout, out.stderr);
    assert_contains(&out.stderr, "did not answer within the deadline");
    assert!(!out.stderr.contains("AMQP probes"), "{}", out.stderr);

    let nodes = "amqp=http://127.0.0.1:1,http://127.0.0.1:15672";
    let out = plan(&v, "fixtures/retry-triple", &["--management", nodes]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("Read `amqp` from the management API (http://127.0.0.1:15672/api)."),
        "{}",
        out.stdout
    );
}

/// Without the management API, plan falls back to AMQP probes and says what it cannot see.
#[test]
fn probe_mode_without_management() {
    let v = Vhost::new("probe");
    assert_eq!(apply(&v, "fixtures/retry-triple", &[]).code, 0);
    let url = v.url();
    let out = plan(
        &v,
        "fixtures/retry-triple",
        &[
            "--management",
            "amqp=http://127.0.0.1:1",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_contains(&out.stderr, "AMQP probes");
    let doc = out.json();
    let exq: Vec<_> = actions(&doc)
        .into_iter()
        .filter(|a| a.1 != "binding")
        .collect();
    assert!(exq.iter().all(|a| a.0 == "unchanged"), "{exq:?}");
    // Bindings cannot be seen: `unverified`, not `create`, and not pending changes.
    let bindings: Vec<_> = actions(&doc)
        .into_iter()
        .filter(|a| a.1 == "binding")
        .collect();
    assert_eq!(bindings.len(), 3);
    assert!(bindings.iter().all(|a| a.0 == "unverified"), "{bindings:?}");
    util::assert_valid(
        &util::validator("plan.schema.json"),
        &doc,
        "probe-mode plan",
    );
    let asked = plan(
        &v,
        "fixtures/retry-triple",
        &["--no-management", "--detailed-exitcode"],
    );
    assert_eq!(asked.code, 0, "{}{}", asked.stdout, asked.stderr);
    assert!(
        asked
            .stdout
            .starts_with("Read `amqp` from AMQP probes, because --no-management asks for them"),
        "{}",
        asked.stdout
    );
    let refused = plan(
        &v,
        "fixtures/retry-triple",
        &["--management", "amqp=http://127.0.0.1:1"],
    );
    assert!(
        refused.stdout.starts_with(
            "Read `amqp` from AMQP probes, because nothing listens at the management API http://127.0.0.1:1/api"
        ),
        "{}",
        refused.stdout
    );
    // apply binds them again: harmless, and the broker still has exactly three.
    let out = apply(&v, "fixtures/retry-triple", &["--no-management"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(v.definitions()["bindings"].as_array().unwrap().len(), 3);
    // A queue whose TTL differs: the broker's own answer explains the replace.
    let drift = topology_dir(
        r#"<queue name="orders.retry"><arguments><argument name="x-message-ttl" xsi:type="number">1</argument>
        <argument name="x-dead-letter-exchange" xsi:type="string"></argument>
        <argument name="x-dead-letter-routing-key" xsi:type="string">orders.main</argument></arguments></queue>"#,
    );
    let out = run(&[
        "plan",
        drift.path().to_str().unwrap(),
        "--connection",
        &url,
        "--management",
        "amqp=http://127.0.0.1:1",
        "--format",
        "json",
    ]);
    let doc = out.json();
    assert_eq!(doc["changes"][0]["action"], "replace");
    assert!(
        doc["changes"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("inequivalent arg 'x-message-ttl'"),
        "{}",
        doc["changes"][0]
    );
}

/// Two applies of the same files at once both succeed and end in the same topology.
#[test]
fn concurrent_applies_converge() {
    let v = Vhost::new("concurrent");
    let url = v.url();
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_topology"))
            .args(["apply", "fixtures/retry-triple", "--connection", &url])
            .current_dir(util::root())
            .output()
            .unwrap()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let doc = plan_json(&v, "fixtures/retry-triple", &[]).json();
    assert_eq!(count(&doc, "unchanged"), 9);
    assert_eq!(v.definitions()["bindings"].as_array().unwrap().len(), 3);
}

/// A topology with errors is never sent: apply exits 1 and the vhost stays empty.
#[test]
fn errors_are_never_applied() {
    let v = Vhost::new("errors");
    let out = apply(&v, "fixtures/bad/arguments", &[]);
    assert_eq!(out.code, 1);
    assert!(v.definitions()["queues"].as_array().unwrap().is_empty());
}

/// Several node URLs for one connection: the first that answers is used.
#[test]
fn cluster_urls_fall_through_to_a_live_node() {
    let v = Vhost::new("cluster");
    let url = format!(
        "amqp=amqp://guest:guest@127.0.0.1:1/{0},amqp://guest:guest@127.0.0.1:5672/{0}",
        v.name
    );
    let out = outbox("apply", &url, &["--timeout", "3"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(v.definitions()["exchanges"].as_array().unwrap().len(), 2);
}

/// TLS options name files; one that cannot be read is a usage error.
#[test]
fn unreadable_tls_file_is_a_usage_error() {
    let out = outbox(
        "plan",
        "amqp=amqps://guest:guest@127.0.0.1:5671/%2f",
        &["--ca-file", "/nonexistent/ca.pem"],
    );
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert_contains(&out.stderr, "cannot read CA file");
}

/// `apply --format json` is the plan document plus the steps taken, valid against its schema.
#[test]
fn apply_json_matches_the_schema() {
    let v = Vhost::new("applyjson");
    let out = apply(
        &v,
        "fixtures/outbox",
        &["--format", "json", "--dialect", "rabbitmq"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(util::root().join("schemas/plan.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let applied: Vec<(&str, &str)> = doc["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        applied,
        [
            ("events", "done"),
            ("finance.inbox", "done"),
            ("finance.student-registered", "done"),
            ("events -> finance.inbox [student.*]", "done"),
            (
                "finance.inbox -> finance.student-registered [student.registered]",
                "done"
            ),
        ]
    );
}

/// 1,000 queues and bindings: `name`'s TTL for queue `q{i}` when `ttl(i)` says one.
fn many(n: usize, ttl: impl Fn(usize) -> Option<u32>) -> tempfile::TempDir {
    let mut xml = String::from(r#"<exchange name="big" connection="amqp">"#);
    for i in 0..n {
        xml.push_str(&format!(
            r#"<binding id="b{i}" topic="t.{i}" destination="q{i:04}"/>"#
        ));
    }
    xml.push_str("</exchange>\n");
    for i in 0..n {
        if let Some(ttl) = ttl(i) {
            xml.push_str(&format!(
                r#"<queue name="q{i:04}"><arguments><argument name="x-message-ttl" xsi:type="number">{ttl}</argument></arguments></queue>"#
            ));
        }
    }
    topology_dir(&xml)
}

/// The human plan at a large size reads like a small one: unchanged entities counted, not
/// listed; the replace says which attribute forces it; `--only` filters what is listed while
/// the summary still counts everything. Reviewed as hand-written.
#[test]
fn human_plan_at_a_large_size() {
    let v = Vhost::new("bigplan");
    let before = many(1000, |i| (i == 7).then_some(1000));
    assert_eq!(apply(&v, before.path().to_str().unwrap(), &[]).code, 0);
    let after = many(1001, |i| (i == 7).then_some(2000));
    let p = after.path().to_str().unwrap();
    let out = plan(&v, p, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown = out.stdout.replace(&v.name, "<vhost>");
    insta::assert_snapshot!("human_plan_large", shown);
    let only = plan(&v, p, &["--only", "replace"]);
    assert!(!only.stdout.contains("+ queue q1000"), "{}", only.stdout);
    assert_contains(&only.stdout, "-/+ queue q0007");
    assert!(
        only.stdout
            .contains("Plan: 2 to create, 1 to replace, 0 to delete; 2,000 unchanged; 0 warnings."),
        "{}",
        only.stdout
    );
}

/// A binding whose arguments changed is a replace of that binding (not a create beside an
/// unmanaged one; the queue is declared apart, as a binding's arguments are otherwise the
/// inferred queue's too): apply binds the new one, then unbinds the old one, without
/// --allow-recreate; afterwards the broker has exactly the new binding.
#[test]
fn a_changed_binding_argument_is_a_replace_of_that_binding() {
    let v = Vhost::new("bindargs");
    let with = |value: &str| {
        topology_dir(&format!(
            r#"<exchange name="ex"><binding id="a" topic="k" destination="q"><arguments><argument name="x-note" xsi:type="string">{value}</argument></arguments></binding></exchange>
               <queue name="q"/>"#
        ))
    };
    let before = with("one");
    assert_eq!(apply(&v, before.path().to_str().unwrap(), &[]).code, 0);
    let after = with("two");
    let p = after.path().to_str().unwrap();
    let doc = plan_json(&v, p, &[]).json();
    let binding = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "binding")
        .unwrap();
    assert_eq!(binding["action"], "replace", "{doc}");
    assert_eq!(binding["differences"][0]["property"], "arguments.x-note");
    assert_eq!(binding["differences"][0]["broker"], "one");
    assert_eq!(binding["differences"][0]["ours"], "two");
    assert!(doc["unmanaged"].as_array().unwrap().is_empty(), "{doc}");
    let human = plan(&v, p, &[]);
    assert_contains(&human.stdout, "-/+ binding ex -> q [k] {x-note=\"two\"}");
    let out = apply(&v, p, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_contains(&out.stdout, "-/+ binding ex -> q [k] on `amqp`: replaced");
    let bindings: Vec<serde_json::Value> = v.definitions()["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["source"] == "ex")
        .cloned()
        .collect();
    assert_eq!(bindings.len(), 1, "{bindings:?}");
    assert_eq!(bindings[0]["arguments"]["x-note"], "two");
    assert_eq!(plan(&v, p, &["--detailed-exitcode"]).code, 0);
}

/// The Markdown plan against a live broker: a queue whose TTL changed (replace, with what it
/// touches and both values folded in "What differs"), a new binding, unchanged entities
/// counted, and a queue made by hand (holding a message) folded in "Unmanaged". Exit 2 with
/// --detailed-exitcode, as the human format.
#[test]
fn markdown_plan_with_replace_and_unmanaged() {
    let v = Vhost::new("markdown");
    let before = ttl_topology(5000, "", "");
    assert_eq!(apply(&v, before.path().to_str().unwrap(), &[]).code, 0);
    v.request(
        "PUT",
        "/queues/{vhost}/by-hand",
        json!({"durable": true, "arguments": {"x-max-length": 10}}),
    );
    v.publish("by-hand");
    v.publish("q1");
    let after = ttl_topology(
        6000,
        r#"<binding id="b" topic="b.#" destination="q1"/>"#,
        "",
    );
    let p = after.path().to_str().unwrap();
    let out = plan(&v, p, &["--format", "markdown", "--detailed-exitcode"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        !out.stdout.contains(":guest@"),
        "password shown: {}",
        out.stdout
    );
    insta::assert_snapshot!(
        "markdown_plan_replace_unmanaged",
        out.stdout.replace(&v.name, "VHOST")
    );
}
