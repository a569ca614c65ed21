//! `topology import` against the real RabbitMQ on 127.0.0.1 (started by scripts/test.sh):
//! a vhost set up by hand through the management API is written as a queue_topology.xml,
//! which `plan` then finds unchanged. Each test has its own vhost, removed afterwards.

use crate::util;

use crate::util::{Vhost, assert_contains, run};
use serde_json::json;

/// `import --connection <vhost's URL> EXTRA…`.
fn import(v: &Vhost, extra: &[&str]) -> util::Output {
    let url = v.url();
    run(&[&["import", "--connection", &url], extra].concat())
}

/// Declares `kind` `name` (`exchanges` or `queues`) in the vhost with `body`, durable unless
/// it says otherwise (the management API's default is not).
fn declare(v: &Vhost, kind: &str, name: &str, mut body: serde_json::Value) {
    if body.get("durable").is_none() {
        body["durable"] = json!(true);
    }
    let r = v.request("PUT", &format!("/{kind}/{{vhost}}/{}", segment(name)), body);
    assert!(r.is_null(), "declaring {kind} {name}: {r}");
}

/// A name as one path segment of a management API URL: every byte but `A-Za-z0-9-._~`
/// percent-encoded.
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Binds `source` to `destination` (`q` a queue, `e` an exchange).
fn bind(v: &Vhost, source: &str, to: &str, destination: &str, key: &str, args: serde_json::Value) {
    let r = v.request(
        "POST",
        &format!(
            "/bindings/{{vhost}}/e/{}/{to}/{}",
            segment(source),
            segment(destination)
        ),
        json!({"routing_key": key, "arguments": args}),
    );
    assert!(r.is_null(), "binding {source} -> {destination}: {r}");
}

