//! Hostile scale (issue 11): inputs whose work or output used to grow quadratically or worse
//! in their size. Each test asserts behaviour (one warning per queue, bounded output, the
//! right model), never a duration: speed is measured by `scripts/bench-scale.sh`.

mod util;

use std::path::Path;

use util::run;

/// Writes a module `M/etc` under `dir` with `topology` (inside <config>) and, when given,
/// a `communication.xml` with `communication` inside its <config>.
fn module(dir: &Path, topology: &str, communication: Option<&str>) {
    let etc = dir.join("M/etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("queue_topology.xml"),
        format!(
            "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">{topology}</config>"
        ),
    )
    .unwrap();
    if let Some(c) = communication {
        std::fs::write(
            etc.join("communication.xml"),
            format!("<config>{c}</config>"),
        )
        .unwrap();
    }
}

fn lint_json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, usize) {
    let mut args = vec!["lint", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(dir.to_str().unwrap());
    let out = run(&args);
    (out.code, out.json(), out.stdout.len())
}

/// `plan --offline --format json` of `dir`.
fn plan_json(dir: &Path) -> serde_json::Value {
    run(&[
        "plan",
        "--offline",
        "--format",
        "json",
        dir.to_str().unwrap(),
    ])
    .json()
}

fn with_code<'a>(doc: &'a serde_json::Value, code: &str) -> Vec<&'a serde_json::Value> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .collect()
}

/// One queue name on K connections gave K(K-1)/2 warnings (K = 3,000: more than 8 GiB).
/// Now one warning per name, naming every connection.
#[test]
fn one_queue_on_many_connections_is_one_warning() {
    const K: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let queues: String = (0..K)
        .map(|i| format!("<queue name=\"some-queue\" connection=\"c{i:03}\"/>"))
        .collect();
    module(dir.path(), &queues, None);
    let (code, doc, size) = lint_json(dir.path(), &[]);
    assert_eq!(code, 0);
    let found = with_code(&doc, "queue-in-two-connections");
    assert_eq!(found.len(), 1, "one warning per queue name");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("`some-queue` is defined in 300 connections: `c000`, `c001`,"),
        "{message}"
    );
    assert!(
        message.contains("`c298` and `c299`. If this is intentional"),
        "{message}"
    );
    assert!(
        size < 64 * 1024,
        "output grows with K, not K²: {size} bytes"
    );
}

/// B wildcard bindings (each with its own arguments) × T synchronous topics gave B·T
/// `inferred-queue-arguments` warnings (1,000 × 1,000: 408 MB of JSON). Now one per
/// response queue: T warnings, each saying how often the arguments changed; the last
/// binding's arguments win, as in Magento.
#[test]
fn wildcard_bindings_over_synchronous_topics_warn_once_per_queue() {
    const B: usize = 120;
    const T: usize = 80;
    let dir = tempfile::tempdir().unwrap();
    let bindings: String = (0..B)
        .map(|i| {
            format!(
                "<binding id=\"b{i}\" topic=\"#\" destination=\"q{i}\"><arguments><argument name=\"x-message-ttl\" xsi:type=\"number\">{}</argument></arguments></binding>",
                i + 1
            )
        })
        .collect();
    let topics: String = (0..T)
        .map(|i| format!("<topic name=\"t{i}\" request=\"R\" response=\"S\"/>"))
        .collect();
    module(
        dir.path(),
        &format!("<exchange name=\"ex\" connection=\"amqp\">{bindings}</exchange>"),
        Some(&topics),
    );
    let (code, doc, size) = lint_json(dir.path(), &[]);
    assert_eq!(code, 0);
    let found = with_code(&doc, "inferred-queue-arguments");
    assert_eq!(found.len(), T, "one warning per response queue");
    assert_eq!(
        found[0]["message"],
        "bindings give queue `responseQueue.t0` different arguments: Magento silently keeps the last ones (their arguments change 119 times)"
    );
    assert!(size < T * 2048, "{size} bytes for {T} warnings");

    let doc = plan_json(dir.path());
    let queues = doc["topology"]["queues"].as_array().unwrap();
    assert_eq!(queues.len(), B + T);
    let response = queues
        .iter()
        .find(|q| q["name"] == "responseQueue.t7")
        .unwrap();
    assert_eq!(
        response["arguments"],
        serde_json::json!({"x-message-ttl": B}),
        "the last binding's arguments win"
    );
}

