//! Recovery records: what an interrupted replace leaves on the broker, so that the next
//! `plan` shows it and the next `apply` finishes it, whatever killed the run.
//!
//! A record is a durable queue with a recognisable name and marker arguments:
//! - a **holding queue** (`topology.holding.<queue>`) receives a queue's bindings and
//!   messages while the queue is deleted and declared again; its arguments also keep the old
//!   queue's definition, so that nothing is lost even when the files no longer declare it;
//! - an **exchange restore record** (`topology.restore.<exchange>`, always empty) keeps the
//!   old exchange's definition and every binding from and to it while it is replaced.
//!
//! Takes and gives broker specs; pure. It stands with the broker's state, under both of its
//! readers: the plan, which recognises records among what a broker holds, and apply's
//! protocols, which write them and finish them.

use crate::model::{DestinationType, Value};
use crate::spec::{ArgMap, BindingKey, BindingSpec, ExchangeSpec, QueueSpec, QueueType, Usage};

/// Marker argument: which kind of record a queue is.
pub const KIND: &str = "topology-record";
/// Marker argument: the queue or exchange the record is for.
pub const FOR: &str = "topology-record-for";
/// The old definition, as JSON.
const SPEC: &str = "topology-record-spec";
/// Bindings to restore, as JSON (exchange records).
const BINDINGS: &str = "topology-record-bindings";

const HOLDING: &str = "holding";
const EXCHANGE_RESTORE: &str = "exchange-restore";

/// A recovery record found on (or to be written to) a broker.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// `queue`'s bindings and messages wait in the holding queue `holding`.
    Holding {
        holding: String,
        queue: String,
        /// The queue's definition before the replace began.
        old: QueueSpec,
    },
    /// Exchange `exchange` was being replaced; `bindings` are every binding from and to it.
    ExchangeRestore {
        record: String,
        exchange: String,
        old: ExchangeSpec,
        bindings: Vec<BindingSpec>,
    },
}

impl Record {
    /// The record's own queue name.
    pub fn queue_name(&self) -> &str {
        match self {
            Record::Holding { holding, .. } => holding,
            Record::ExchangeRestore { record, .. } => record,
        }
    }

    /// Recognises a record among a broker's queues.
    pub fn parse(q: &QueueSpec) -> Option<Record> {
        let text = |key: &str| match q.arguments.get(key) {
            Some(Value::Str(s)) => Some(s.as_str()),
            _ => None,
        };
        let json = |key: &str| serde_json::from_str::<serde_json::Value>(text(key)?).ok();
        let target = text(FOR)?.to_string();
        match text(KIND)? {
            HOLDING => Some(Record::Holding {
                holding: q.name.to_string(),
                old: queue_from_json(&target, &json(SPEC)?),
                queue: target,
            }),
            EXCHANGE_RESTORE => Some(Record::ExchangeRestore {
                record: q.name.to_string(),
                old: exchange_from_json(&target, &json(SPEC)?),
                bindings: json(BINDINGS)?
                    .as_array()?
                    .iter()
                    .filter_map(binding_from_json)
                    .collect(),
                exchange: target,
            }),
            _ => None,
        }
    }

    /// The holding record of a queue about to be replaced.
    pub fn holding_for(old: &QueueSpec) -> Record {
        Record::Holding {
            holding: record_name("topology.holding.", &old.name),
            queue: old.name.to_string(),
            old: QueueSpec {
                usage: Usage::default(),
                ..old.clone()
            },
        }
    }

    /// The restore record of an exchange about to be replaced.
    pub fn exchange_restore(old: &ExchangeSpec, bindings: Vec<BindingSpec>) -> Record {
        Record::ExchangeRestore {
            record: record_name("topology.restore.", &old.name),
            exchange: old.name.to_string(),
            old: old.clone(),
            bindings,
        }
    }

    /// The record's queue as it is declared: durable; a holding queue of a quorum queue is
    /// a quorum queue too (as safe as what it holds, and declaring it proves a quorum).
    pub fn spec(&self) -> QueueSpec {
        let mut arguments = ArgMap::new();
        let (kind, target, spec, queue_type) = match self {
            Record::Holding { queue, old, .. } => {
                (HOLDING, queue, queue_json(old), old.queue_type())
            }
            Record::ExchangeRestore {
                exchange,
                old,
                bindings,
                ..
            } => {
                let list: Vec<serde_json::Value> = bindings.iter().map(binding_json).collect();
                arguments.insert(
                    BINDINGS.into(),
                    Value::Str(serde_json::Value::Array(list).to_string()),
                );
                (
                    EXCHANGE_RESTORE,
                    exchange,
                    exchange_json(old),
                    QueueType::Classic,
                )
            }
        };
        arguments.insert(KIND.into(), Value::Str(kind.into()));
        arguments.insert(FOR.into(), Value::Str(target.clone()));
        arguments.insert(SPEC.into(), Value::Str(spec.to_string()));
        if queue_type == QueueType::Quorum {
            arguments.insert("x-queue-type".into(), Value::Str("quorum".into()));
        }
        QueueSpec {
            name: self.queue_name().into(),
            durable: true,
            auto_delete: false,
            arguments,
            usage: Usage::default(),
        }
    }
}

