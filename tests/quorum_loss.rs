//! A quorum queue without quorum: `apply --allow-recreate` must leave it (its arguments, its
//! binding, its messages) as it is and fail, never delete it. On a private 2-node cluster of
//! its own (scripts/private-rabbit.sh, via util::cluster): a quorum queue with a member on
//! each of two nodes has no quorum as soon as one of them is down, and two nodes boot faster
//! than three. The node the tool talks to (node 1) stays up; node 2 is killed.
//!
//! Two vhosts, each with the same `ex` -> `q`, share the one outage: in one, q's leader is on
//! the node that goes down (RabbitMQ 3.10 then answers a passive declare of q with 0
//! messages); in the other, on the node that stays (it still counts the messages).

mod util;

use std::time::{Duration, Instant};

use serde_json::json;
use util::cluster::{PrivateCluster, encode};
use util::{run, topology_dir};

const MESSAGES: usize = 10;

/// One vhost of the test: where q's leader is, what apply did there.
struct Case {
    vhost: &'static str,
    leader: usize,
    before: serde_json::Value,
    apply: Option<util::Output>,
    during: String,
}

fn declare(c: &PrivateCluster, case: &mut Case) {
    c.create_vhost(1, case.vhost);
    let v = encode(case.vhost);
    c.api_ok(
        1,
        "PUT",
        &format!("/exchanges/{v}/ex"),
        Some(json!({"type": "topic", "durable": true})),
    );
    c.api_ok(
        1,
        "PUT",
        &format!("/queues/{v}/q"),
        Some(
            json!({"durable": true, "arguments": {"x-queue-type": "quorum"},
                    "node": c.node_name(case.leader)}),
        ),
    );
    c.api_ok(
        1,
        "POST",
        &format!("/bindings/{v}/e/ex/q/q"),
        Some(json!({"routing_key": "a.#"})),
    );
    let q = c.api_ok(1, "GET", &format!("/queues/{v}/q"), None);
    let mut members: Vec<&str> = q["members"]
        .as_array()
        .map(|m| m.iter().filter_map(|n| n.as_str()).collect())
        .unwrap_or_default();
    members.sort();
    assert_eq!(
        members,
        [c.node_name(1), c.node_name(2)],
        "q has a member on each node: {q}"
    );
    assert_eq!(q["leader"], c.node_name(case.leader).as_str(), "{q}");
    for i in 0..MESSAGES {
        let r = c.api_ok(
            1,
            "POST",
            &format!("/exchanges/{v}/ex/publish"),
            Some(
                json!({"properties": {"delivery_mode": 2}, "routing_key": format!("a.{i}"),
                        "payload": format!("message {i}"), "payload_encoding": "string"}),
            ),
        );
        assert_eq!(r["routed"], true, "{r}");
    }
    assert_eq!(
        c.messages(1, case.vhost, "q", Duration::from_secs(10)),
        Some(MESSAGES)
    );
    case.before = q;
}

fn apply(c: &PrivateCluster, case: &mut Case) {
    let files = topology_dir(
        r#"<exchange name="ex" type="topic"><binding id="a" topic="a.#" destination="q"/></exchange>
           <queue name="q"><arguments>
             <argument name="x-queue-type" xsi:type="string">quorum</argument>
             <argument name="x-delivery-limit" xsi:type="number">5</argument>
           </arguments></queue>"#,
    );
    let out = run(&[
        "apply",
        files.path().to_str().unwrap(),
        "--allow-recreate",
        "--connection",
        &format!("amqp={}", c.amqp_url(1, case.vhost)),
        "--management",
        &format!("amqp={}", c.management_url(1)),
        "--timeout",
        "10",
    ]);
    let (code, q) = c.api(1, "GET", &format!("/queues/{}/q", encode(case.vhost)), None);
    case.during = if code == 200 {
        format!("q exists, arguments {}", q["arguments"])
    } else {
        format!("GET q answers HTTP {code} {q}")
    };
    case.apply = Some(out);
}

