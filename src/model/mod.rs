//! Model stage: the one true model of a topology, as Magento's installer would declare it.
//!
//! Takes: the per-file declarations of the `schema` stage, in merge order. Gives: a
//! [`Topology`] of [`Exchange`]s, [`Queue`]s and [`Binding`]s (see [`merge`]), each value
//! keeping the [`Span`] of the file and attribute that gave it, so that a diagnostic about
//! a merged entity points at the place at fault.

pub mod arguments;
pub mod merge;
pub mod values;

use crate::source::{Span, Spanned};

pub use arguments::{Argument, Arguments, Value};

/// A name in the model (of an exchange, a queue, a connection; a binding's id, topic and
/// destination; an exchange's type): 16 bytes, held inline up to 15 bytes, shared rather
/// than copied when cloned (an inferred queue shares its binding's destination). A topology
/// of 100,000 bindings holds half a million of them.
pub type Name = ecow::EcoString;
pub use merge::{MergeInput, merge};

/// What a binding's destination is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DestinationType {
    Queue,
    Exchange,
}

impl DestinationType {
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationType::Queue => "queue",
            DestinationType::Exchange => "exchange",
        }
    }
}

/// An exchange after merging, defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    pub name: Spanned<Name>,
    pub connection: Spanned<Name>,
    /// `topic`, `direct`, `fanout`, `headers` or an `x-…` plugin type (checked by lint).
    pub kind: Spanned<Name>,
    pub durable: Spanned<bool>,
    pub auto_delete: Spanned<bool>,
    pub internal: Spanned<bool>,
    pub arguments: Arguments,
    /// The `<exchange>` tag that first declared it.
    pub span: Span,
}

/// Where a queue comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A first-class `<queue>` element.
    Queue,
    /// Inferred from a binding's destination (Magento's behaviour).
    Binding,
    /// Magento's `responseQueue.<topic>` for a synchronous topic.
    Response,
}

impl Origin {
    /// The contract's `origin` (a response queue is inferred from a binding too).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Queue => "queue",
            Origin::Binding | Origin::Response => "binding",
        }
    }
}

/// A queue after merging.
#[derive(Clone, Debug, PartialEq)]
pub struct Queue {
    pub name: Spanned<Name>,
    pub connection: Spanned<Name>,
    pub durable: Spanned<bool>,
    pub auto_delete: Spanned<bool>,
    pub arguments: Arguments,
    pub origin: Origin,
    pub span: Span,
}

/// A binding after merging. Disabled bindings stay in the model (their queue is still
/// declared) but are not bound.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub id: Spanned<Name>,
    pub source: Name,
    pub connection: Name,
    /// Spanned at the binding element when the attribute is not written.
    pub destination_type: Spanned<DestinationType>,
    pub destination: Spanned<Name>,
    pub routing_key: Spanned<Name>,
    /// Whether a `topic` attribute was written (an empty routing key otherwise). Magento
    /// refuses a binding of a topic exchange without one.
    pub topic_given: bool,
    pub disabled: bool,
    pub arguments: Arguments,
    pub span: Span,
}

impl Binding {
    /// The contract's display name: `source -> destination [routing_key]`.
    pub fn display_name(&self) -> String {
        format!(
            "{} -> {} [{}]",
            self.source, self.destination.value, self.routing_key.value
        )
    }
}

/// The merged topology of every file, in declaration order (renderers sort).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Topology {
    pub exchanges: Vec<Exchange>,
    pub queues: Vec<Queue>,
    pub bindings: Vec<Binding>,
}

impl Topology {
    /// Every connection named by an entity, sorted.
    pub fn connections(&self) -> Vec<String> {
        // Deduplicated first: a million queues name a handful of connections.
        let unique: rustc_hash::FxHashSet<&str> = self
            .exchanges
            .iter()
            .map(|e| e.connection.value.as_str())
            .chain(self.queues.iter().map(|q| q.connection.value.as_str()))
            .collect();
        let mut names: Vec<String> = unique.into_iter().map(str::to_string).collect();
        names.sort();
        names
    }

    /// Exchanges sorted by (connection, name).
    pub fn sorted_exchanges(&self) -> Vec<&Exchange> {
        let mut v: Vec<_> = self.exchanges.iter().collect();
        v.sort_by(|a, b| by_connection_and_name(&a.connection, &a.name, &b.connection, &b.name));
        v
    }

    /// Queues sorted by (connection, name).
    pub fn sorted_queues(&self) -> Vec<&Queue> {
        let mut v: Vec<_> = self.queues.iter().collect();
        v.sort_by(|a, b| by_connection_and_name(&a.connection, &a.name, &b.connection, &b.name));
        v
    }

    /// Enabled bindings sorted by (connection, source, destination, routing key).
    pub fn sorted_bindings(&self) -> Vec<&Binding> {
        let mut v: Vec<_> = self.bindings.iter().filter(|b| !b.disabled).collect();
        v.sort_by(|a, b| binding_key(a).cmp(&binding_key(b)));
        v
    }

    /// The same three lists, by value: what `plan` takes when nothing needs the topology
    /// after it (no copy of each name).
    pub fn into_sorted(self) -> (Vec<Exchange>, Vec<Queue>, Vec<Binding>) {
        let exchanges = sorted_by_moving(self.exchanges, |a, b| {
            by_connection_and_name(&a.connection, &a.name, &b.connection, &b.name)
        });
        let queues = sorted_by_moving(self.queues, |a, b| {
            by_connection_and_name(&a.connection, &a.name, &b.connection, &b.name)
        });
        let bindings: Vec<Binding> = self.bindings.into_iter().filter(|b| !b.disabled).collect();
        let bindings = sorted_by_moving(bindings, |a, b| binding_key(a).cmp(&binding_key(b)));
        (exchanges, queues, bindings)
    }
}

/// `items` stably sorted by `compare`, each item moved once: the sort itself orders
/// indices, so that entities of a few hundred bytes are not moved at every step of it (a
/// sort in place moved 100,000 bindings some 1.7 million times).
fn sorted_by_moving<T>(items: Vec<T>, compare: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    let mut order: Vec<u32> = (0..items.len() as u32).collect();
    order.sort_by(|&a, &b| compare(&items[a as usize], &items[b as usize]));
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots[i as usize].take())
        .collect()
}

fn by_connection_and_name(
    a_connection: &Spanned<Name>,
    a_name: &Spanned<Name>,
    b_connection: &Spanned<Name>,
    b_name: &Spanned<Name>,
) -> std::cmp::Ordering {
    (&a_connection.value, &a_name.value).cmp(&(&b_connection.value, &b_name.value))
}

fn binding_key(b: &Binding) -> (&str, &str, &str, &str, DestinationType) {
    (
        &b.connection,
        &b.source,
        &b.destination.value,
        &b.routing_key.value,
        b.destination_type.value,
    )
}
