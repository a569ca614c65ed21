//! Every lint rule about queue arguments, checked against the real broker: a queue lint
//! calls an error is refused by RabbitMQ, and one it accepts (perhaps with a warning) is
//! declared. The fixtures are the cases of `fixtures/bad/arguments` and the valid seeds.

use crate::util;

use std::time::Duration;

use topology::broker::executor::Op;
use topology::broker::{Endpoint, Tls, amqp};
use topology::diagnostic::Severity;
use topology::model::Topology;
use topology::spec;

fn lint_errors(topology: &Topology) -> bool {
    topology::lint::lint(topology, topology::lint::Dialect::Rabbitmq)
        .iter()
        .any(|d| d.severity == Severity::Error && d.code.as_str() != "undeclared-exchange")
}

#[test]
fn lint_agrees_with_the_broker() {
    let v = util::Vhost::new("rules");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let endpoint = Endpoint::parse("amqp", &v.url()[5..], None).unwrap();
    let mut checked = 0;
    for fixture in [
        "fixtures/bad/arguments",
        "fixtures/retry-triple",
        "fixtures/outbound-queue",
        "fixtures/two-connections",
    ] {
        let loaded = topology::load::load(&[util::root().join(fixture)], &rabbitmq()).unwrap();
        for queue in loaded
            .topology
            .queues
            .iter()
            .filter(|q| q.connection.value == "amqp")
        {
            let alone = Topology {
                queues: vec![queue.clone()],
                ..Topology::default()
            };
            let lint_refuses = lint_errors(&alone);
            let spec = spec::desired(&alone, "amqp").queues.remove(0);
            let answer = rt.block_on(async {
                let conn = amqp::connect(&endpoint, &Tls::default(), Duration::from_secs(5))
                    .await
                    .unwrap();
                let ch = conn.create_channel().await.unwrap();
                let r = amqp::run_op(&ch, &topology::broker::executor::Op::DeclareQueue(spec))
                    .await
                    .map_err(|e| amqp::describe(&e));
                let _ = conn.close(200, "done".into()).await;
                r
            });
            assert_eq!(
                lint_refuses,
                answer.is_err(),
                "{fixture}: queue `{}`: lint {} it, the broker answered {answer:?}",
                queue.name.value,
                if lint_refuses { "refuses" } else { "accepts" },
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}

/// An exchange named amq.* is refused (403), and lint says so.
#[test]
fn reserved_exchange_names() {
    let v = util::Vhost::new("amqprefix");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let endpoint = Endpoint::parse("amqp", &v.url()[5..], None).unwrap();
    let loaded =
        topology::load::load(&[util::root().join("fixtures/bad/topology")], &rabbitmq()).unwrap();
    assert!(
        loaded
            .diagnostics
            .iter()
            .any(|d| d.code.as_str() == "reserved-name")
    );
    let spec = spec::desired(&loaded.topology, "amqp")
        .exchanges
        .into_iter()
        .find(|e| e.name == "amq.custom")
        .unwrap();
    let answer = rt.block_on(async {
        let conn = amqp::connect(&endpoint, &Tls::default(), Duration::from_secs(5))
            .await
            .unwrap();
        let ch = conn.create_channel().await.unwrap();
        amqp::run_op(&ch, &topology::broker::executor::Op::DeclareExchange(spec))
            .await
            .map_err(|e| amqp::describe(&e))
    });
    assert!(answer.unwrap_err().contains("ACCESS_REFUSED"));
}

/// Issue 11: what RabbitMQ refuses about names and exchanges, and lint passed: a queue
/// named `amq.direct`, built-in exchanges redeclared with other properties, the default
/// exchange declared or bound to, an `x-` type without its plugin, names longer than AMQP
/// carries. Each exchange, queue and binding of `fixtures/bad/broker-refuses` is declared
/// alone (with what it needs) on a connection of its own: lint has an error for it, or an
/// `exchange-plugin` warning, exactly when the broker refuses it.
#[test]
fn lint_agrees_with_the_broker_on_names_and_exchanges() {
    let v = util::Vhost::new("names");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let endpoint = Endpoint::parse("amqp", &v.url()[5..], None).unwrap();
    let loaded = topology::load::load(
        &[util::root().join("fixtures/bad/broker-refuses")],
        &rabbitmq(),
    )
    .unwrap();
    let t = &loaded.topology;
    let overview = v.request("GET", "/overview", serde_json::Value::Null);
    let broker_types: Vec<&str> = overview["exchange_types"]
        .as_array()
        .expect("exchange types")
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();

    let mut cases: Vec<(String, Topology)> = Vec::new();
    for ex in &t.exchanges {
        let alone = Topology {
            exchanges: vec![ex.clone()],
            ..Topology::default()
        };
        cases.push((format!("exchange `{}`", ex.name.value), alone));
    }
    for q in t
        .queues
        .iter()
        .filter(|q| q.origin == topology::model::Origin::Queue)
    {
        let alone = Topology {
            queues: vec![q.clone()],
            ..Topology::default()
        };
        cases.push((format!("queue `{}`", q.name.value), alone));
    }
    for b in &t.bindings {
        let alone = Topology {
            exchanges: t
                .exchanges
                .iter()
                .filter(|e| e.name.value == b.source)
                .cloned()
                .collect(),
            queues: t
                .queues
                .iter()
                .filter(|q| q.name.value == b.destination.value)
                .cloned()
                .collect(),
            bindings: vec![b.clone()],
        };
        cases.push((format!("binding `{}`", b.id.value), alone));
    }

    let mut refused = 0;
    for (what, alone) in &cases {
        let found = topology::lint::lint(alone, topology::lint::Dialect::Rabbitmq);
        let errors = found
            .iter()
            .any(|d| d.severity == Severity::Error && d.code.as_str() != "undeclared-exchange");
        let plugin = found.iter().any(|d| d.code.as_str() == "exchange-plugin");
        let specs = spec::desired(alone, "amqp");
        let ops = specs
            .exchanges
            .into_iter()
            .map(Op::DeclareExchange)
            .chain(specs.queues.into_iter().map(Op::DeclareQueue))
            .chain(specs.bindings.into_iter().map(Op::Bind));
        let answer = rt.block_on(async {
            let conn = amqp::connect(&endpoint, &Tls::default(), Duration::from_secs(5))
                .await
                .unwrap();
            let ch = conn.create_channel().await.unwrap();
            let mut answer = Ok(());
            for op in ops {
                answer = amqp::run_op(&ch, &op).await.map_err(|e| amqp::describe(&e));
                if answer.is_err() {
                    break;
                }
            }
            let _ = conn.close(200, "done".into()).await;
            answer
        });
        let codes: Vec<&str> = found.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            errors || plugin,
            answer.is_err(),
            "{what}: lint says {codes:?}, the broker answered {answer:?}"
        );
        if plugin {
            let kind = &alone.exchanges[0].kind.value;
            assert!(
                !broker_types.contains(&kind.as_str()),
                "{kind} is enabled here"
            );
            let text = answer.as_ref().unwrap_err();
            assert!(text.contains("COMMAND_INVALID"), "{what}: {text}");
        }
        refused += usize::from(answer.is_err());
    }
    assert!(refused >= 10, "{refused} of {} cases refused", cases.len());
    assert!(
        refused < cases.len(),
        "and the built-ins' own properties are accepted"
    );

    // The built-in exchanges as the broker has them, property by property.
    for b in topology::rules::BUILTINS {
        let x = v.request(
            "GET",
            &format!("/exchanges/{{vhost}}/{}", b.name),
            serde_json::Value::Null,
        );
        assert_eq!(x["type"], b.kind, "{}", b.name);
        assert_eq!(x["durable"], true, "{}", b.name);
        assert_eq!(x["auto_delete"], false, "{}", b.name);
        assert_eq!(x["internal"], b.internal, "{}", b.name);
        assert_eq!(x["arguments"], serde_json::json!({}), "{}", b.name);
    }
}

/// These rules are RabbitMQ's: every exchange type and exchange-to-exchange bindings.
fn rabbitmq() -> topology::load::Options {
    topology::load::Options {
        dialect: topology::load::Dialect::Rabbitmq,
        ..topology::load::Options::with_default_connection("amqp")
    }
}
