//! Lint stage: a merged [`Topology`] → what RabbitMQ would refuse or silently mishandle.
//!
//! Takes: the topology of the `model` stage. Gives: diagnostics, each with a stable code and
//! the span of the value at fault (which survives merging, so it points at the file that gave
//! it). Pure: it reads no file and talks to no broker. Per-file checks (syntax, schema) live
//! in their own stages; this one sees the whole topology.
//!
//! Each rule is one [`Rule`] in [`RULES`]: its codes, its doc text, one check of one exchange,
//! queue or binding (or of the whole topology), and an example it fires on and a near miss it
//! does not, which the unit tests below run. What several rules need (the declared exchanges,
//! …) is computed once, in a [`Context`]. The rules live by theme: [`magento`] (Magento's
//! refusals), [`names`] (reserved and overlong names), [`broker`] (what RabbitMQ refuses about
//! exchanges and argument names), [`arguments`] (argument types and values), [`references`]
//! (what names another entity).

mod arguments;
mod broker;
mod magento;
mod names;
mod references;

pub use magento::Dialect;

use std::borrow::Cow;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Binding, Exchange, Name, Queue, Topology};
use crate::source::Spanned;

/// Longest name or routing key AMQP carries (a short string).
pub(crate) const MAX_NAME_BYTES: usize = 255;

/// One lint rule.
pub struct Rule {
    /// Every code it reports (a code may be reported by several rules).
    pub codes: &'static [Code],
    /// What it finds, in a line.
    pub doc: &'static str,
    /// The one dialect it runs in; `None`: both. The Magento dialect's own rules are Magento's
    /// refusals, reported before everything else.
    pub dialect: Option<Dialect>,
    pub check: Check,
    /// The inside of a `<config>` on which it reports each of its codes, then a near miss on
    /// which it reports nothing (`{256}` stands for a name of 256 bytes).
    pub example: (&'static str, &'static str),
}

/// What a rule looks at, and when.
#[derive(Clone, Copy)]
pub enum Check {
    Exchange(fn(&Context, &Exchange, &mut Vec<Diagnostic>)),
    Queue(fn(&Context, &Queue, &mut Vec<Diagnostic>)),
    /// The whole topology, once, after the queues and before the bindings.
    Topology(fn(&Context, &mut Vec<Diagnostic>)),
    Binding(fn(&Context, &Binding, &mut Vec<Diagnostic>)),
}

/// Every rule. Each entity is checked by its rules in this order (Magento's refusals first,
/// then exchanges, queues, bindings), which is the order of the diagnostics.
pub static RULES: &[Rule] = &[
    magento::EXCHANGE_TYPE,
    magento::DESTINATION_TYPE,
    magento::BINDING_TOPIC,
    names::RESERVED_EXCHANGE,
    names::LONG_EXCHANGE_NAME,
    broker::DEFAULT_EXCHANGE,
    broker::BUILTIN_EXCHANGE,
    broker::EXCHANGE_TYPE,
    broker::EXCHANGE_ARGUMENT_NAMES,
    arguments::ALTERNATE_EXCHANGE_TYPE,
    names::RESERVED_QUEUE,
    names::LONG_QUEUE_NAME,
    arguments::QUEUE_TYPE_PROPERTY,
    arguments::QUEUE_ARGUMENTS,
    arguments::DEAD_LETTER_ROUTING_KEY,
    broker::QUEUE_ARGUMENT_NAMES,
    references::QUEUE_NAME_CASE,
    references::UNDECLARED_ARGUMENT_EXCHANGE,
    names::LONG_ROUTING_KEY,
    broker::BINDING_ARGUMENT_NAMES,
    broker::DEFAULT_EXCHANGE_DESTINATION,
    names::LONG_EXCHANGE_DESTINATION,
    arguments::X_MATCH,
    references::UNDECLARED_DESTINATION,
];

/// (connection, name) of an exchange.
type Key<'a> = (&'a str, &'a str);

