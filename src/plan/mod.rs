//! Plan stage: the desired topology (`spec`'s specs per connection) + what each broker
//! holds (`broker::state`'s [`ConnectionState`]s) → a [`Plan`]: an ordered list of
//! [`Change`]s and the [`Unmanaged`] entities. Pure: no I/O, and nothing of how the state
//! was read or how apply will run the changes.
//!
//! - Exchanges and queues: `create` when missing, `unchanged` when equal, `replace` when an
//!   immutable property differs (type, durable, auto-delete, internal, any argument). Every
//!   argument is compared, also those RabbitMQ itself does not compare on redeclare (custom
//!   keys, exchange arguments other than `alternate-exchange`), since a redeclare would
//!   silently keep the broker's value. Integers compare by value.
//! - Bindings: `unchanged` when a binding with the same source, destination, routing key
//!   and arguments exists, else `create`. A binding that is found is never bound again.
//! - A connection without a URL: every entity `skip`. Offline: every entity `create`.
//! - Entities on a broker that the files do not declare go to `unmanaged`, or become
//!   `delete` with `prune` (queues only when they hold no message).
//!
//! This file holds the plan's types and its order; `offline` makes the plan against no broker
//! (`plan --offline`) from the model at once ([`Offline::plan`]), or change by change as
//! the human plan is written ([`Offline`], from its [`OfflineOrder`]); `diff` plans a
//! connection against what its management API showed (or against nothing), `probe` one
//! read with AMQP probes only.

mod diff;
mod offline;
mod probe;

pub use diff::replaced_binding;
pub use offline::{Offline, OfflineOrder};

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::broker::state::ConnectionState;
use crate::model::Value;
use crate::spec::{BindingSpec, ConnectionSpecs, ExchangeSpec, QueueSpec};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Unchanged,
    Update,
    Replace,
    Delete,
    Skip,
    /// A binding that AMQP probes cannot see (no management API): apply binds it again,
    /// which is harmless when it exists; it is not a pending change.
    Unverified,
}

impl serde::Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl serde::Serialize for EntityKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Create,
        Action::Unchanged,
        Action::Update,
        Action::Replace,
        Action::Delete,
        Action::Skip,
        Action::Unverified,
    ];

    /// A change that apply would make (`unverified` bindings are bound again, but they are
    /// not pending: `--detailed-exitcode` would report them forever).
    pub fn is_pending(self) -> bool {
        !matches!(self, Action::Unchanged | Action::Skip | Action::Unverified)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Unchanged => "unchanged",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Skip => "skip",
            Action::Unverified => "unverified",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntityKind {
    Exchange,
    Queue,
    Binding,
}

impl EntityKind {
    /// Every kind, in the order a plan lists them.
    pub const ALL: [EntityKind; 3] = [EntityKind::Exchange, EntityKind::Queue, EntityKind::Binding];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Exchange => "exchange",
            EntityKind::Queue => "queue",
            EntityKind::Binding => "binding",
        }
    }
}

/// The entity a change is about: ours for create/replace/unchanged/skip, the broker's for
/// delete and unmanaged.
#[derive(Clone, Debug, PartialEq)]
pub enum Entity {
    Exchange(ExchangeSpec),
    Queue(QueueSpec),
    Binding(BindingSpec),
}

impl Entity {
    pub fn kind(&self) -> EntityKind {
        match self {
            Entity::Exchange(_) => EntityKind::Exchange,
            Entity::Queue(_) => EntityKind::Queue,
            Entity::Binding(_) => EntityKind::Binding,
        }
    }

    pub fn name(&self) -> String {
        self.name_parts().concat()
    }

    /// The name in parts (a binding's: `source -> destination [routing key]`), some empty.
    pub fn name_parts(&self) -> [&str; 6] {
        match self {
            Entity::Exchange(e) => [&e.name, "", "", "", "", ""],
            Entity::Queue(q) => [&q.name, "", "", "", "", ""],
            Entity::Binding(b) => crate::model::binding_name(b.key.parts()),
        }
    }

    /// Orders as the names do, without making them.
    pub fn cmp_name(&self, other: &Entity) -> std::cmp::Ordering {
        match (self, other) {
            (Entity::Exchange(a), Entity::Exchange(b)) => a.name.cmp(&b.name),
            (Entity::Queue(a), Entity::Queue(b)) => a.name.cmp(&b.name),
            (Entity::Binding(a), Entity::Binding(b)) => {
                crate::model::cmp_binding_names(a.key.parts(), b.key.parts())
            }
            _ => crate::model::cmp_concat(&self.name_parts(), &other.name_parts()),
        }
    }
}

