//! A picture of the topology, built once and drawn in either notation ([`super::mermaid`],
//! [`super::dot`]).
//!
//! Takes the specs of each connection (as `apply` declares them, sorted as the plan sorts
//! them) and the connections that are not provisioned; gives a [`Graph`]: one [`Cluster`]
//! per connection, exchanges and queues as [`Node`]s, bindings and dead-letter routes as
//! [`Edge`]s. Names are kept as they are; a [`Notation`] escapes them for its language, and
//! nodes get generated ids (`c0e1`: cluster 0, exchange 1), never their names.

use std::collections::{BTreeMap, HashMap};

use crate::model::{DestinationType, Value};
use crate::spec::{ConnectionSpecs, QueueSpec};

/// Every connection drawn, in name order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub clusters: Vec<Cluster>,
}

/// One connection (one vhost of one broker).
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// A safe identifier (`c0`).
    pub id: String,
    /// The connection's name, and `: not provisioned` when it is not.
    pub title: String,
    /// False for a connection `plan` and `apply` skip (not AMQP): drawn greyed out.
    pub provisioned: bool,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Exchange,
    Queue,
}

impl Shape {
    fn of(kind: DestinationType) -> Shape {
        match kind {
            DestinationType::Exchange => Shape::Exchange,
            DestinationType::Queue => Shape::Queue,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// A safe identifier, unique in the graph.
    pub id: String,
    pub shape: Shape,
    /// False for an exchange or queue named by a binding or a dead-letter route but
    /// declared by no file: drawn dashed.
    pub declared: bool,
    /// The label's lines, unescaped: the name first, then what is worth seeing (an
    /// exchange's type, a queue's type and message TTL).
    pub lines: Vec<String>,
}

/// What an edge stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// A binding, from its exchange, labelled with its routing key.
    Binding,
    /// Where a queue dead-letters its messages (`x-dead-letter-exchange`): drawn dashed.
    DeadLetter,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// Unescaped; empty for none.
    pub label: String,
    pub route: Route,
}

/// The graph of `specs`; the connections of `not_provisioned` are marked so.
pub fn build(
    specs: &BTreeMap<String, ConnectionSpecs>,
    not_provisioned: &BTreeMap<String, String>,
) -> Graph {
    Graph {
        clusters: specs
            .iter()
            .enumerate()
            .map(|(i, (name, specs))| {
                let provisioned = !not_provisioned.contains_key(name);
                ClusterBuilder::new(i, specs).finish(name, provisioned)
            })
            .collect(),
    }
}

/// Builds one cluster: node ids by name (exchanges and queues apart: a queue and an
/// exchange may share a name), undeclared nodes made on first mention.
struct ClusterBuilder<'a> {
    id: String,
    specs: &'a ConnectionSpecs,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    exchanges: HashMap<&'a str, String>,
    queues: HashMap<&'a str, String>,
    undeclared: HashMap<(DestinationType, &'a str), String>,
}

impl<'a> ClusterBuilder<'a> {
    fn new(index: usize, specs: &'a ConnectionSpecs) -> Self {
        let mut builder = ClusterBuilder {
            id: format!("c{index}"),
            specs,
            nodes: Vec::new(),
            edges: Vec::new(),
            exchanges: HashMap::new(),
            queues: HashMap::new(),
            undeclared: HashMap::new(),
        };
        for e in &specs.exchanges {
            builder.declare(
                DestinationType::Exchange,
                &e.name,
                vec![e.name.to_string(), e.kind.to_string()],
            );
        }
        for q in &specs.queues {
            builder.declare(DestinationType::Queue, &q.name, queue_lines(q));
        }
        builder
    }

    fn finish(mut self, connection: &str, provisioned: bool) -> Cluster {
        let specs = self.specs;
        for b in &specs.bindings {
            let from = self.node(DestinationType::Exchange, &b.key.source);
            let to = self.node(b.key.destination_type, &b.key.destination);
            self.edges.push(Edge {
                from,
                to,
                label: b.key.routing_key.to_string(),
                route: Route::Binding,
            });
        }
        for q in &specs.queues {
            if let Some(edge) = self.dead_letter(q) {
                self.edges.push(edge);
            }
        }
        Cluster {
            title: if provisioned {
                connection.to_string()
            } else {
                format!("{connection}: not provisioned")
            },
            id: self.id,
            provisioned,
            nodes: self.nodes,
            edges: self.edges,
        }
    }

