//! Model stage: the one true model of a topology, as Magento's installer would declare it.
//!
//! Takes: the per-file declarations of the `schema` stage, in merge order. Gives: a
//! [`Topology`] of [`Exchange`]s, [`Queue`]s and [`Binding`]s (see [`merge`]), each value
//! keeping the [`Span`] of the file and attribute that gave it, so that a diagnostic about
//! a merged entity points at the place at fault.

pub mod merge;
pub mod values;

use std::fmt;

use crate::source::{Span, Spanned};

pub use merge::{MergeInput, merge};

/// An argument value as it is sent to RabbitMQ.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Sent as a signed 64-bit AMQP integer (what a definitions import stores).
    Int(i64),
    /// Sent as an AMQP double; RabbitMQ refuses it for its integer arguments.
    Float(f64),
    Str(String),
    Bool(bool),
    Array(Vec<Value>),
}

impl Value {
    /// The AMQP type name RabbitMQ uses in its error messages.
    pub fn amqp_type(&self) -> &'static str {
        match self {
            Value::Int(_) => "long",
            Value::Float(_) => "double",
            Value::Str(_) => "longstr",
            Value::Bool(_) => "bool",
            Value::Array(_) => "array",
        }
    }

    /// A JSON value as RabbitMQ reports it (management API, definitions): integers stay
    /// integers; `null` and objects are no argument value.
    pub fn from_json(v: &serde_json::Value) -> Option<Value> {
        Some(match v {
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64()?),
            },
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().filter_map(Value::from_json).collect())
            }
            serde_json::Value::Null | serde_json::Value::Object(_) => return None,
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::from(s.as_str()),
            Value::Bool(b) => serde_json::Value::from(*b),
            Value::Array(items) => items.iter().map(Value::to_json).collect(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Array(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
        }
    }
}

/// One `<argument>`: its name, its value, and where each came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    pub name: Spanned<String>,
    pub value: Value,
    /// Span of the value (the element's text, or the element when it has none).
    pub value_span: Span,
}

/// An ordered list of arguments with unique names (order of first declaration).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Arguments(pub Vec<Argument>);

impl Arguments {
    pub fn get(&self, name: &str) -> Option<&Argument> {
        self.0.iter().find(|a| a.name.value == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Argument> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds or replaces by name: a replaced argument keeps its position.
    pub fn upsert(&mut self, arg: Argument) {
        match self.0.iter_mut().find(|a| a.name.value == arg.name.value) {
            Some(existing) => *existing = arg,
            None => self.0.push(arg),
        }
    }

    /// Same names and values, whatever the order and spans.
    pub fn same_values(&self, other: &Arguments) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .all(|a| other.get(&a.name.value).is_some_and(|b| b.value == a.value))
    }

    /// Name → value, sorted by name: the JSON form.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut sorted: Vec<_> = self.0.iter().collect();
        sorted.sort_by(|a, b| a.name.value.cmp(&b.name.value));
        sorted
            .into_iter()
            .map(|a| (a.name.value.clone(), a.value.to_json()))
            .collect()
    }
}

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
    pub name: Spanned<String>,
    pub connection: Spanned<String>,
    /// `topic`, `direct`, `fanout`, `headers` or an `x-…` plugin type (checked by lint).
    pub kind: Spanned<String>,
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
    pub name: Spanned<String>,
    pub connection: Spanned<String>,
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
    pub id: Spanned<String>,
    pub source: String,
    pub connection: String,
    /// Spanned at the binding element when the attribute is not written.
    pub destination_type: Spanned<DestinationType>,
    pub destination: Spanned<String>,
    pub routing_key: Spanned<String>,
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
        let mut names: Vec<String> = self
            .exchanges
            .iter()
            .map(|e| e.connection.value.clone())
            .chain(self.queues.iter().map(|q| q.connection.value.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Exchanges sorted by (connection, name).
    pub fn sorted_exchanges(&self) -> Vec<&Exchange> {
        let mut v: Vec<_> = self.exchanges.iter().collect();
        v.sort_by(|a, b| {
            (&a.connection.value, &a.name.value).cmp(&(&b.connection.value, &b.name.value))
        });
        v
    }

    /// Queues sorted by (connection, name).
    pub fn sorted_queues(&self) -> Vec<&Queue> {
        let mut v: Vec<_> = self.queues.iter().collect();
        v.sort_by(|a, b| {
            (&a.connection.value, &a.name.value).cmp(&(&b.connection.value, &b.name.value))
        });
        v
    }

    /// Enabled bindings sorted by (connection, source, destination, routing key).
    pub fn sorted_bindings(&self) -> Vec<&Binding> {
        let mut v: Vec<_> = self.bindings.iter().filter(|b| !b.disabled).collect();
        v.sort_by(|a, b| binding_key(a).cmp(&binding_key(b)));
        v
    }
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