/// The round trip: exchanges of every type (one with an argument), queues with TTL,
/// dead-lettering, max-length and the quorum type, a queue only a binding declares, a queue
/// with no binding, bindings with and without arguments (integer and string), one from
/// exchange to exchange, names XML must escape; imported, the file read back by `plan`
/// shows no change and lints clean in RabbitMQ's dialect, which the file and stderr say it
/// needs. What RabbitMQ owns (a binding from amq.topic) is left out and counted.
#[test]
fn import_then_plan_shows_no_change() {
    let v = Vhost::new("import-roundtrip");
    declare(&v, "exchanges", "unroutable", json!({"type": "fanout"}));
    declare(
        &v,
        "exchanges",
        "orders",
        json!({"type": "topic", "arguments": {"alternate-exchange": "unroutable"}}),
    );
    declare(&v, "exchanges", "dlx", json!({"type": "direct"}));
    declare(
        &v,
        "exchanges",
        "by-headers",
        json!({"type": "headers", "durable": false, "auto_delete": true}),
    );
    declare(
        &v,
        "exchanges",
        "internal.fan",
        json!({"type": "fanout", "internal": true}),
    );
    declare(
        &v,
        "queues",
        "orders.main",
        json!({"arguments": {"x-message-ttl": 30000, "x-dead-letter-exchange": "dlx",
                             "x-dead-letter-routing-key": "failed", "x-max-length": 1000,
                             "x-overflow": "reject-publish"}}),
    );
    declare(
        &v,
        "queues",
        "orders.failed",
        json!({"arguments": {"x-queue-type": "quorum"}}),
    );
    declare(&v, "queues", "orders.plain", json!({}));
    declare(&v, "queues", "orders.headers", json!({}));
    declare(&v, "queues", "unbound", json!({"durable": false}));
    declare(&v, "queues", "q \"quoted\" <&> 'x'", json!({}));
    bind(&v, "orders", "q", "orders.main", "order.#", json!({}));
    bind(&v, "orders", "q", "orders.plain", "plain.*", json!({}));
    bind(
        &v,
        "orders",
        "q",
        "q \"quoted\" <&> 'x'",
        "k&<>\"",
        json!({}),
    );
    bind(&v, "dlx", "q", "orders.failed", "failed", json!({}));
    bind(
        &v,
        "by-headers",
        "q",
        "orders.headers",
        "",
        json!({"x-match": "all", "retries": 3}),
    );
    bind(&v, "orders", "e", "internal.fan", "fan.#", json!({}));
    bind(&v, "internal.fan", "q", "orders.plain", "", json!({}));
    bind(&v, "amq.topic", "q", "orders.plain", "mqtt.#", json!({}));

    let printed = import(&v, &[]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let xml = &printed.stdout;
    assert!(
        xml.contains(r#"destinationType="queue" destination="q &quot;quoted&quot; &lt;&amp;&gt; 'x'" topic="k&amp;&lt;&gt;&quot;"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<argument name="retries" xsi:type="number">3</argument>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<argument name="x-match" xsi:type="string">all</argument>"#),
        "{xml}"
    );
    assert!(
        !xml.contains(r#"<queue name="orders.plain""#),
        "inferred from its bindings: {xml}"
    );
    assert!(
        xml.contains(
            r#"<queue name="orders.headers" connection="amqp" durable="true" autoDelete="false"/>"#
        ),
        "its binding's arguments are not its own: {xml}"
    );
    assert!(
        xml.contains("Not written: 1 binding from or to an entity left out."),
        "{xml}"
    );
    assert!(xml.contains("TOPOLOGY_DIALECT=rabbitmq"), "{xml}");
    assert_contains(
        &printed.stderr,
        "note: Magento reads only topic exchanges and bindings to queues, and this file has 1 exchange of type direct, 2 exchanges of type fanout, 1 exchange of type headers and 1 binding to an exchange: read it with --dialect rabbitmq (or TOPOLOGY_DIALECT=rabbitmq).",
    );

    // --out writes the same file, and nothing goes to stdout.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("queue_topology.xml");
    let written = import(&v, &["--out", file.to_str().unwrap()]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert_eq!(written.stdout, "");
    assert_eq!(&std::fs::read_to_string(&file).unwrap(), xml);

    let path = dir.path().to_str().unwrap();
    let url = v.url();
    let plan = run(&[
        "plan",
        "--dialect",
        "rabbitmq",
        path,
        "--connection",
        &url,
        "--detailed-exitcode",
    ]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert_contains(&plan.stdout, "no changes: 18 entities are up to date");
    let lint = run(&["lint", "--dialect", "rabbitmq", path]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    assert_eq!(lint.stderr, "1 file checked: no problem found\n");
}

/// A vhost of topic exchanges bound to queues is valid in Magento's dialect: the imported
/// file lints clean by default, and nothing says otherwise.
#[test]
fn a_magento_shaped_vhost_imports_for_magento() {
    let v = Vhost::new("import-magento");
    declare(&v, "exchanges", "magento", json!({"type": "topic"}));
    declare(
        &v,
        "queues",
        "async.operations.all",
        json!({"arguments": {"x-message-ttl": 60000}}),
    );
    bind(
        &v,
        "magento",
        "q",
        "async.operations.all",
        "async.#",
        json!({}),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("queue_topology.xml");
    let out = import(&v, &["--out", file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "", "nothing to note");
    let lint = run(&["lint", dir.path().to_str().unwrap()]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    assert_eq!(lint.stderr, "1 file checked: no problem found\n");
    let url = v.url();
    let plan = run(&[
        "plan",
        dir.path().to_str().unwrap(),
        "--connection",
        &url,
        "--detailed-exitcode",
    ]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}

/// A vhost that does not exist and a wrong password: exit 69, a message that says which,
/// the password nowhere; no URL at all: a usage error naming the flag and the variable.
#[test]
fn broker_refusals_and_missing_urls() {
    let missing = run(&[
        "import",
        "--connection",
        "amqp=amqp://guest:guest@127.0.0.1:5672/topology-no-such-vhost",
    ]);
    assert_eq!(missing.code, 69, "{}", missing.stderr);
    assert_contains(&missing.stderr, "vhost topology-no-such-vhost not found");
    assert_eq!(missing.stdout, "");

    let secret = "Wr0ng-Passw0rd-4711";
    let refused = run(&[
        "import",
        "--connection",
        &format!("amqp=amqp://guest:{secret}@127.0.0.1:5672/%2f"),
    ]);
    assert_eq!(refused.code, 69, "{}", refused.stderr);
    assert_contains(&refused.stderr, "ACCESS_REFUSED");
    assert!(
        !refused.stderr.contains(secret) && !refused.stdout.contains(secret),
        "{}{}",
        refused.stdout,
        refused.stderr
    );

    let none = run(&["import"]);
    assert_eq!(none.code, 64, "{}", none.stderr);
    assert_contains(
        &none.stderr,
        "give its URL with --connection amqp=URL or TOPOLOGY_CONNECTION_AMQP",
    );
}