    /// Adds the node of a declared exchange or queue (ids `c0e1`, `c0q1`).
    fn declare(&mut self, kind: DestinationType, name: &'a str, lines: Vec<String>) {
        let (ids, letter) = match kind {
            DestinationType::Exchange => (&mut self.exchanges, 'e'),
            DestinationType::Queue => (&mut self.queues, 'q'),
        };
        let id = format!("{}{letter}{}", self.id, ids.len());
        ids.insert(name, id.clone());
        self.nodes.push(Node {
            id,
            shape: Shape::of(kind),
            declared: true,
            lines,
        });
    }

    /// The id of the exchange or queue `name`, made an undeclared node if no file declares it.
    fn node(&mut self, kind: DestinationType, name: &'a str) -> String {
        let declared = match kind {
            DestinationType::Exchange => self.exchanges.get(name),
            DestinationType::Queue => self.queues.get(name),
        };
        if let Some(id) = declared {
            return id.clone();
        }
        if let Some(id) = self.undeclared.get(&(kind, name)) {
            return id.clone();
        }
        let id = format!("{}u{}", self.id, self.undeclared.len());
        self.undeclared.insert((kind, name), id.clone());
        self.nodes.push(Node {
            id: id.clone(),
            shape: Shape::of(kind),
            declared: false,
            lines: vec![name.to_string(), format!("{} not declared", kind.as_str())],
        });
        id
    }

    /// The dead-letter route of `q`, if it has one. The default exchange (`""`) delivers
    /// to the queue its routing key names: the edge then goes straight to that queue when
    /// the topology declares it, else to a node for the default exchange.
    fn dead_letter(&mut self, q: &'a QueueSpec) -> Option<Edge> {
        let Some(Value::Str(exchange)) = q.arguments.get("x-dead-letter-exchange") else {
            return None;
        };
        let key = match q.arguments.get("x-dead-letter-routing-key") {
            Some(Value::Str(key)) => Some(key.as_str()),
            _ => None,
        };
        let from = self.queues.get(q.name.as_str())?.clone();
        let labelled = |text: &str| match key {
            Some(key) => format!("{text}: {key}"),
            None => text.to_string(),
        };
        let (to, label) = if !exchange.is_empty() {
            (
                self.node(DestinationType::Exchange, exchange),
                labelled("dead-letter"),
            )
        } else if let Some(queue) = key.and_then(|k| self.queues.get(k)) {
            (
                queue.clone(),
                "dead-letter via default exchange".to_string(),
            )
        } else {
            (self.default_exchange(), labelled("dead-letter"))
        };
        Some(Edge {
            from,
            to,
            label,
            route: Route::DeadLetter,
        })
    }

