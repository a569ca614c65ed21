//! Reads what a broker holds over the management HTTP API: one definitions export per
//! vhost (`GET /api/definitions/{vhost}`), never one request per entity.

use std::collections::BTreeMap;
use std::time::Duration;

use rabbitmq_http_client::api::ClientBuilder;

use super::endpoint::Endpoint;
use crate::model::{DestinationType, Value};
use crate::spec::{ArgMap, BindingKey, BindingSpec, ConnectionSpecs, ExchangeSpec, QueueSpec};

/// Why the management API gave nothing.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing answers at the management URL: AMQP probes may stand in.
    Unreachable(String),
    /// It answered, but refused or failed (credentials, missing vhost, …).
    Refused(String),
}

/// Reads the vhost's definitions. Also returns the broker's version.
pub async fn read(
    endpoint: &Endpoint,
    tls: &super::Tls,
    timeout: Duration,
) -> Result<(ConnectionSpecs, String), ReadError> {
    let http = super::http::client(endpoint, tls, timeout).map_err(ReadError::Refused)?;
    let client = ClientBuilder::new()
        .with_endpoint(endpoint.management.clone())
        .with_basic_auth_credentials(
            endpoint.username.clone(),
            endpoint.password.expose().to_string(),
        )
        .with_client(http)
        .build()
        .map_err(|e| {
            ReadError::Refused(format!("management URL `{}`: {e}", endpoint.management))
        })?;
    let text = client
        .export_vhost_definitions_as_string(&endpoint.vhost)
        .await
        .map_err(|e| {
            let at = format!("management API {}", endpoint.management);
            if e.is_connection_error() || e.is_timeout() {
                ReadError::Unreachable(format!("{at} does not answer"))
            } else if e.is_unauthorized() {
                ReadError::Refused(format!(
                    "{at} refused the credentials of user `{}`",
                    endpoint.username
                ))
            } else if e.status_code().map(|s| s.as_u16()) == Some(404) {
                ReadError::Refused(format!("vhost `{}` does not exist on {at}", endpoint.vhost))
            } else {
                ReadError::Refused(format!("{at}: {e}"))
            }
        })?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ReadError::Refused(format!("the definitions export is not JSON: {e}")))?;
    let version = doc["rabbitmq_version"].as_str().unwrap_or("").to_string();
    Ok((specs_from_definitions(&doc), version))
}

/// A JSON value as sent to RabbitMQ: integers stay integers.
pub fn value_from_json(v: &serde_json::Value) -> Option<Value> {
    Some(match v {
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        },
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Array(items) => {
            Value::Array(items.iter().filter_map(value_from_json).collect())
        }
        serde_json::Value::Null | serde_json::Value::Object(_) => return None,
    })
}

fn args(v: &serde_json::Value) -> ArgMap {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), value_from_json(v)?)))
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default()
}

fn s(v: &serde_json::Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn b(v: &serde_json::Value, key: &str) -> bool {
    v[key].as_bool().unwrap_or(false)
}

/// Definitions JSON (as exported for one vhost, or as imported) → specs.
pub fn specs_from_definitions(doc: &serde_json::Value) -> ConnectionSpecs {
    let list = |key: &str| doc[key].as_array().cloned().unwrap_or_default();
    ConnectionSpecs {
        exchanges: list("exchanges")
            .iter()
            .map(|e| ExchangeSpec {
                name: s(e, "name"),
                kind: s(e, "type"),
                durable: b(e, "durable"),
                auto_delete: b(e, "auto_delete"),
                internal: b(e, "internal"),
                arguments: args(&e["arguments"]),
            })
            .collect(),
        queues: list("queues")
            .iter()
            .map(|q| QueueSpec {
                name: s(q, "name"),
                durable: b(q, "durable"),
                auto_delete: b(q, "auto_delete"),
                arguments: args(&q["arguments"]),
                messages: None,
            })
            .collect(),
        bindings: list("bindings")
            .iter()
            .map(|x| BindingSpec {
                key: BindingKey {
                    source: s(x, "source"),
                    destination: s(x, "destination"),
                    destination_type: if x["destination_type"] == "exchange" {
                        DestinationType::Exchange
                    } else {
                        DestinationType::Queue
                    },
                    routing_key: s(x, "routing_key"),
                },
                arguments: args(&x["arguments"]),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_stay_integers() {
        let doc = serde_json::json!({
            "queues": [{"name": "q", "durable": true, "auto_delete": false,
                        "arguments": {"x-message-ttl": 5000, "x": 1.5, "y": ["a", 1]}}],
            "exchanges": [], "bindings": []
        });
        let specs = specs_from_definitions(&doc);
        let a = &specs.queues[0].arguments;
        assert_eq!(a["x-message-ttl"], Value::Int(5000));
        assert_eq!(a["x"], Value::Float(1.5));
        assert_eq!(
            a["y"],
            Value::Array(vec![Value::Str("a".into()), Value::Int(1)])
        );
    }
}
