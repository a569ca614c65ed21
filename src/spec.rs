//! Broker-facing entity specs: an exchange, queue or binding exactly as it is declared on
//! (or read from) a broker, with no spans. The plan compares the specs made from the model
//! with the specs read from a broker; apply declares specs.

use std::collections::BTreeMap;

use crate::model::{Arguments, DestinationType, Topology, Value};

pub type ArgMap = BTreeMap<String, Value>;

#[derive(Clone, Debug, PartialEq)]
pub struct ExchangeSpec {
    pub name: String,
    pub kind: String,
    pub durable: bool,
    pub auto_delete: bool,
    pub internal: bool,
    pub arguments: ArgMap,
}

impl ExchangeSpec {
    /// A durable exchange of `kind` without arguments, as tests build them.
    #[cfg(test)]
    pub fn of_kind(name: &str, kind: &str) -> ExchangeSpec {
        ExchangeSpec {
            name: name.into(),
            kind: kind.into(),
            durable: true,
            auto_delete: false,
            internal: false,
            arguments: ArgMap::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueueSpec {
    pub name: String,
    pub durable: bool,
    pub auto_delete: bool,
    pub arguments: ArgMap,
    /// What uses the queue, when read from a broker (all `None` for the files' queues).
    pub usage: Usage,
}

/// How a queue on a broker is used: what a delete or replace would touch. `None` where the
/// mode that read the broker cannot see it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Ready messages (AMQP `queue.declare-ok`: exact).
    pub messages: Option<u64>,
    /// Messages delivered and not yet acknowledged (management API statistics: a few
    /// seconds old).
    pub unacked: Option<u64>,
    /// Consumers attached (AMQP `queue.declare-ok`: exact).
    pub consumers: Option<u64>,
}

impl QueueSpec {
    /// A durable queue with `arguments`, as tests build them.
    #[cfg(test)]
    pub fn with(name: &str, arguments: &[(&str, Value)]) -> QueueSpec {
        QueueSpec {
            name: name.into(),
            durable: true,
            auto_delete: false,
            arguments: arguments
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            usage: Usage::default(),
        }
    }

    /// The queue type (`classic` unless `x-queue-type` says otherwise).
    pub fn queue_type(&self) -> QueueType {
        match self.arguments.get("x-queue-type") {
            Some(Value::Str(t)) if t == "quorum" => QueueType::Quorum,
            Some(Value::Str(t)) if t == "stream" => QueueType::Stream,
            _ => QueueType::Classic,
        }
    }

    /// Same properties and arguments (usage aside).
    pub fn same_definition(&self, other: &QueueSpec) -> bool {
        self.durable == other.durable
            && self.auto_delete == other.auto_delete
            && self.arguments == other.arguments
    }
}

/// RabbitMQ's queue types, as far as deleting and replacing them differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueType {
    /// `queue.delete` checks `if-unused` and `if-empty` atomically.
    Classic,
    /// Replicated (Raft): refuses `if-unused`/`if-empty` (540, closing the connection).
    Quorum,
    /// An append-only log: consuming does not remove messages.
    Stream,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BindingKey {
    pub source: String,
    pub destination: String,
    pub destination_type: DestinationType,
    pub routing_key: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BindingSpec {
    pub key: BindingKey,
    pub arguments: ArgMap,
}

impl BindingSpec {
    /// Key and arguments as one string: two bindings are the same binding when these are
    /// equal (hashable, for topologies of tens of thousands of bindings).
    pub fn signature(&self) -> String {
        format!("{:?}{:?}", self.key, self.arguments)
    }

    pub fn display_name(&self) -> String {
        format!(
            "{} -> {} [{}]",
            self.key.source, self.key.destination, self.key.routing_key
        )
    }
}

/// All entities of one connection (one vhost of one broker).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnectionSpecs {
    pub exchanges: Vec<ExchangeSpec>,
    pub queues: Vec<QueueSpec>,
    pub bindings: Vec<BindingSpec>,
}

/// The specs of `connection` in `out`.
fn at<'a>(
    out: &'a mut BTreeMap<String, ConnectionSpecs>,
    connection: &str,
) -> &'a mut ConnectionSpecs {
    out.get_mut(connection)
        .expect("every entity's connection is in Topology::connections")
}

/// The desired specs of every connection the topology names, sorted as the contract sorts
/// them.
pub fn desired_by_connection(topology: &Topology) -> BTreeMap<String, ConnectionSpecs> {
    into_desired(topology.clone())
}

/// The same, made from the topology itself: its names and arguments are moved, not copied
/// (`plan`, whose topology is not needed after).
pub fn into_desired(topology: Topology) -> BTreeMap<String, ConnectionSpecs> {
    let mut out: BTreeMap<String, ConnectionSpecs> = topology
        .connections()
        .into_iter()
        .map(|c| (c, ConnectionSpecs::default()))
        .collect();
    let (exchanges, queues, bindings) = topology.into_sorted();
    for e in exchanges {
        at(&mut out, &e.connection.value)
            .exchanges
            .push(ExchangeSpec {
                name: e.name.value.into(),
                kind: e.kind.value.into(),
                durable: e.durable.value,
                auto_delete: e.auto_delete.value,
                internal: e.internal.value,
                arguments: into_arg_map(e.arguments),
            });
    }
    for q in queues {
        at(&mut out, &q.connection.value).queues.push(QueueSpec {
            name: q.name.value.into(),
            durable: q.durable.value,
            auto_delete: q.auto_delete.value,
            arguments: into_arg_map(q.arguments),
            usage: Usage::default(),
        });
    }
    for b in bindings {
        at(&mut out, &b.connection).bindings.push(BindingSpec {
            key: BindingKey {
                source: b.source.into(),
                destination: b.destination.value.into(),
                destination_type: b.destination_type.value,
                routing_key: b.routing_key.value.into(),
            },
            arguments: into_arg_map(b.arguments),
        });
    }
    out
}

fn into_arg_map(args: Arguments) -> ArgMap {
    args.into_iter().map(|a| (a.name.value, a.value)).collect()
}

/// The desired specs of one connection (empty when the topology does not name it).
pub fn desired(topology: &Topology, connection: &str) -> ConnectionSpecs {
    desired_by_connection(topology)
        .remove(connection)
        .unwrap_or_default()
}
