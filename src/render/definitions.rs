//! RabbitMQ definitions: one connection's entities as the JSON document RabbitMQ's own
//! export writes and its import reads (`POST /api/definitions/{vhost}`, `rabbitmqadmin
//! import`, the `load_definitions` setting).
//!
//! Takes the specs of one connection (the exchanges, queues and bindings exactly as `apply`
//! declares them: arguments typed as sent, disabled bindings left out, sorted as the plan
//! sorts them) and a vhost name; gives the document as pretty-printed JSON. Only the three
//! entity lists are written: no users, vhosts, permissions, policies nor version fields,
//! which an import does not need (RabbitMQ 3.10 imports the document as it is). Each entity
//! carries `vhost`: a global import (`POST /api/definitions`) puts it there, an import into
//! one vhost ignores it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::properties::{BindingProperties, ExchangeProperties, QueueProperties};
use crate::spec::{ArgMap, ConnectionSpecs};

/// The document: the fields of RabbitMQ's definitions format that describe entities.
#[derive(Serialize)]
pub struct Definitions<'a> {
    pub exchanges: Vec<ExchangeDefinition<'a>>,
    pub queues: Vec<QueueDefinition<'a>>,
    pub bindings: Vec<BindingDefinition<'a>>,
}

/// Argument name → value, as sent (an integer stays a JSON integer, which RabbitMQ imports
/// as the AMQP `long` the tool declares).
pub type ArgumentsJson<'a> = BTreeMap<&'a str, serde_json::Value>;

#[derive(Serialize)]
pub struct ExchangeDefinition<'a> {
    pub name: &'a str,
    pub vhost: &'a str,
    #[serde(flatten)]
    pub properties: ExchangeProperties<'a, ArgumentsJson<'a>>,
}

#[derive(Serialize)]
pub struct QueueDefinition<'a> {
    pub name: &'a str,
    pub vhost: &'a str,
    #[serde(flatten)]
    pub properties: QueueProperties<ArgumentsJson<'a>>,
}

#[derive(Serialize)]
pub struct BindingDefinition<'a> {
    pub source: &'a str,
    pub vhost: &'a str,
    #[serde(flatten)]
    pub properties: BindingProperties<'a, ArgumentsJson<'a>>,
}

impl<'a> Definitions<'a> {
    /// The definitions of `specs`, each entity in `vhost`.
    pub fn new(specs: &'a ConnectionSpecs, vhost: &'a str) -> Definitions<'a> {
        Definitions {
            exchanges: specs
                .exchanges
                .iter()
                .map(|e| ExchangeDefinition {
                    name: &e.name,
                    vhost,
                    properties: ExchangeProperties {
                        kind: &e.kind,
                        durable: e.durable,
                        auto_delete: e.auto_delete,
                        internal: e.internal,
                        arguments: arguments(&e.arguments),
                    },
                })
                .collect(),
            queues: specs
                .queues
                .iter()
                .map(|q| QueueDefinition {
                    name: &q.name,
                    vhost,
                    properties: QueueProperties {
                        durable: q.durable,
                        auto_delete: q.auto_delete,
                        arguments: arguments(&q.arguments),
                    },
                })
                .collect(),
            bindings: specs
                .bindings
                .iter()
                .map(|b| BindingDefinition {
                    source: &b.key.source,
                    vhost,
                    properties: BindingProperties {
                        destination: &b.key.destination,
                        destination_type: b.key.destination_type.as_str(),
                        routing_key: &b.key.routing_key,
                        arguments: arguments(&b.arguments),
                    },
                })
                .collect(),
        }
    }
}

fn arguments(args: &ArgMap) -> ArgumentsJson<'_> {
    args.iter()
        .map(|(k, v)| (k.as_str(), v.to_json()))
        .collect()
}

/// The definitions of `specs` in `vhost`, pretty-printed, ending with a newline.
pub fn render(specs: &ConnectionSpecs, vhost: &str) -> String {
    let mut text = serde_json::to_string_pretty(&Definitions::new(specs, vhost))
        .expect("definitions serialize: string keys, JSON values");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DestinationType, Value};
    use crate::spec::{BindingKey, BindingSpec, QueueSpec};

    /// Arguments keep their type: an integer is a JSON integer (an AMQP `long` once
    /// imported), a string stays a string even when it reads like a number, and the empty
    /// dead-letter exchange (the default exchange) is written, not dropped.
    #[test]
    fn arguments_keep_their_types() {
        let specs = ConnectionSpecs {
            exchanges: vec![],
            queues: vec![QueueSpec::with(
                "q",
                &[
                    ("x-message-ttl", Value::Int(30000)),
                    ("x-dead-letter-exchange", Value::Str(String::new())),
                    ("x-custom", Value::Str("25".into())),
                    ("x-flag", Value::Bool(true)),
                ],
            )],
            bindings: vec![BindingSpec {
                key: BindingKey {
                    source: "e".into(),
                    destination: "q".into(),
                    destination_type: DestinationType::Queue,
                    routing_key: "a.#".into(),
                },
                arguments: ArgMap::from_iter([("x-rate".to_string(), Value::Int(5))]),
            }],
        };
        let doc: serde_json::Value = serde_json::from_str(&render(&specs, "shop")).unwrap();
        assert_eq!(
            doc["queues"][0],
            serde_json::json!({
                "name": "q", "vhost": "shop", "durable": true, "auto_delete": false,
                "arguments": {"x-custom": "25", "x-dead-letter-exchange": "",
                              "x-flag": true, "x-message-ttl": 30000}
            })
        );
        assert_eq!(
            doc["bindings"][0],
            serde_json::json!({
                "source": "e", "vhost": "shop", "destination": "q",
                "destination_type": "queue", "routing_key": "a.#",
                "arguments": {"x-rate": 5}
            })
        );
        assert_eq!(doc["exchanges"], serde_json::json!([]));
        assert!(doc["queues"][0]["arguments"]["x-message-ttl"].is_i64());
    }
}