    /// The node of RabbitMQ's default exchange, made on first use.
    fn default_exchange(&mut self) -> String {
        let id = format!("{}d", self.id);
        if !self.nodes.iter().any(|n| n.id == id) {
            self.nodes.push(Node {
                id: id.clone(),
                shape: Shape::Exchange,
                declared: true,
                lines: vec!["(default exchange)".to_string(), "direct".to_string()],
            });
        }
        id
    }
}

/// A queue's label: its name, its type unless classic, its message TTL.
fn queue_lines(q: &QueueSpec) -> Vec<String> {
    let mut lines = vec![q.name.to_string()];
    if let Some(Value::Str(kind)) = q.arguments.get("x-queue-type")
        && kind != "classic"
    {
        lines.push(kind.clone());
    }
    if let Some(Value::Int(ttl)) = q.arguments.get("x-message-ttl") {
        lines.push(format!("ttl {ttl} ms"));
    }
    lines
}

/// How a graph language writes each part. [`draw`] walks the graph once for every
/// notation; a notation only spells.
pub trait Notation {
    /// What separates the lines of a label (after escaping).
    const LINE_BREAK: &'static str;
    /// `text` as it may stand in a quoted label (control characters are already made
    /// visible).
    fn escape(text: &str) -> String;
    fn open(out: &mut String);
    fn open_cluster(out: &mut String, cluster: &Cluster, title: &str);
    fn node(out: &mut String, node: &Node, label: &str);
    /// `label` is empty for none.
    fn edge(out: &mut String, edge: &Edge, label: &str);
    fn close_cluster(out: &mut String, cluster: &Cluster);
    fn close(out: &mut String, graph: &Graph);
}

/// `graph` written in notation `N`.
pub fn draw<N: Notation>(graph: &Graph) -> String {
    let text = |t: &str| N::escape(&super::escape_controls(t, false));
    let mut out = String::new();
    N::open(&mut out);
    for cluster in &graph.clusters {
        N::open_cluster(&mut out, cluster, &text(&cluster.title));
        for node in &cluster.nodes {
            let lines: Vec<String> = node.lines.iter().map(|l| text(l)).collect();
            N::node(&mut out, node, &lines.join(N::LINE_BREAK));
        }
        for edge in &cluster.edges {
            N::edge(&mut out, edge, &text(&edge.label));
        }
        N::close_cluster(&mut out, cluster);
    }
    N::close(&mut out, graph);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{BindingKey, BindingSpec, ExchangeSpec};

    fn exchange(name: &str) -> ExchangeSpec {
        ExchangeSpec {
            name: name.into(),
            kind: "topic".into(),
            durable: true,
            auto_delete: false,
            internal: false,
            arguments: Default::default(),
        }
    }

    fn binding(source: &str, kind: DestinationType, destination: &str) -> BindingSpec {
        BindingSpec {
            key: BindingKey {
                source: source.into(),
                destination: destination.into(),
                destination_type: kind,
                routing_key: "k".into(),
            },
            arguments: Default::default(),
        }
    }

    fn dlx(exchange: &str, key: Option<&str>) -> Vec<(&'static str, Value)> {
        let mut args = vec![("x-dead-letter-exchange", Value::Str(exchange.into()))];
        if let Some(key) = key {
            args.push(("x-dead-letter-routing-key", Value::Str(key.into())));
        }
        args
    }

    fn one(specs: ConnectionSpecs) -> Cluster {
        let graph = build(&[("amqp".to_string(), specs)].into(), &BTreeMap::new());
        graph.clusters.into_iter().next().unwrap()
    }

    fn edges(cluster: &Cluster) -> Vec<(&str, &str, &str, Route)> {
        cluster
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str(), e.label.as_str(), e.route))
            .collect()
    }

    /// A queue and an exchange of the same name are two nodes; a dead-letter route goes
    /// to the exchange, labelled with its key; the default exchange with a key naming a
    /// declared queue goes straight to that queue.
    #[test]
    fn dead_letter_routes() {
        let cluster = one(ConnectionSpecs {
            exchanges: vec![exchange("retry")],
            queues: vec![
                QueueSpec::with("main", &dlx("retry", Some("main"))),
                QueueSpec::with("retry", &dlx("", Some("main"))),
                QueueSpec::with("lost", &dlx("", None)),
                QueueSpec::with("gone", &dlx("nowhere", None)),
            ],
            bindings: vec![binding("retry", DestinationType::Queue, "retry")],
        });
        let dead = Route::DeadLetter;
        assert_eq!(
            edges(&cluster),
            [
                ("c0e0", "c0q1", "k", Route::Binding),
                ("c0q0", "c0e0", "dead-letter: main", dead),
                ("c0q1", "c0q0", "dead-letter via default exchange", dead),
                ("c0q2", "c0d", "dead-letter", dead),
                ("c0q3", "c0u0", "dead-letter", dead),
            ]
        );
        let undeclared = cluster.nodes.iter().find(|n| n.id == "c0u0").unwrap();
        assert_eq!(
            (undeclared.shape, undeclared.declared),
            (Shape::Exchange, false)
        );
        assert_eq!(undeclared.lines, ["nowhere", "exchange not declared"]);
    }

    /// An undeclared destination is one node however often it is named, and an exchange
    /// and a queue of the same undeclared name stay two.
    #[test]
    fn undeclared_nodes_are_made_once() {
        let cluster = one(ConnectionSpecs {
            exchanges: vec![exchange("a"), exchange("b")],
            queues: vec![],
            bindings: vec![
                binding("a", DestinationType::Exchange, "x"),
                binding("b", DestinationType::Exchange, "x"),
                binding("b", DestinationType::Queue, "x"),
            ],
        });
        let targets: Vec<&str> = cluster.edges.iter().map(|e| e.to.as_str()).collect();
        assert_eq!(targets, ["c0u0", "c0u0", "c0u1"]);
        assert_eq!(cluster.nodes.len(), 4);
    }

    /// A connection that is not provisioned says so in its title.
    #[test]
    fn not_provisioned_connections_are_marked() {
        let specs = [
            ("amqp".to_string(), ConnectionSpecs::default()),
            ("db".to_string(), ConnectionSpecs::default()),
        ]
        .into();
        let skipped = [("db".to_string(), "MySQL".to_string())].into();
        let graph = build(&specs, &skipped);
        let titles: Vec<(&str, bool)> = graph
            .clusters
            .iter()
            .map(|c| (c.title.as_str(), c.provisioned))
            .collect();
        assert_eq!(titles, [("amqp", true), ("db: not provisioned", false)]);
    }
}