/// A queue written once with other arguments keeps the contract's message, at the winner.
#[test]
fn one_conflict_keeps_the_plain_message() {
    let dir = tempfile::tempdir().unwrap();
    module(
        dir.path(),
        r#"<exchange name="ex" connection="amqp">
             <binding id="a" topic="a" destination="q"><arguments><argument name="x-message-ttl" xsi:type="number">1</argument></arguments></binding>
             <binding id="b" topic="b" destination="q"><arguments><argument name="x-message-ttl" xsi:type="number">2</argument></arguments></binding>
             <binding id="c" topic="c" destination="q"><arguments><argument name="x-message-ttl" xsi:type="number">2</argument></arguments></binding>
           </exchange>"#,
        None,
    );
    let (_, doc, _) = lint_json(dir.path(), &[]);
    let found = with_code(&doc, "inferred-queue-arguments");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0]["message"],
        "bindings give queue `q` different arguments: Magento silently keeps the last ones"
    );
    assert_eq!(found[0]["line"], 3, "at the binding whose arguments win");
}

/// 100,000 arguments in one element took 15 s (each merged argument scanned the list).
/// They are all kept, in order, and a later file's value replaces an earlier one in place.
#[test]
fn many_arguments_merge_in_order() {
    const N: usize = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let args: String = (0..N)
        .map(|i| format!("<argument name=\"a{i}\" xsi:type=\"string\">v{i}</argument>"))
        .collect();
    module(
        dir.path(),
        &format!(
            "<exchange name=\"ex\" connection=\"amqp\"><arguments>{args}</arguments><binding id=\"b\" topic=\"t\" destination=\"q\"/></exchange>"
        ),
        None,
    );
    let etc = dir.path().join("N/etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("queue_topology.xml"),
        "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><exchange name=\"ex\" connection=\"amqp\"><arguments><argument name=\"a17\" xsi:type=\"string\">later</argument></arguments></exchange></config>",
    )
    .unwrap();
    let doc = plan_json(dir.path());
    let args = doc["topology"]["exchanges"][0]["arguments"]
        .as_object()
        .unwrap();
    assert_eq!(args.len(), N);
    assert_eq!(args["a17"], "later");
    assert_eq!(args["a19999"], "v19999");
}

/// A 12 KB `#.#.#…` binding topic against a long synchronous topic took 5 s (cubic
/// matching): it is matched, and its response queue declared, as Magento's regex would.
#[test]
fn a_long_wildcard_topic_is_matched() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = vec!["#"; 6000].join(".");
    let topic = vec!["ab"; 6000].join(".");
    let shorter = vec!["ab"; 5999].join(".");
    module(
        dir.path(),
        &format!(
            "<exchange name=\"ex\" connection=\"amqp\"><binding id=\"b\" topic=\"{pattern}\" destination=\"q\"/></exchange>"
        ),
        Some(&format!(
            "<topic name=\"{topic}\" request=\"R\" response=\"S\"/><topic name=\"{shorter}\" request=\"R\" response=\"S\"/>"
        )),
    );
    let doc = plan_json(dir.path());
    let queues = doc["topology"]["queues"].as_array().unwrap();
    let names: Vec<&str> = queues.iter().map(|q| q["name"].as_str().unwrap()).collect();
    assert_eq!(
        names.len(),
        2,
        "q and the one matching topic's response queue"
    );
    assert!(names.contains(&format!("responseQueue.{topic}").as_str()));
}