/// What the rules read besides the entity they check: computed once per topology, so that
/// no rule walks the topology or builds a map per entity.
pub struct Context<'a> {
    pub topology: &'a Topology,
    /// Every declared exchange.
    declared: HashSet<Key<'a>>,
    /// The declared headers exchanges and topic exchanges.
    headers: HashSet<Key<'a>>,
    topics: HashSet<Key<'a>>,
    /// Exchange name → the connections that declare it, in declaration order.
    connections_of: HashMap<&'a str, Vec<&'a str>>,
    /// Connection → how many bindings have the default exchange `""` as their source.
    default_exchange_bindings: HashMap<&'a str, usize>,
    /// (connection, lowercased queue name) → the first queue with it: its name and span; only
    /// for the names that some queue's name with capitals lowercases to (nearly always
    /// none: a hundred thousand lowercase queues need no map).
    first_by_case: HashMap<(&'a str, Cow<'a, str>), &'a Spanned<Name>>,
}

impl<'a> Context<'a> {
    pub fn new(topology: &'a Topology) -> Context<'a> {
        let mut cx = Context {
            topology,
            declared: HashSet::default(),
            headers: HashSet::default(),
            topics: HashSet::default(),
            connections_of: HashMap::default(),
            default_exchange_bindings: HashMap::default(),
            first_by_case: HashMap::default(),
        };
        for e in &topology.exchanges {
            let key = (e.connection.value.as_str(), e.name.value.as_str());
            cx.declared.insert(key);
            match e.kind.value.as_str() {
                "headers" => cx.headers.insert(key),
                "topic" => cx.topics.insert(key),
                _ => false,
            };
            cx.connections_of.entry(key.1).or_default().push(key.0);
        }
        for b in topology.bindings.iter().filter(|b| b.source.is_empty()) {
            *cx.default_exchange_bindings
                .entry(b.connection.as_str())
                .or_default() += 1;
        }
        // Two names that differ only in case: one of them has capitals.
        let capitals: HashSet<(&str, Cow<str>)> = topology
            .queues
            .iter()
            .filter(|q| q.name.value.chars().any(char::is_uppercase))
            .map(|q| (q.connection.value.as_str(), lowercase(&q.name.value)))
            .collect();
        if !capitals.is_empty() {
            for q in &topology.queues {
                let key = (q.connection.value.as_str(), lowercase(&q.name.value));
                if capitals.contains(&key) {
                    cx.first_by_case.entry(key).or_insert(&q.name);
                }
            }
        }
        cx
    }

    /// Whether `name` is an exchange on `connection`: declared there, or built in.
    fn is_declared(&self, connection: &str, name: &str) -> bool {
        crate::rules::BUILTIN_EXCHANGES.contains(&name)
            || self.declared.contains(&(connection, name))
    }
}

/// `name` lowercased: borrowed where that changes nothing, as for nearly every name (a
/// million queues: no copy of each).
fn lowercase(name: &str) -> Cow<'_, str> {
    if name.chars().any(char::is_uppercase) {
        name.to_lowercase().into()
    } else {
        name.into()
    }
}

/// Every finding about the merged topology, in a stable order (Magento's refusals in the
/// Magento dialect, then exchanges, queues, bindings; each entity's in [`RULES`] order).
pub fn lint(topology: &Topology, dialect: Dialect) -> Vec<Diagnostic> {
    let cx = Context::new(topology);
    let mut out = Vec::new();
    let runs = |r: &&Rule| r.dialect.is_none_or(|d| d == dialect);
    let refusal = |r: &&Rule| r.dialect == Some(Dialect::Magento);
    run(&cx, RULES.iter().filter(runs).filter(refusal), &mut out);
    run(
        &cx,
        RULES.iter().filter(runs).filter(|r| !refusal(r)),
        &mut out,
    );
    out
}