/// True for an exchange or queue this tool declared for its own protocols (holding
/// queues, records, scratch entities): never unmanaged; apply finishes or removes it.
pub fn is_own(arguments: &ArgMap) -> bool {
    matches!(arguments.get(KIND), Some(Value::Str(_)))
}

/// `prefix + name`, within AMQP's 255-byte limit: a long name is cut at a character
/// boundary and ends with a hash of the whole name, so that two long names stay apart.
pub fn record_name(prefix: &str, name: &str) -> String {
    let whole = format!("{prefix}{name}");
    if whole.len() <= 255 {
        return whole;
    }
    let hash = format!(".{:016x}", fnv1a(name.as_bytes()));
    let mut cut = 255 - hash.len();
    while !whole.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{hash}", &whole[..cut])
}

/// FNV-1a, 64-bit: stable across builds and platforms (names must not change between runs).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn args_json(args: &ArgMap) -> serde_json::Value {
    args.iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn args_from_json(v: &serde_json::Value) -> ArgMap {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), Value::from_json(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

fn queue_json(q: &QueueSpec) -> serde_json::Value {
    serde_json::json!({"durable": q.durable, "auto_delete": q.auto_delete,
                       "arguments": args_json(&q.arguments)})
}

fn queue_from_json(name: &str, v: &serde_json::Value) -> QueueSpec {
    QueueSpec {
        name: name.into(),
        durable: v["durable"].as_bool().unwrap_or(true),
        auto_delete: v["auto_delete"].as_bool().unwrap_or(false),
        arguments: args_from_json(&v["arguments"]),
        usage: Usage::default(),
    }
}

fn exchange_json(e: &ExchangeSpec) -> serde_json::Value {
    serde_json::json!({"type": e.kind, "durable": e.durable, "auto_delete": e.auto_delete,
                       "internal": e.internal, "arguments": args_json(&e.arguments)})
}

fn exchange_from_json(name: &str, v: &serde_json::Value) -> ExchangeSpec {
    ExchangeSpec {
        name: name.into(),
        kind: v["type"].as_str().unwrap_or("topic").into(),
        durable: v["durable"].as_bool().unwrap_or(true),
        auto_delete: v["auto_delete"].as_bool().unwrap_or(false),
        internal: v["internal"].as_bool().unwrap_or(false),
        arguments: args_from_json(&v["arguments"]),
    }
}

fn binding_json(b: &BindingSpec) -> serde_json::Value {
    serde_json::json!({"source": b.key.source, "destination": b.key.destination,
                       "destination_type": b.key.destination_type.as_str(),
                       "routing_key": b.key.routing_key, "arguments": args_json(&b.arguments)})
}

fn binding_from_json(v: &serde_json::Value) -> Option<BindingSpec> {
    Some(BindingSpec {
        key: BindingKey {
            source: v["source"].as_str()?.into(),
            destination: v["destination"].as_str()?.into(),
            destination_type: if v["destination_type"] == "exchange" {
                DestinationType::Exchange
            } else {
                DestinationType::Queue
            },
            routing_key: v["routing_key"].as_str()?.into(),
        },
        arguments: args_from_json(&v["arguments"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holding_record_round_trips_through_its_queue() {
        let old = QueueSpec::with(
            "orders.retry",
            &[
                ("x-message-ttl", Value::Int(30000)),
                ("x-queue-type", Value::Str("quorum".into())),
                ("x-list", Value::Array(vec![Value::Str("a".into())])),
            ],
        );
        let record = Record::holding_for(&old);
        let spec = record.spec();
        assert_eq!(spec.name, "topology.holding.orders.retry");
        assert_eq!(spec.queue_type(), QueueType::Quorum);
        assert!(spec.durable && !spec.auto_delete);
        assert_eq!(Record::parse(&spec), Some(record));
        assert_eq!(Record::parse(&old), None, "an ordinary queue is no record");
    }

    #[test]
    fn exchange_record_keeps_every_binding() {
        let old = ExchangeSpec {
            name: "ex".into(),
            kind: "direct".into(),
            durable: true,
            auto_delete: false,
            internal: false,
            arguments: ArgMap::from_iter([("alternate-exchange".into(), Value::Str("ae".into()))]),
        };
        let b = |dest: &str, t| BindingSpec {
            key: BindingKey {
                source: "ex".into(),
                destination: dest.into(),
                destination_type: t,
                routing_key: "k".into(),
            },
            arguments: ArgMap::from_iter([("x-n".into(), Value::Int(1))]),
        };
        let record = Record::exchange_restore(
            &old,
            vec![
                b("q", DestinationType::Queue),
                b("e2", DestinationType::Exchange),
            ],
        );
        let spec = record.spec();
        assert_eq!(spec.queue_type(), QueueType::Classic);
        assert_eq!(Record::parse(&spec), Some(record));
    }

    #[test]
    fn long_names_stay_within_255_bytes_and_apart() {
        let a = "é".repeat(127) + "a";
        let b = "é".repeat(127) + "b";
        let (na, nb) = (
            record_name("topology.holding.", &a),
            record_name("topology.holding.", &b),
        );
        assert!(na.len() <= 255 && nb.len() <= 255);
        assert_ne!(na, nb);
        assert_eq!(na, record_name("topology.holding.", &a), "stable");
    }
}
