//! "apply never loses a message", counted on the real RabbitMQ: messages are published with
//! confirms, some held unacknowledged by a consumer, the destructive operation runs (under
//! traffic, or killed half-way), and every message is counted afterwards. Each test has its
//! own vhost, removed afterwards.

mod util;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use util::amqp::{self, names};
use util::{Vhost, run, topology_dir};

/// `ex` (topic) → `q` on `a.#`, `q` with a TTL (hours: no message expires during a test),
/// and `other` → `q` (a binding the files do not declare, added by the test).
fn files(ttl: u64) -> tempfile::TempDir {
    topology_dir(&format!(
        r#"<exchange name="ex"><binding id="a" topic="a.#" destination="q"/></exchange>
           <exchange name="other"/>
           <queue name="q"><arguments><argument name="x-message-ttl" xsi:type="number">{ttl}</argument></arguments></queue>"#
    ))
}

const HOUR: u64 = 3_600_000;

fn apply(v: &Vhost, dir: &tempfile::TempDir, extra: &[&str]) -> util::Output {
    let url = v.url();
    let p = dir.path().to_str().unwrap();
    run(&[&["apply", p, "--connection", &url], extra].concat())
}

fn ttl(v: &Vhost) -> serde_json::Value {
    let defs = v.definitions();
    defs["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "q")
        .map(|q| q["arguments"]["x-message-ttl"].clone())
        .unwrap_or(serde_json::Value::Null)
}

fn queue_names(v: &Vhost) -> Vec<String> {
    v.definitions()["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect()
}

fn bindings(v: &Vhost) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = v.definitions()["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["source"].as_str().unwrap().to_string(),
                b["destination"].as_str().unwrap().to_string(),
                b["routing_key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn setup(v: &Vhost) {
    assert_eq!(apply(v, &files(HOUR), &[]).code, 0);
    v.request(
        "POST",
        "/bindings/{vhost}/e/other/q/q",
        serde_json::json!({"routing_key": "x", "arguments": {}}),
    );
}

fn expected_bindings() -> Vec<(String, String, String)> {
    vec![
        ("ex".into(), "q".into(), "a.#".into()),
        ("other".into(), "q".into(), "x".into()),
    ]
}

/// A consumer (prefetch 5, as Magento's consumers run) holds every message of `q`
/// unacknowledged: the replace is refused, names the consumer's connection, and changes
/// nothing; when the consumer hands them back, all 5 are there. The same for --prune of a
/// queue the files no longer declare.
#[test]
fn consumers_holding_messages_refuse_replace_and_prune() {
    let v = Vhost::new("held");
    setup(&v);
    let rt = amqp::runtime();
    let (conn, holder) = rt.block_on(async {
        let conn = amqp::connect(&v.name, "magento-consumer-7").await;
        let sent = amqp::publish(&conn, "ex", "a.b", 0..5).await;
        assert_eq!(sent.len(), 5);
        let holder = amqp::hold(&conn, "q", 5).await;
        (conn, holder)
    });
    assert_eq!(holder.held.len(), 5, "the consumer holds them all");
    // The management API lists a new consumer a moment later.
    for _ in 0..50 {
        if util::consumers(&v.name) > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    let out = apply(&v, &files(2 * HOUR), &["--allow-recreate"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("magento-consumer-7"),
        "names the consumer's connection: {}",
        out.stderr
    );
    assert_eq!(ttl(&v), HOUR, "nothing changed");
    assert_eq!(queue_names(&v), ["q"]);
    assert_eq!(bindings(&v), expected_bindings());

    // prune: the files no longer declare q
    let none = topology_dir(r#"<exchange name="ex"/><exchange name="other"/>"#);
    let out = apply(&v, &none, &["--prune"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("magento-consumer-7"), "{}", out.stderr);
    assert!(queue_names(&v).contains(&"q".to_string()));
    assert_eq!(
        bindings(&v),
        expected_bindings(),
        "refused before any change"
    );

    // The consumer cancels but keeps the 5 messages unacknowledged: no consumer is
    // attached, yet deleting q would lose them. The swap finds out, puts everything back,
    // and refuses.
    let mut holder = holder;
    rt.block_on(holder.cancel());
    let out = apply(&v, &files(2 * HOUR), &["--allow-recreate"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("not acknowledged"), "{}", out.stderr);
    assert_eq!(ttl(&v), HOUR, "not replaced");
    assert_eq!(queue_names(&v), ["q"], "no holding queue left");
    assert_eq!(bindings(&v), expected_bindings(), "bindings put back");

    let (got, all) = rt.block_on(async {
        holder.hand_back().await;
        let r = amqp::payloads(&conn, "q").await;
        let _ = conn.close(200, "done".into()).await;
        r
    });
    assert_eq!(got, names(0..5), "every message is back in q");
    assert_eq!(all, 5);
}

/// Runs `apply DIR --connection URL EXTRA...` while a publisher with confirms sends to `ex`
/// (`a.b`) one message at a time, from a moment before to a moment after; gives what the
/// publisher got confirmed and what was returned or refused.
async fn apply_under_traffic(
    v: &Vhost,
    dir: tempfile::TempDir,
    extra: &'static [&'static str],
) -> (Vec<u64>, Vec<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let stop = stop.clone();
        let conn = amqp::connect(&v.name, "publisher-2").await;
        tokio::spawn(async move { amqp::publish_until(&conn, "ex", "a.b", 1_000_000, stop).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let url = v.url();
    let out = tokio::task::spawn_blocking(move || {
        let p = dir.path().to_str().unwrap().to_string();
        run(&[&["apply", p.as_str(), "--connection", url.as_str()], extra].concat())
    })
    .await
    .unwrap();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    publisher.await.unwrap()
}

/// Replace under traffic: a publisher with confirms publishes to `ex` all through the swap
/// of a queue holding 2,000 messages; afterwards every confirmed message is in the new
/// queue, none was returned, and the bindings (also the one the files do not declare) are
/// back.
#[test]
fn replace_under_confirmed_traffic_loses_nothing() {
    let v = Vhost::new("traffic");
    setup(&v);
    let rt = amqp::runtime();
    let (before, (during, returned)) = rt.block_on(async {
        let conn = amqp::connect(&v.name, "publisher").await;
        let before = amqp::publish(&conn, "ex", "a.b", 0..2000).await;
        let during = apply_under_traffic(&v, files(2 * HOUR), &["--allow-recreate"]).await;
        (before, during)
    });
    assert!(during.len() > 20, "traffic flowed: {}", during.len());
    assert_eq!(returned, Vec::<u64>::new(), "no publish found no queue");
    let rt = amqp::runtime();
    let (got, all) = rt.block_on(async {
        let conn = amqp::connect(&v.name, "reader").await;
        amqp::payloads(&conn, "q").await
    });
    let mut want = names(before.iter().copied());
    want.extend(names(during.iter().copied()));
    let missing: Vec<&String> = want.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "lost {} message(s): {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(got.len(), want.len(), "nothing else in q");
    assert!(all >= want.len());
    assert_eq!(ttl(&v), 2 * HOUR);
    assert_eq!(bindings(&v), expected_bindings());
    assert_eq!(queue_names(&v), ["q"], "no holding queue left");
}

/// apply killed (SIGKILL) at several moments of the replace of a queue holding 20,000
/// messages, then applied again: all 20,000 are there, the new TTL, the bindings back, and
/// `plan --detailed-exitcode` exits 0.
#[test]
fn apply_killed_at_any_moment_resumes_and_loses_nothing() {
    let v = Vhost::new("killed");
    setup(&v);
    let rt = amqp::runtime();
    let sent = rt.block_on(async {
        let conn = amqp::connect(&v.name, "publisher").await;
        amqp::publish(&conn, "ex", "a.b", 0..20_000).await
    });
    assert_eq!(sent.len(), 20_000);
    let url = v.url();
    let mut ttl_now = HOUR;
    // Kill at moments spread over a swap (a few hundred ms on loopback), each run against
    // whatever the previous one left.
    for (i, delay_ms) in [40u64, 120, 250, 400, 700, 90, 1500]
        .into_iter()
        .enumerate()
    {
        ttl_now += 1000;
        let dir = files(ttl_now);
        let mut child = Command::new(env!("CARGO_BIN_EXE_topology"))
            .args(["apply", dir.path().to_str().unwrap(), "--connection", &url])
            .arg("--allow-recreate")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let plan = run(&["plan", dir.path().to_str().unwrap(), "--connection", &url]);
        assert!(
            plan.code == 0,
            "run {i}: plan works mid-way: {}",
            plan.stderr
        );
    }
    let last = files(ttl_now);
    let out = apply(&v, &last, &["--allow-recreate", "--format", "json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    util::assert_valid(
        &util::validator("plan.schema.json"),
        &out.json(),
        "apply JSON",
    );
    let (got, _) = rt.block_on(async {
        let conn = amqp::connect(&v.name, "reader").await;
        amqp::payloads(&conn, "q").await
    });
    let want = names(sent.iter().copied());
    let missing = want.difference(&got).count();
    assert_eq!(missing, 0, "every message survived");
    assert_eq!(ttl(&v), ttl_now);
    assert_eq!(bindings(&v), expected_bindings());
    assert_eq!(queue_names(&v), ["q"], "no holding queue left");
    let check = run(&[
        "plan",
        last.path().to_str().unwrap(),
        "--connection",
        &url,
        "--detailed-exitcode",
    ]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

/// The plan says what a replace touches: ready, unacknowledged and consumers, in JSON and
/// on the human line.
#[test]
fn plan_shows_what_a_replace_touches() {
    let v = Vhost::new("touches");
    setup(&v);
    let rt = amqp::runtime();
    rt.block_on(async {
        let conn = amqp::connect(&v.name, "publisher").await;
        amqp::publish(&conn, "ex", "a.b", 0..1204).await;
    });
    let dir = files(2 * HOUR);
    let url = v.url();
    let p = dir.path().to_str().unwrap();
    let doc = run(&["plan", p, "--connection", &url, "--format", "json"]).json();
    let schema = util::validator("plan.schema.json");
    util::assert_valid(&schema, &doc, "plan with a replace");
    let q_index = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["kind"] == "queue")
        .unwrap();
    let mut without = doc.clone();
    without["changes"][q_index]
        .as_object_mut()
        .unwrap()
        .remove("messages");
    assert!(
        !schema.is_valid(&without),
        "the schema requires `messages` on a replace"
    );
    let q = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "queue")
        .unwrap();
    assert_eq!(q["action"], "replace");
    assert_eq!(q["messages"], 1204);
    assert_eq!(q["consumers"], 0);
    assert!(q["unacked"].is_u64() || q["unacked"].is_null(), "{q}");
    let ex = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "exchange")
        .unwrap();
    assert!(
        ex.get("messages").is_none(),
        "only queues to replace or delete carry usage"
    );
    let human = run(&["plan", p, "--connection", &url, "--color", "never"]);
    assert!(
        human.stdout.contains(
            "-/+ queue q (replace: x-message-ttl 3600000 → 7200000; 1,204 messages will be moved, 0 consumers)"
        ),
        "{}",
        human.stdout
    );
}

/// An exchange whose type changes is replaced; every binding from and to it (those the
/// files do not declare too) is back.
#[test]
fn exchange_replace_restores_every_binding() {
    let v = Vhost::new("exreplace");
    let before = topology_dir(
        r#"<exchange name="ex"><binding id="a" topic="a" destination="q"/></exchange>
           <exchange name="up"/>"#,
    );
    let url = v.url();
    let p = before.path().to_str().unwrap();
    assert_eq!(run(&["apply", p, "--connection", &url]).code, 0);
    v.request(
        "POST",
        "/bindings/{vhost}/e/up/e/ex",
        serde_json::json!({"routing_key": "up", "arguments": {}}),
    );
    let after = topology_dir(
        r#"<exchange name="ex" type="direct"><binding id="a" topic="a" destination="q"/></exchange>
           <exchange name="up"/>"#,
    );
    let p = after.path().to_str().unwrap();
    let out = run(&[
        "apply",
        p,
        "--connection",
        &url,
        "--allow-recreate",
        "--dialect",
        "rabbitmq",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let defs = v.definitions();
    let ex = defs["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "ex")
        .unwrap();
    assert_eq!(ex["type"], "direct");
    assert_eq!(
        bindings(&v),
        [
            ("ex".to_string(), "q".to_string(), "a".to_string()),
            ("up".into(), "ex".into(), "up".into())
        ]
    );
    assert_eq!(queue_names(&v), ["q"], "no record left");
}

/// A binding whose arguments change is replaced (bound anew, then the old one unbound) while
/// a publisher with confirms sends through it and a consumer holds messages unacknowledged:
/// no publish finds the queue unbound (none returned), every confirmed message is counted
/// afterwards (those held too), and one binding is left, with the new arguments.
#[test]
fn binding_replace_under_traffic_loses_nothing() {
    let v = Vhost::new("binding-replace");
    let files = |tag: &str| {
        topology_dir(&format!(
            r#"<exchange name="ex"><binding id="a" topic="a.#" destination="q"><arguments>
                 <argument name="tag" xsi:type="string">{tag}</argument></arguments></binding></exchange>
               <queue name="q"/>"#
        ))
    };
    assert_eq!(apply(&v, &files("v1"), &[]).code, 0);
    let rt = amqp::runtime();
    let (before, (during, returned)) = rt.block_on(async {
        let conn = amqp::connect(&v.name, "publisher").await;
        let before = amqp::publish(&conn, "ex", "a.b", 0..500).await;
        let held = amqp::hold(&conn, "q", 5).await;
        assert_eq!(held.held.len(), 5, "a consumer holds 5 unacknowledged");
        let sent = apply_under_traffic(&v, files("v2"), &[]).await;
        held.hand_back().await;
        (before, sent)
    });
    assert!(during.len() > 20, "traffic flowed: {}", during.len());
    assert_eq!(
        returned,
        Vec::<u64>::new(),
        "no publish found the queue unbound"
    );
    let (got, _) = rt.block_on(async {
        let conn = amqp::connect(&v.name, "reader").await;
        amqp::payloads(&conn, "q").await
    });
    let mut want = names(before.iter().copied());
    want.extend(names(during.iter().copied()));
    let missing: Vec<&String> = want.difference(&got).collect();
    assert!(missing.is_empty(), "lost {} message(s)", missing.len());
    assert_eq!(got.len(), want.len(), "nothing else in q");
    let ours: Vec<serde_json::Value> = v.definitions()["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["source"] == "ex")
        .map(|b| b["arguments"].clone())
        .collect();
    assert_eq!(
        ours,
        [serde_json::json!({"tag": "v2"})],
        "one binding, the new one"
    );
}