/// One property that differs: its name, the broker's value and ours (`None`: absent).
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    pub property: String,
    pub broker: Option<Value>,
    pub ours: Option<Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub action: Action,
    /// Shared by every change of the connection (a million changes: one name).
    pub connection: Arc<str>,
    pub entity: Entity,
    pub reason: Option<String>,
    pub differences: Vec<Difference>,
}

impl Change {
    pub fn kind(&self) -> EntityKind {
        self.entity.kind()
    }
    pub fn name(&self) -> String {
        self.entity.name()
    }
}

/// An entity on a broker that the files do not declare, left alone: not a change (nothing
/// is done to it), so it has no action.
#[derive(Clone, Debug, PartialEq)]
pub struct Unmanaged {
    pub connection: Arc<str>,
    pub entity: Entity,
    /// Why it stays although `--prune` was asked (a queue that holds messages).
    pub reason: Option<String>,
}

impl Unmanaged {
    pub fn kind(&self) -> EntityKind {
        self.entity.kind()
    }
    pub fn name(&self) -> String {
        self.entity.name()
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub unmanaged: Vec<Unmanaged>,
}

impl Plan {
    /// True when applying would change something (`unverified` bindings are bound again,
    /// but they are not pending changes: `--detailed-exitcode` would report them forever).
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_pending())
    }

    pub fn count(&self, action: Action) -> usize {
        self.counts().of(action)
    }

    /// How many changes of each action, counted in one pass.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for c in &self.changes {
            counts.add(c.action);
        }
        counts
    }
}

/// How many changes of each [`Action`] a plan holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts([usize; Action::ALL.len()]);

impl Counts {
    pub fn of(&self, action: Action) -> usize {
        self.0[action as usize]
    }

    /// `n` changes, all of `action`.
    pub fn all(action: Action, n: usize) -> Counts {
        let mut counts = Counts::default();
        counts.0[action as usize] = n;
        counts
    }

    /// One change more of `action`.
    pub fn add(&mut self, action: Action) {
        self.0[action as usize] += 1;
    }

    /// As [`Plan::has_changes`].
    pub fn has_changes(&self) -> bool {
        Action::ALL
            .iter()
            .any(|&a| a.is_pending() && self.of(a) > 0)
    }
}

/// Plans every connection. `desired` holds the specs of each connection of the topology;
/// they are moved into the changes (a million bindings are not copied once more).
pub fn plan(
    desired: BTreeMap<String, ConnectionSpecs>,
    states: &BTreeMap<String, ConnectionState>,
    prune: bool,
) -> Plan {
    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    for (connection, want) in desired {
        let state = states.get(&connection).unwrap_or(&ConnectionState::NoUrl);
        diff::plan_connection(
            &connection,
            want,
            state,
            prune,
            &mut changes,
            &mut unmanaged,
        );
    }
    // Nearly always in order already (each connection's specs are sorted): checked first,
    // as a sort would take a buffer of half the changes even then.
    let order = |a: &Change, b: &Change| {
        in_plan_order((&a.entity, &a.connection), (&b.entity, &b.connection))
    };
    if !changes.is_sorted_by(|a, b| order(a, b).is_le()) {
        changes.sort_by(order);
    }
    unmanaged.sort_by(|a, b| in_plan_order((&a.entity, &a.connection), (&b.entity, &b.connection)));
    Plan { changes, unmanaged }
}

/// Orders by (kind, connection, name), without making any name: the changes arrive mostly
/// in order (per connection, each kind sorted), which a stable sort takes as runs.
/// (`sort_by_key` made the key, a formatted name, at every comparison: 60 million of them
/// for a million bindings.)
fn in_plan_order(a: (&Entity, &Arc<str>), b: (&Entity, &Arc<str>)) -> std::cmp::Ordering {
    // (The changes of one connection share its name: no need to compare it.)
    let connection = |a: &Arc<str>, b: &Arc<str>| {
        if Arc::ptr_eq(a, b) {
            std::cmp::Ordering::Equal
        } else {
            a.cmp(b)
        }
    };
    a.0.kind()
        .cmp(&b.0.kind())
        .then_with(|| connection(a.1, b.1))
        .then_with(|| a.0.cmp_name(b.0))
}

/// 1204 → "1,204".
pub use crate::text::thousands;

#[cfg(test)]
mod tests {
    use super::diff::*;
    use super::*;