/// What is wrong with the case once quorum is back (nothing: empty).
fn problems(c: &PrivateCluster, case: &Case) -> Vec<String> {
    let v = encode(case.vhost);
    // Quorum is back once q answers a get; a missing queue answers 404 at once.
    let mut count = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if c.api(1, "GET", &format!("/queues/{v}/q"), None).0 == 404 {
            break;
        }
        count = c.messages(1, case.vhost, "q", Duration::from_secs(5));
        if count.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let (code, after) = c.api(1, "GET", &format!("/queues/{v}/q"), None);
    let bindings = c.api(1, "GET", &format!("/bindings/{v}/e/ex/q/q"), None).1;
    let keys: Vec<&str> = bindings
        .as_array()
        .map(|b| b.iter().filter_map(|b| b["routing_key"].as_str()).collect())
        .unwrap_or_default();
    let out = case.apply.as_ref().expect("apply ran");
    let mut problems = Vec::new();
    if out.code != 1 && out.code != 69 {
        problems.push(format!(
            "apply exited {} (expected 1 or 69: q cannot be replaced without quorum)",
            out.code
        ));
    }
    if code != 200 {
        problems.push(format!("q is gone: GET answers HTTP {code} {after}"));
    } else if after["arguments"] != json!({"x-queue-type": "quorum"}) {
        problems.push(format!(
            "q's arguments changed: {} (were {})",
            after["arguments"], case.before["arguments"]
        ));
    }
    if keys != ["a.#"] {
        problems.push(format!(
            "the binding ex -> q [a.#] is not as it was: {bindings}"
        ));
    }
    if count != Some(MESSAGES) {
        problems.push(format!(
            "q holds {count:?} message(s), not the {MESSAGES} published (None: it does not answer)"
        ));
    }
    problems
}

#[test]
fn apply_without_quorum_keeps_the_queue_its_binding_and_its_messages() {
    let t0 = Instant::now();
    let lap = |what: &str| eprintln!("[{:5.1}s] {what}", t0.elapsed().as_secs_f64());
    let Some(c) = PrivateCluster::start_or_skip("quorum-loss", 2, 5800, &[]) else {
        return;
    };
    lap("2-node cluster up");
    let mut cases = [
        Case {
            vhost: "leader-down",
            leader: 2,
            before: json!(null),
            apply: None,
            during: String::new(),
        },
        Case {
            vhost: "leader-up",
            leader: 1,
            before: json!(null),
            apply: None,
            during: String::new(),
        },
    ];
    for case in &mut cases {
        declare(&c, case);
    }
    lap(&format!(
        "in each vhost: ex -> q [a.#], {MESSAGES} messages in q (members on both nodes)"
    ));

    c.kill_node(2);
    lap("node 2 killed: q has no quorum");
    for case in &mut cases {
        apply(&c, case);
        lap(&format!(
            "{}: apply exited {}",
            case.vhost,
            case.apply.as_ref().unwrap().code
        ));
    }

    c.start_node(2);
    lap("node 2 started again");
    let mut report = Vec::new();
    for case in &cases {
        let found = problems(&c, case);
        let out = case.apply.as_ref().unwrap();
        eprintln!(
            "== {} (q's leader on node {}): {}
   while node 2 was down, after apply: {}
   apply exited {}; stderr:
{}",
            case.vhost,
            case.leader,
            if found.is_empty() {
                "ok".to_string()
            } else {
                found.join("; ")
            },
            case.during,
            out.code,
            out.stderr
        );
        if !found.is_empty() {
            report.push(format!(
                "{} (q's leader on the node {}):
  - {}
  while node 2 was down, after apply: {}
  apply exited {}, stderr:
{}",
                case.vhost,
                if case.leader == 2 {
                    "that went down"
                } else {
                    "that stayed up"
                },
                found.join("\n  - "),
                case.during,
                out.code,
                out.stderr
            ));
        }
    }
    lap("checked");
    assert!(
        report.is_empty(),
        "apply without quorum broke the queue:\n{}",
        report.join("\n")
    );
}
