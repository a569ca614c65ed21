//! Argument values as they are sent to RabbitMQ ([`Value`]), one argument with the places
//! that gave its name and value ([`Argument`]), and an element's arguments in declaration
//! order, indexed by name once they are many ([`Arguments`]).

pub mod php;

use std::fmt;
use std::sync::Arc;

use crate::source::{Span, Spanned};

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

    /// The JSON form ([`Value`]'s `Serialize`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// As JSON: integers stay integers; a float that JSON cannot carry (NaN, infinite) is
/// `null`.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_unit(),
            Value::Str(text) => s.serialize_str(text),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Array(items) => s.collect_seq(items),
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

/// An ordered list of arguments with unique names (order of first declaration). Lookups by
/// name are O(1): past a few arguments a name → position index is kept beside the list, so a
/// vendor file with 100,000 arguments merges in linear time.
///
/// One pointer wide, and nothing allocated, when there is no argument (most elements have
/// none: a topology holds two of these for each binding); a short list is allocated to its
/// size. A clone shares the list until one of them changes (an inferred queue has its
/// binding's arguments).
#[derive(Clone, Debug, Default)]
pub struct Arguments {
    inner: Option<Arc<ArgumentList>>,
}

/// The arguments of an [`Arguments`] that has some.
#[derive(Clone, Debug)]
struct ArgumentList {
    list: Vec<Argument>,
    /// Name → position in `list`, once `list` is longer than [`Arguments::INDEXED_FROM`]
    /// (a short list is scanned: most elements have none or a handful).
    index: Option<rustc_hash::FxHashMap<String, usize>>,
}

impl IntoIterator for Arguments {
    type Item = Argument;
    type IntoIter = std::vec::IntoIter<Argument>;

    fn into_iter(self) -> Self::IntoIter {
        self.inner
            .map(|a| Arc::unwrap_or_clone(a).list)
            .unwrap_or_default()
            .into_iter()
    }
}

impl PartialEq for Arguments {
    fn eq(&self, other: &Arguments) -> bool {
        self.list() == other.list()
    }
}

impl Arguments {
    const INDEXED_FROM: usize = 8;

    fn list(&self) -> &[Argument] {
        self.inner.as_ref().map_or(&[], |a| &a.list)
    }

    pub fn get(&self, name: &str) -> Option<&Argument> {
        self.position(name).map(|i| &self.list()[i])
    }

