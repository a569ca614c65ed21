//! Every lint rule about queue arguments, checked against the real broker: a queue lint
//! calls an error is refused by RabbitMQ, and one it accepts (perhaps with a warning) is
//! declared. The fixtures are the cases of `fixtures/bad/arguments` and the valid seeds.

mod util;

use std::time::Duration;

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
                let r = amqp::run_op(&ch, &topology::apply::executor::Op::DeclareQueue(spec))
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
        amqp::run_op(&ch, &topology::apply::executor::Op::DeclareExchange(spec))
            .await
            .map_err(|e| amqp::describe(&e))
    });
    assert!(answer.unwrap_err().contains("ACCESS_REFUSED"));
}

/// These rules are RabbitMQ's: every exchange type and exchange-to-exchange bindings.
fn rabbitmq() -> topology::load::Options {
    topology::load::Options {
        dialect: topology::load::Dialect::Rabbitmq,
        ..topology::load::Options::with_default_connection("amqp")
    }
}