    /// A replace forced by an argument that a policy can also set says so, with RabbitMQ's
    /// rule for which value wins.
    #[test]
    fn replaces_name_the_policy_that_could_avoid_them() {
        let diff = |p: &str| Difference {
            property: p.into(),
            broker: None,
            ours: None,
        };
        let ttl = reason_for(Action::Replace, &[diff("arguments.x-message-ttl")]).unwrap();
        assert!(
            ttl.contains("policy (`message-ttl`) could change it in place"),
            "{ttl}"
        );
        assert!(ttl.contains("the lower value wins"), "{ttl}");
        let dlx = reason_for(Action::Replace, &[diff("arguments.x-dead-letter-exchange")]).unwrap();
        assert!(dlx.contains("the queue's argument wins"), "{dlx}");
        let kind = reason_for(Action::Replace, &[diff("arguments.x-queue-type")]).unwrap();
        assert!(!kind.contains("policy"), "{kind}");
    }
    use crate::model::DestinationType;
    use crate::spec::{BindingKey, Usage};

    fn queue(name: &str, args: &[(&str, Value)], messages: Option<u64>) -> QueueSpec {
        let usage = Usage {
            messages,
            unacked: messages.map(|_| 0),
            consumers: messages.map(|_| 0),
        };
        QueueSpec {
            usage,
            ..QueueSpec::with(name, args)
        }
    }

    fn binding(rk: &str) -> BindingSpec {
        BindingSpec {
            key: BindingKey {
                source: "ex".into(),
                destination: "q".into(),
                destination_type: DestinationType::Queue,
                routing_key: rk.into(),
            },
            arguments: crate::spec::ArgMap::new(),
        }
    }

