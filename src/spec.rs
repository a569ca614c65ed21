//! Broker-facing entity specs: an exchange, queue or binding exactly as it is declared on
//! (or read from) a broker, with no spans. The plan compares the specs made from the model
//! with the specs read from a broker; apply declares specs.

use std::collections::BTreeMap;

use crate::model::{Arguments, Binding, DestinationType, Exchange, Name, Queue, Topology, Value};

/// Arguments by name, sorted: a vector (a few arguments each, mostly none), not a tree
/// node of eleven slots each.
pub type ArgMap = litemap::LiteMap<String, Value>;

#[derive(Clone, Debug, PartialEq)]
pub struct ExchangeSpec {
    pub name: Name,
    pub kind: Name,
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
    pub name: Name,
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
    pub source: Name,
    pub destination: Name,
    pub destination_type: DestinationType,
    pub routing_key: Name,
}

impl BindingKey {
    /// Source, destination and routing key: the parts of the binding's name.
    pub fn parts(&self) -> [&str; 3] {
        [&self.source, &self.destination, &self.routing_key]
    }
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
        crate::model::binding_name(self.key.parts()).concat()
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

/// Topologies from this many bindings have their binding specs made on a thread of their
/// own, beside the exchanges' and queues'.
const BINDINGS_APART_FROM: usize = 20_000;

/// The desired specs of every connection the topology names, sorted as the contract sorts
/// them (the topology's [`Topology::plan_order`]). `plan` and `export` make them on a core of
/// their own while lint runs; the bindings of a large topology on a thread of their own (lint
/// ends long before the specs: the two halves then share both cores).
pub fn desired_by_connection(topology: &Topology) -> BTreeMap<String, ConnectionSpecs> {
    desired_made(topology, topology.bindings.len() >= BINDINGS_APART_FROM)
}

/// [`desired_by_connection`], the bindings made on a thread of their own when `apart`.
fn desired_made(topology: &Topology, apart: bool) -> BTreeMap<String, ConnectionSpecs> {
    let connections = topology.connections();
    let (mut out, bindings) = if apart {
        rayon::join(
            || exchange_and_queue_specs(topology, &connections),
            || binding_specs(topology, &connections),
        )
    } else {
        (
            exchange_and_queue_specs(topology, &connections),
            binding_specs(topology, &connections),
        )
    };
    for (specs, bindings) in out.values_mut().zip(bindings) {
        specs.bindings = bindings;
    }
    out
}

/// Each connection's specs (keyed by `connections`) of its exchanges and queues, in plan
/// order; no bindings.
fn exchange_and_queue_specs(
    topology: &Topology,
    connections: &[String],
) -> BTreeMap<String, ConnectionSpecs> {
    let order = topology.entity_order(connections);
    let mut out: BTreeMap<String, ConnectionSpecs> = connections
        .iter()
        .map(|c| (c.clone(), ConnectionSpecs::default()))
        .collect();
    // One connection, as nearly always: its lists are sized once.
    if out.len() == 1
        && let Some(one) = out.values_mut().next()
    {
        one.exchanges.reserve_exact(order.exchanges.len());
        one.queues.reserve_exact(order.queues.len());
    }
    for e in order
        .exchanges
        .iter()
        .map(|&i| &topology.exchanges[i as usize])
    {
        at(&mut out, &e.connection.value)
            .exchanges
            .push(exchange_spec(e));
    }
    for q in order.queues.iter().map(|&i| &topology.queues[i as usize]) {
        at(&mut out, &q.connection.value).queues.push(queue_spec(q));
    }
    out
}

/// The binding specs of each of `connections` (sorted, as [`Topology::connections`]), in
/// that order, each list in plan order.
fn binding_specs(topology: &Topology, connections: &[String]) -> Vec<Vec<BindingSpec>> {
    let order = topology.binding_order(connections);
    let mut out: Vec<Vec<BindingSpec>> = vec![Vec::new(); connections.len()];
    if let [one] = out.as_mut_slice() {
        one.reserve_exact(order.len());
    }
    let slot = |connection: &str| {
        connections
            .binary_search_by(|c| c.as_str().cmp(connection))
            .expect("every binding's connection is in Topology::connections")
    };
    for b in order.iter().map(|&i| &topology.bindings[i as usize]) {
        out[slot(&b.connection)].push(binding_spec(b));
    }
    out
}

/// The spec of one of the model's exchanges.
pub fn exchange_spec(e: &Exchange) -> ExchangeSpec {
    ExchangeSpec {
        name: e.name.value.clone(),
        kind: e.kind.value.clone(),
        durable: e.durable.value,
        auto_delete: e.auto_delete.value,
        internal: e.internal.value,
        arguments: arg_map(&e.arguments),
    }
}

/// The spec of one of the model's queues.
pub fn queue_spec(q: &Queue) -> QueueSpec {
    QueueSpec {
        name: q.name.value.clone(),
        durable: q.durable.value,
        auto_delete: q.auto_delete.value,
        arguments: arg_map(&q.arguments),
        usage: Usage::default(),
    }
}

/// The spec of one of the model's bindings.
pub fn binding_spec(b: &Binding) -> BindingSpec {
    BindingSpec {
        key: BindingKey {
            source: b.source.clone(),
            destination: b.destination.value.clone(),
            destination_type: b.destination_type.value,
            routing_key: b.routing_key.value.clone(),
        },
        arguments: arg_map(&b.arguments),
    }
}

fn arg_map(args: &Arguments) -> ArgMap {
    // Inserted one by one into a vector of exactly their number (the names are unique;
    // collecting would sort them in a vector of its own first).
    let mut map = ArgMap::with_capacity(args.len());
    for a in args.iter() {
        map.insert(a.name.value.clone(), a.value.clone());
    }
    map
}

/// The desired specs of one connection (empty when the topology does not name it).
pub fn desired(topology: &Topology, connection: &str) -> ConnectionSpecs {
    desired_by_connection(topology)
        .remove(connection)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Options, load};

    /// The specs are the same whether the bindings are made apart or not: each connection's
    /// own entities (two connections here), in plan order.
    #[test]
    fn bindings_made_apart_are_the_same_specs() {
        let dir = crate::load::test_tree::two_connections(3, 40, 7);
        let loaded = load(&[dir.path().to_path_buf()], &Options::default()).unwrap();
        let topology = &loaded.topology;
        let apart = desired_made(topology, true);
        assert_eq!(apart, desired_made(topology, false));
        assert_eq!(apart.keys().collect::<Vec<_>>(), ["amqp", "other"]);
        let order = topology.plan_order();
        for (connection, specs) in &apart {
            let want: Vec<String> = order
                .bindings
                .iter()
                .map(|&i| &topology.bindings[i as usize])
                .filter(|b| b.connection == connection.as_str())
                .map(|b| b.display_name())
                .collect();
            let got: Vec<String> = specs
                .bindings
                .iter()
                .map(|b| crate::model::binding_name(b.key.parts()).concat())
                .collect();
            assert_eq!(got.len(), 120, "{connection}");
            assert_eq!(got, want, "{connection}");
            assert_eq!(specs.exchanges.len(), 3);
            assert_eq!(specs.queues.len(), 7);
        }
    }
}