    fn position(&self, name: &str) -> Option<usize> {
        let inner = self.inner.as_ref()?;
        match &inner.index {
            Some(index) => index.get(name).copied(),
            None => inner.list.iter().position(|a| a.name.value == name),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Argument> {
        self.list().iter()
    }

    /// Replaces the value of the argument at `position` (in [`Arguments::iter`]'s order).
    pub fn set_value(&mut self, position: usize, value: Value) {
        if let Some(inner) = &mut self.inner {
            Arc::make_mut(inner).list[position].value = value;
        }
    }

    pub fn len(&self) -> usize {
        self.list().len()
    }

    pub fn is_empty(&self) -> bool {
        self.list().is_empty()
    }

    /// Adds or replaces by name: a replaced argument keeps its position.
    pub fn upsert(&mut self, arg: Argument) {
        if let Some(i) = self.position(&arg.name.value) {
            if let Some(inner) = &mut self.inner {
                Arc::make_mut(inner).list[i] = arg;
            }
            return;
        }
        let inner = Arc::make_mut(self.inner.get_or_insert_with(|| {
            Arc::new(ArgumentList {
                list: Vec::new(),
                index: None,
            })
        }));
        let list = &mut inner.list;
        if let Some(index) = &mut inner.index {
            index.insert(arg.name.value.clone(), list.len());
        } else if list.len() >= Self::INDEXED_FROM {
            let mut index: rustc_hash::FxHashMap<String, usize> = list
                .iter()
                .enumerate()
                .map(|(i, a)| (a.name.value.clone(), i))
                .collect();
            index.insert(arg.name.value.clone(), list.len());
            inner.index = Some(index);
        } else {
            // A short list grows one at a time (a binding's one argument takes one slot,
            // not four); a long one doubles.
            list.reserve_exact(1);
        }
        list.push(arg);
    }

    /// Same names and values, whatever the order and spans.
    pub fn same_values(&self, other: &Arguments) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|a| other.get(&a.name.value).is_some_and(|b| b.value == a.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn arg(name: &str, value: i64, at: usize) -> Argument {
        let span = Span::new(FileId(0), at, at + 1);
        Argument {
            name: Spanned::new(name.to_string(), span),
            value: Value::Int(value),
            value_span: span,
        }
    }

    /// A value's JSON: integers stay integers, a float JSON cannot carry is `null`, arrays
    /// hold their items' JSON.
    #[test]
    fn values_as_json() {
        let array = Value::Array(vec![
            Value::Int(1),
            Value::Float(f64::NAN),
            Value::Bool(true),
        ]);
        assert_eq!(array.to_json(), serde_json::json!([1, null, true]));
        assert_eq!(Value::Int(i64::MIN).to_json(), serde_json::json!(i64::MIN));
        assert_eq!(Value::Float(1.5).to_json(), serde_json::json!(1.5));
        assert_eq!(
            Value::Str("30000".into()).to_json(),
            serde_json::json!("30000")
        );
        assert_eq!(
            serde_json::to_string(&Value::Float(f64::INFINITY)).unwrap(),
            "null"
        );
    }

    /// A clone shares the list; changing one (a value or an upsert) leaves the other as it
    /// was.
    #[test]
    fn a_clone_is_changed_apart() {
        let mut a = Arguments::default();
        a.upsert(arg("x-message-ttl", 1, 0));
        a.upsert(arg("x-max-length", 2, 5));
        let mut b = a.clone();
        b.set_value(1, Value::Int(20));
        assert_eq!(a.get("x-max-length").unwrap().value, Value::Int(2));
        assert_eq!(b.get("x-max-length").unwrap().value, Value::Int(20));
        let c = a.clone();
        a.upsert(arg("x-message-ttl", 10, 9));
        assert_eq!(a.get("x-message-ttl").unwrap().value, Value::Int(10));
        assert_eq!(c.get("x-message-ttl").unwrap().value, Value::Int(1));
        let names: Vec<String> = c.into_iter().map(|a| a.name.value).collect();
        assert_eq!(names, ["x-message-ttl", "x-max-length"]);
    }

    /// Issue 11: 100,000 arguments in one element took 15 s (each upsert scanned the list).
    /// Past a handful the list is indexed: upserts keep the order of first declaration, a
    /// repeated name replaces in place, and every lookup finds its argument.
    #[test]
    fn many_arguments_keep_order_and_replace_in_place() {
        const N: usize = 100_000;
        let mut args = Arguments::default();
        for i in 0..N {
            args.upsert(arg(&format!("a{i}"), i as i64, i));
        }
        for i in (0..N).step_by(7) {
            args.upsert(arg(&format!("a{i}"), -(i as i64), N + i));
        }
        assert_eq!(args.len(), N);
        for (i, a) in args.iter().enumerate() {
            assert_eq!(a.name.value, format!("a{i}"), "order of first declaration");
            let want = if i % 7 == 0 { -(i as i64) } else { i as i64 };
            assert_eq!(
                args.get(&a.name.value).map(|a| &a.value),
                Some(&Value::Int(want))
            );
        }
        assert!(args.get("a100000").is_none());
        // The same list built another way is equal, and has the same values.
        let rebuilt = Arguments::default();
        let rebuilt = args.iter().cloned().fold(rebuilt, |mut r, a| {
            r.upsert(a);
            r
        });
        assert_eq!(rebuilt, args);
        assert!(rebuilt.same_values(&args));
    }

    /// A short list (no index) and a long one answer alike, across the threshold.
    #[test]
    fn lookups_agree_across_the_index_threshold() {
        let mut args = Arguments::default();
        for i in 0..(Arguments::INDEXED_FROM * 2) {
            args.upsert(arg(&format!("x{i}"), i as i64, i));
            for j in 0..=i {
                assert_eq!(
                    args.get(&format!("x{j}")).map(|a| &a.value),
                    Some(&Value::Int(j as i64))
                );
            }
            args.upsert(arg("x0", 0, 0));
            assert_eq!(args.len(), i + 1);
        }
    }
}