    /// The plan sorts by each change's name without making it: the order is the names'
    /// order, also where a binding's source is a prefix of another's or holds bytes below
    /// the separators (a tab sorts before " -> ").
    #[test]
    fn changes_sort_as_their_names_do() {
        let words = [
            "", "a", "a\t", "a b", "a -", "a ->", "a -> b", "b", "é", "a!",
        ];
        let mut bindings = Vec::new();
        for s in words {
            for d in words {
                for rk in ["", "x", "x]", "["] {
                    let mut b = binding(rk);
                    b.key.source = s.into();
                    b.key.destination = d.into();
                    bindings.push(b);
                }
            }
        }
        let want = ConnectionSpecs {
            bindings,
            ..ConnectionSpecs::default()
        };
        let names: Vec<String> = plan_one(want, ConnectionState::Offline, false)
            .changes
            .iter()
            .map(Change::name)
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), words.len() * words.len() * 4);
    }

    fn plan_one(want: ConnectionSpecs, state: ConnectionState, prune: bool) -> Plan {
        let desired = BTreeMap::from([("amqp".to_string(), want)]);
        let states = BTreeMap::from([("amqp".to_string(), state)]);
        plan(desired, &states, prune)
    }

    /// One pass counts each action as a filter would, and says "changes pending" exactly
    /// when the plan does.
    #[test]
    fn counts_agree_with_the_changes() {
        let change = |action| Change {
            action,
            connection: "amqp".into(),
            entity: Entity::Binding(binding("k")),
            reason: None,
            differences: Vec::new(),
        };
        for actions in [
            &[
                Action::Unchanged,
                Action::Skip,
                Action::Unverified,
                Action::Skip,
            ][..],
            &[Action::Unchanged, Action::Delete],
            &[
                Action::Create,
                Action::Create,
                Action::Replace,
                Action::Update,
            ],
            &[],
        ] {
            let plan = Plan {
                changes: actions.iter().map(|&a| change(a)).collect(),
                unmanaged: Vec::new(),
            };
            let counts = plan.counts();
            for a in Action::ALL {
                assert_eq!(counts.of(a), actions.iter().filter(|&&x| x == a).count());
            }
            assert_eq!(counts.has_changes(), plan.has_changes(), "{actions:?}");
        }
    }

    /// Against nothing, a large connection's changes are its specs in their order, each a
    /// create; with no URL, each a skip with the reason.
    #[test]
    fn a_large_connection_against_nothing_keeps_the_specs_order() {
        let n = 25_000;
        let want = ConnectionSpecs {
            exchanges: vec![ExchangeSpec::of_kind("ex", "topic")],
            queues: (0..n)
                .map(|i| queue(&format!("q{i:06}"), &[], None))
                .collect(),
            bindings: (0..n)
                .map(|i| {
                    let mut b = binding(&format!("t{i:06}"));
                    b.key.destination = format!("q{i:06}").as_str().into();
                    b
                })
                .collect(),
        };
        let names = |want: &ConnectionSpecs| -> Vec<String> {
            let entities = want
                .exchanges
                .iter()
                .cloned()
                .map(Entity::Exchange)
                .chain(want.queues.iter().cloned().map(Entity::Queue))
                .chain(want.bindings.iter().cloned().map(Entity::Binding));
            entities
                .map(|e| format!("{:?} {}", e.kind(), e.name()))
                .collect()
        };
        let expected = names(&want);
        for (state, action) in [
            (ConnectionState::Offline, Action::Create),
            (ConnectionState::NoUrl, Action::Skip),
        ] {
            let plan = plan_one(want.clone(), state, false);
            let got: Vec<String> = plan
                .changes
                .iter()
                .map(|c| format!("{:?} {}", c.kind(), c.name()))
                .collect();
            assert_eq!(got, expected);
            assert!(plan.changes.iter().all(|c| c.action == action));
            assert_eq!(
                plan.changes.iter().all(|c| c.reason.is_some()),
                action == Action::Skip
            );
        }
    }

    #[test]
    fn equal_values_are_unchanged_and_any_argument_difference_replaces() {
        let want = ConnectionSpecs {
            queues: vec![
                queue("same", &[("x-message-ttl", Value::Int(5000))], None),
                queue("custom", &[], None),
            ],
            ..Default::default()
        };
        let have = ConnectionSpecs {
            queues: vec![
                queue("same", &[("x-message-ttl", Value::Int(5000))], None),
                queue("custom", &[("x-team", Value::Str("a".into()))], Some(3)),
            ],
            ..Default::default()
        };
        let p = plan_one(want, ConnectionState::Live(have), false);
        assert_eq!(p.changes[0].action, Action::Replace);
        assert_eq!(p.changes[0].differences[0].property, "arguments.x-team");
        assert!(
            p.changes[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("its messages and bindings move to a holding queue and back")
        );
        assert_eq!(p.changes[1].action, Action::Unchanged);
        assert!(p.has_changes());
    }

    #[test]
    fn bindings_found_are_never_bound_again_and_strays_are_unmanaged() {
        let want = ConnectionSpecs {
            bindings: vec![binding("a"), binding("b")],
            ..Default::default()
        };
        let have = ConnectionSpecs {
            bindings: vec![binding("a"), binding("stray")],
            queues: vec![queue("full", &[], Some(1)), queue("empty", &[], Some(0))],
            ..Default::default()
        };
        let p = plan_one(want.clone(), ConnectionState::Live(have.clone()), false);
        let actions: Vec<_> = p.changes.iter().map(|c| (c.action, c.name())).collect();
        assert_eq!(
            actions,
            [
                (Action::Unchanged, "ex -> q [a]".to_string()),
                (Action::Create, "ex -> q [b]".to_string())
            ]
        );
        assert_eq!(p.unmanaged.len(), 3);
        let pruned = plan_one(want, ConnectionState::Live(have), true);
        let deletes: Vec<_> = pruned
            .changes
            .iter()
            .filter(|c| c.action == Action::Delete)
            .map(|c| c.name())
            .collect();
        assert_eq!(
            deletes,
            ["empty", "ex -> q [stray]"],
            "a queue with a message is never pruned"
        );
        assert_eq!(pruned.unmanaged[0].name(), "full");
    }

    #[test]
    fn an_interrupted_replace_is_shown_and_finished_never_unmanaged() {
        use crate::broker::record::Record;
        let q = queue("q", &[("x-message-ttl", Value::Int(6000))], None);
        let want = ConnectionSpecs {
            queues: vec![q.clone()],
            ..Default::default()
        };
        let mut holding = Record::holding_for(&queue("q", &[], None)).spec();
        holding.usage.messages = Some(42);
        let mut stray_binding = binding("a");
        stray_binding.key.destination = holding.name.clone();
        let have = ConnectionSpecs {
            queues: vec![q, holding.clone()],
            bindings: vec![stray_binding],
            ..Default::default()
        };
        let p = plan_one(want, ConnectionState::Live(have), false);
        assert!(p.unmanaged.is_empty(), "{:?}", p.unmanaged);
        let finish = p
            .changes
            .iter()
            .find(|c| c.name() == holding.name)
            .expect("the holding queue is a change");
        assert_eq!(finish.action, Action::Delete);
        assert!(
            finish
                .reason
                .as_deref()
                .unwrap()
                .contains("42 messages and its bindings go back to `q`"),
            "{:?}",
            finish.reason
        );
        assert!(p.has_changes(), "--detailed-exitcode reports it pending");
    }

    #[test]
    fn no_url_skips_with_the_reason() {
        let want = ConnectionSpecs {
            queues: vec![queue("q", &[], None)],
            ..Default::default()
        };
        let p = plan_one(want, ConnectionState::NoUrl, false);
        assert_eq!(p.changes[0].action, Action::Skip);
        assert!(
            p.changes[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("TOPOLOGY_CONNECTION_AMQP")
        );
        assert!(!p.has_changes());
    }
}