/// `rules` over the topology, entity by entity: exchanges, queues, the topology, bindings.
fn run<'r>(cx: &Context, rules: impl Iterator<Item = &'r Rule>, out: &mut Vec<Diagnostic>) {
    let (mut exchange, mut queue, mut whole, mut binding) = (vec![], vec![], vec![], vec![]);
    for rule in rules {
        match rule.check {
            Check::Exchange(f) => exchange.push(f),
            Check::Queue(f) => queue.push(f),
            Check::Topology(f) => whole.push(f),
            Check::Binding(f) => binding.push(f),
        }
    }
    let t = cx.topology;
    if !exchange.is_empty() {
        for e in &t.exchanges {
            exchange.iter().for_each(|f| f(cx, e, out));
        }
    }
    if !queue.is_empty() {
        for q in &t.queues {
            queue.iter().for_each(|f| f(cx, q, out));
        }
    }
    whole.iter().for_each(|f| f(cx, out));
    if !binding.is_empty() {
        for b in &t.bindings {
            binding.iter().for_each(|f| f(cx, b, out));
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each rule alone on its example and on its near miss.

    use super::*;
    use crate::communication::SyncTopics;
    use crate::diagnostic::Severity;
    use crate::model::{MergeInput, merge};
    use crate::source::{Source, SourceKind, Sources};
    use crate::{schema, syntax};

    /// The merged topology of one file holding `body` in its `<config>`.
    fn topology(body: &str) -> Topology {
        let text = format!(
            "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">{}</config>",
            body.replace("{256}", &"n".repeat(256))
        );
        let mut sources = Sources::default();
        let id = sources.add(Source::new(
            "queue_topology.xml".into(),
            text,
            SourceKind::Topology,
        ));
        let (doc, mut found) = syntax::parse(id, sources.get(id));
        let (decl, more) = schema::decode(&doc);
        found.extend(more);
        let (topology, more) = merge(MergeInput {
            files: vec![decl],
            default_connection: "amqp",
            sync_topics: &SyncTopics::default(),
        });
        found.extend(more);
        let errors: Vec<_> = found
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| &d.message)
            .collect();
        assert!(errors.is_empty(), "{body}: {errors:?}");
        topology
    }

    /// What `rule` alone reports about the topology of `body`.
    fn reported(rule: &Rule, body: &str) -> Vec<Diagnostic> {
        let t = topology(body);
        let mut out = Vec::new();
        run(&Context::new(&t), std::iter::once(rule), &mut out);
        out
    }

    #[test]
    fn every_rule_fires_on_its_example_and_not_on_its_near_miss() {
        for rule in RULES {
            let (fires, passes) = rule.example;
            let found = reported(rule, fires);
            for code in rule.codes {
                assert!(
                    found.iter().any(|d| d.code == *code),
                    "{}: no {} on {fires}: {found:#?}",
                    rule.doc,
                    code.as_str()
                );
            }
            for d in &found {
                assert!(rule.codes.contains(&d.code), "{}: {d:#?}", rule.doc);
            }
            let found = reported(rule, passes);
            assert!(found.is_empty(), "{}: on {passes}: {found:#?}", rule.doc);
        }
    }

    /// A rule of one dialect reports in that dialect, and not in the other.
    #[test]
    fn each_rule_runs_in_its_dialect_only() {
        for rule in RULES {
            let Some(only) = rule.dialect else { continue };
            let other = match only {
                Dialect::Magento => Dialect::Rabbitmq,
                Dialect::Rabbitmq => Dialect::Magento,
            };
            let t = topology(rule.example.0);
            let in_own: Vec<_> = lint(&t, only).into_iter().map(|d| d.code).collect();
            let found = reported(rule, rule.example.0);
            assert!(
                found.iter().all(|d| in_own.contains(&d.code)),
                "{}",
                rule.doc
            );
            let in_other = lint(&t, other);
            assert!(
                found.iter().all(|d| !in_other.contains(d)),
                "{} reported in {other:?}",
                rule.doc
            );
        }
    }

    #[test]
    fn every_rule_has_codes_and_a_doc() {
        for rule in RULES {
            assert!(!rule.codes.is_empty() && !rule.doc.trim().is_empty());
        }
    }
}
