//! Plan stage: the desired topology + what each broker holds → an ordered list of
//! [`Change`]s. Pure: no I/O; the broker's state arrives as [`ConnectionState`]s.
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

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::apply::record;
use crate::model::Value;
use crate::spec::{BindingSpec, ConnectionSpecs, ExchangeSpec, QueueSpec, QueueType, Usage};

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
            Entity::Binding(b) => {
                let k = &b.key;
                [&k.source, " -> ", &k.destination, " [", &k.routing_key, "]"]
            }
        }
    }

    /// Orders as the names do, without making them.
    pub fn cmp_name(&self, other: &Entity) -> std::cmp::Ordering {
        match (self, other) {
            (Entity::Exchange(a), Entity::Exchange(b)) => a.name.cmp(&b.name),
            (Entity::Queue(a), Entity::Queue(b)) => a.name.cmp(&b.name),
            _ => cmp_concat(&self.name_parts(), &other.name_parts()),
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
    pub connection: String,
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

/// What an AMQP probe learnt of one exchange or queue (when the management API is out of
/// reach).
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    Missing,
    /// Present, and a redeclare with our properties is accepted.
    Same,
    /// Present, and the broker refuses our properties: its answer.
    Differs(String),
}

/// Probe results by name; queues with their usage (ready messages and consumers: a passive
/// declare cannot see unacknowledged messages).
#[derive(Clone, Debug, Default)]
pub struct Probed {
    pub exchanges: HashMap<String, Probe>,
    pub queues: HashMap<String, (Probe, Usage)>,
}

/// What is known of one connection's broker.
#[derive(Clone, Debug)]
pub enum ConnectionState {
    /// No broker is asked: everything would be created.
    Offline,
    /// The connection has no URL: it is not provisioned.
    NoUrl,
    /// Not provisioned, for the reason given (a Magento install's env.php does not make it an
    /// AMQP connection: Magento never declares it on RabbitMQ).
    NotProvisioned(String),
    /// What the broker holds.
    Live(ConnectionSpecs),
    /// Probe mode: only what passive declares and equivalence redeclares tell.
    Probed(Probed),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub unmanaged: Vec<Change>,
}

impl Plan {
    /// True when applying would change something (`unverified` bindings are bound again,
    /// but they are not pending changes: `--detailed-exitcode` would report them forever).
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| {
            !matches!(
                c.action,
                Action::Unchanged | Action::Skip | Action::Unverified
            )
        })
    }

    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
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
        plan_connection(
            &connection,
            want,
            state,
            prune,
            &mut changes,
            &mut unmanaged,
        );
    }
    sort_changes(&mut changes);
    sort_changes(&mut unmanaged);
    Plan { changes, unmanaged }
}

/// Sorts by (kind, connection, name), without making any name: the changes arrive mostly in
/// order (per connection, each kind sorted), which the stable sort takes as runs.
/// (`sort_by_key` made the key, a formatted name, at every comparison: 60 million of them
/// for a million bindings.)
fn sort_changes(changes: &mut [Change]) {
    changes.sort_by(|a, b| {
        (a.kind(), &a.connection)
            .cmp(&(b.kind(), &b.connection))
            .then_with(|| a.entity.cmp_name(&b.entity))
    });
}

/// Compares two strings given as the concatenations of their parts, as `str` compares.
fn cmp_concat(a: &[&str], b: &[&str]) -> std::cmp::Ordering {
    let mut a = a.iter().map(|s| s.as_bytes()).filter(|s| !s.is_empty());
    let mut b = b.iter().map(|s| s.as_bytes()).filter(|s| !s.is_empty());
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        if x.is_empty() {
            x = a.next().unwrap_or_default();
        }
        if y.is_empty() {
            y = b.next().unwrap_or_default();
        }
        if x.is_empty() || y.is_empty() {
            return x.len().cmp(&y.len());
        }
        let n = x.len().min(y.len());
        match x[..n].cmp(&y[..n]) {
            std::cmp::Ordering::Equal => (x, y) = (&x[n..], &y[n..]),
            other => return other,
        }
    }
}

fn plan_connection(
    connection: &str,
    want: ConnectionSpecs,
    state: &ConnectionState,
    prune: bool,
    changes: &mut Vec<Change>,
    unmanaged: &mut Vec<Change>,
) {
    let change = |action, entity, reason: Option<String>, differences| Change {
        action,
        connection: connection.to_string(),
        entity,
        reason,
        differences,
    };
    let have = match state {
        ConnectionState::Offline | ConnectionState::NoUrl | ConnectionState::NotProvisioned(_) => {
            let (action, reason) = match state {
                ConnectionState::NotProvisioned(why) => (Action::Skip, Some(why.clone())),
                ConnectionState::NoUrl => (
                    Action::Skip,
                    Some(format!(
                        "connection `{connection}` has no URL (give --connection {connection}=URL or {}); Magento's `db` connection is a MySQL queue, not RabbitMQ",
                        crate::connection::env_var("CONNECTION", connection)
                    )),
                ),
                _ => (Action::Create, None),
            };
            changes.reserve(want.exchanges.len() + want.queues.len() + want.bindings.len());
            let all = want
                .exchanges
                .into_iter()
                .map(Entity::Exchange)
                .chain(want.queues.into_iter().map(Entity::Queue))
                .chain(want.bindings.into_iter().map(Entity::Binding));
            for entity in all {
                changes.push(change(action, entity, reason.clone(), Vec::new()));
            }
            return;
        }
        ConnectionState::Live(have) => have,
        ConnectionState::Probed(probed) => {
            plan_probed(connection, &want, probed, changes);
            return;
        }
    };

    let broker_exchanges: HashMap<&str, &ExchangeSpec> = have
        .exchanges
        .iter()
        .map(|e| (e.name.as_str(), e))
        .collect();
    for ex in &want.exchanges {
        let (action, diffs) = match broker_exchanges.get(ex.name.as_str()) {
            None => (Action::Create, Vec::new()),
            Some(b) => compare_exchange(b, ex),
        };
        let reason = reason_for(action, &diffs).map(|r| {
            format!(
                "{r}; warning: publishers to it may get a 404 channel error in the moment between its delete and its declare (every binding from and to it is restored right after, on the same channel)"
            )
        });
        changes.push(change(action, Entity::Exchange(ex.clone()), reason, diffs));
    }
    let broker_queues: HashMap<&str, &QueueSpec> =
        have.queues.iter().map(|q| (q.name.as_str(), q)).collect();
    for q in &want.queues {
        let broker = broker_queues.get(q.name.as_str());
        let (action, diffs) = match broker {
            None => (Action::Create, Vec::new()),
            Some(b) => compare_queue(b, q),
        };
        let mut ours = q.clone();
        let mut reason = reason_for(action, &diffs);
        if action == Action::Replace
            && let Some(b) = broker
        {
            // The plan shows what the replace touches: the broker's usage of the queue.
            ours.usage = b.usage;
            reason = Some(format!(
                "{}; {}",
                reason.unwrap_or_default(),
                replace_note(b)
            ));
        }
        changes.push(change(action, Entity::Queue(ours), reason, diffs));
    }
    // Bindings match on key and arguments; hashed, as there may be tens of thousands.
    let broker_bindings: HashSet<String> =
        have.bindings.iter().map(BindingSpec::signature).collect();
    let our_bindings: HashSet<String> = want.bindings.iter().map(BindingSpec::signature).collect();
    let own_queues: HashSet<&str> = have
        .queues
        .iter()
        .filter(|q| record::is_own(&q.arguments))
        .map(|q| q.name.as_str())
        .collect();
    // A broker binding with our key (source, destination, routing key) but other arguments,
    // which the files do not declare, is the binding whose arguments changed: a replace.
    let mut others_by_key: HashMap<&crate::spec::BindingKey, Vec<&BindingSpec>> = HashMap::new();
    for b in &have.bindings {
        if !our_bindings.contains(&b.signature()) {
            others_by_key.entry(&b.key).or_default().push(b);
        }
    }
    let mut replaced: HashSet<String> = HashSet::new();
    let our_keys: HashSet<&crate::spec::BindingKey> =
        want.bindings.iter().map(|b| &b.key).collect();
    for b in &want.bindings {
        if broker_bindings.contains(&b.signature()) {
            changes.push(change(
                Action::Unchanged,
                Entity::Binding(b.clone()),
                None,
                Vec::new(),
            ));
            continue;
        }
        match others_by_key.get_mut(&b.key).and_then(Vec::pop) {
            Some(old) => {
                replaced.insert(old.signature());
                let reason = "a binding's arguments cannot change: the new binding is added, then the old one removed (the queue stays bound throughout)".to_string();
                changes.push(change(
                    Action::Replace,
                    Entity::Binding(b.clone()),
                    Some(reason),
                    argument_differences(&old.arguments, &b.arguments),
                ));
            }
            None => changes.push(change(
                Action::Create,
                Entity::Binding(b.clone()),
                None,
                Vec::new(),
            )),
        }
    }

    // What the broker has and the files do not declare: unmanaged, or deleted with --prune
    // (a queue only when it holds no ready message; apply refuses it while consumers or
    // unacknowledged messages remain). What this tool itself left (holding queues, records,
    // scratch entities of an interrupted run) is finished or removed by the next apply.
    let ours_ex: HashSet<&str> = want.exchanges.iter().map(|e| e.name.as_str()).collect();
    let ours_q: HashSet<&str> = want.queues.iter().map(|q| q.name.as_str()).collect();
    for e in &have.exchanges {
        if e.name.is_empty() || e.name.starts_with("amq.") || ours_ex.contains(e.name.as_str()) {
            continue;
        }
        let entity = Entity::Exchange(e.clone());
        if record::is_own(&e.arguments) {
            let reason = "a scratch exchange an interrupted apply left: deleted".to_string();
            changes.push(change(Action::Delete, entity, Some(reason), Vec::new()));
        } else if prune {
            let reason = "not declared in the files (--prune)".to_string();
            changes.push(change(Action::Delete, entity, Some(reason), Vec::new()));
        } else {
            unmanaged.push(change(Action::Unchanged, entity, None, Vec::new()));
        }
    }
    for q in &have.queues {
        if q.name.starts_with("amq.") || ours_q.contains(q.name.as_str()) {
            continue;
        }
        let entity = Entity::Queue(q.clone());
        if record::is_own(&q.arguments) {
            let reason = own_queue_note(q);
            changes.push(change(Action::Delete, entity, Some(reason), Vec::new()));
        } else if prune && q.usage.messages.unwrap_or(0) == 0 {
            let reason = format!("not declared in the files (--prune); {}", delete_note(q));
            changes.push(change(Action::Delete, entity, Some(reason), Vec::new()));
        } else {
            let reason = prune.then(|| {
                format!(
                    "not deleted: it holds {}",
                    crate::text::count(q.usage.messages.unwrap_or(0), "message")
                )
            });
            unmanaged.push(change(Action::Unchanged, entity, reason, Vec::new()));
        }
    }
    for b in &have.bindings {
        // bindings from the default exchange are implicit, one per queue; bindings of this
        // tool's own queues move with them
        if b.key.source.is_empty()
            || our_bindings.contains(&b.signature())
            || replaced.contains(&b.signature())
            || own_queues.contains(b.key.destination.as_str())
        {
            continue;
        }
        let entity = Entity::Binding(b.clone());
        if our_keys.contains(&b.key) {
            // The files own this key: the other arguments are the old half of a binding
            // replace that stopped, or a change made by hand. The files' binding stays.
            let reason = "the files bind the same source, destination and routing key with other arguments: this one (left by an interrupted replace, or made by hand) is removed, the files' one stays".to_string();
            changes.push(change(Action::Delete, entity, Some(reason), Vec::new()));
        } else if prune {
            let reason = "not declared in the files (--prune)".to_string();
            changes.push(change(Action::Delete, entity, Some(reason), Vec::new()));
        } else {
            unmanaged.push(change(Action::Unchanged, entity, None, Vec::new()));
        }
    }
}

/// The arguments that differ, as `arguments.<name>` differences (broker, ours).
fn argument_differences(
    broker: &crate::spec::ArgMap,
    ours: &crate::spec::ArgMap,
) -> Vec<Difference> {
    let names: std::collections::BTreeSet<&String> = broker.keys().chain(ours.keys()).collect();
    names
        .into_iter()
        .filter(|n| broker.get(*n) != ours.get(*n))
        .map(|n| Difference {
            property: format!("arguments.{n}"),
            broker: broker.get(n).cloned(),
            ours: ours.get(n).cloned(),
        })
        .collect()
}

/// The broker's binding that a binding replace removes: ours with the broker's values of the
/// arguments that differ.
pub fn replaced_binding(c: &Change) -> Option<BindingSpec> {
    let Entity::Binding(ours) = &c.entity else {
        return None;
    };
    let mut old = ours.clone();
    for d in &c.differences {
        let Some(name) = d.property.strip_prefix("arguments.") else {
            continue;
        };
        match &d.broker {
            Some(v) => old.arguments.insert(name.to_string(), v.clone()),
            None => old.arguments.remove(name),
        };
    }
    Some(old)
}

/// How a replace keeps the queue's messages, and what would stop it. (The counts are on the
/// change itself: `messages`, `unacked`, `consumers`.)
fn replace_note(b: &QueueSpec) -> String {
    let u = &b.usage;
    let mut note = "its messages and bindings move to a holding queue and back".to_string();
    if u.consumers.unwrap_or(0) > 0 || u.unacked.unwrap_or(0) > 0 {
        note.push_str(&format!(
            "; apply refuses while {} and {} unacknowledged remain",
            crate::text::count(u.consumers.unwrap_or(0), "consumer"),
            crate::text::count(u.unacked.unwrap_or(0), "message")
        ));
    }
    note.push_str("; ");
    note.push_str(delete_check(b));
    note
}

fn delete_note(q: &QueueSpec) -> String {
    let u = &q.usage;
    let mut note = String::new();
    if u.consumers.unwrap_or(0) > 0 || u.unacked.unwrap_or(0) > 0 {
        note.push_str(&format!(
            "{}, {} unacknowledged: apply refuses until they are gone; ",
            crate::text::count(u.consumers.unwrap_or(0), "consumer"),
            crate::text::count(u.unacked.unwrap_or(0), "message")
        ));
    }
    note.push_str(delete_check(q));
    note
}

/// Which check guards the delete.
fn delete_check(q: &QueueSpec) -> &'static str {
    match q.queue_type() {
        QueueType::Classic => "deleted with if-unused and if-empty, which the broker checks",
        _ => {
            "deleted only after checking no consumer, no ready or unacknowledged message and no binding (quorum and stream queues refuse if-unused and if-empty)"
        }
    }
}

fn own_queue_note(q: &QueueSpec) -> String {
    match record::Record::parse(q) {
        Some(record::Record::Holding { queue, .. }) => format!(
            "holding queue of an interrupted replace of `{queue}`: its {} and its bindings go back to `{queue}`, then it is deleted",
            q.usage
                .messages
                .map(|n| crate::text::count(n, "message"))
                .unwrap_or_else(|| "messages".into())
        ),
        Some(record::Record::ExchangeRestore {
            exchange, bindings, ..
        }) => format!(
            "record of an interrupted replace of exchange `{exchange}`: its {} bound again, then it is deleted",
            match bindings.len() {
                1 => "binding is".to_string(),
                n => format!("{} are", crate::text::count(n as u64, "binding")),
            }
        ),
        None => "a scratch queue an interrupted apply left: deleted when empty".to_string(),
    }
}

/// 1204 → "1,204".
pub use crate::text::thousands;

fn reason_for(action: Action, diffs: &[Difference]) -> Option<String> {
    (action == Action::Replace).then(|| {
        let props: Vec<_> = diffs.iter().map(|d| d.property.as_str()).collect();
        let mut reason = format!(
            "{} cannot change on a live broker: it must be deleted and declared again",
            props.join(", ")
        );
        for d in diffs {
            if let Some(note) = d.property.strip_prefix("arguments.").and_then(policy_note) {
                reason.push_str("; ");
                reason.push_str(&note);
            }
        }
        reason
    })
}

/// Queue arguments that a RabbitMQ policy can also set, and how RabbitMQ resolves the two
/// when both are set (rabbit_amqqueue_process and rabbit_quorum_queue: `res_min` / `res_arg`).
const POLICY_KEYS: &[(&str, PolicyWins)] = &[
    ("x-message-ttl", PolicyWins::Lower),
    ("x-expires", PolicyWins::Lower),
    ("x-max-length", PolicyWins::Lower),
    ("x-max-length-bytes", PolicyWins::Lower),
    ("x-delivery-limit", PolicyWins::Lower),
    ("x-dead-letter-exchange", PolicyWins::Argument),
    ("x-dead-letter-routing-key", PolicyWins::Argument),
    ("x-overflow", PolicyWins::Argument),
    ("x-queue-mode", PolicyWins::Argument),
];

#[derive(Clone, Copy)]
enum PolicyWins {
    /// The lower of the argument and the policy's value applies.
    Lower,
    /// The queue's argument applies; the policy only where the queue has none.
    Argument,
}

/// What a policy could do instead of a replace, for an argument that has a policy key.
fn policy_note(argument: &str) -> Option<String> {
    let (_, wins) = POLICY_KEYS.iter().find(|(k, _)| *k == argument)?;
    let key = argument.strip_prefix("x-").unwrap_or(argument);
    Some(match wins {
        PolicyWins::Lower => format!(
            "a RabbitMQ policy (`{key}`) could change it in place, without a replace; where both are set, the lower value wins"
        ),
        PolicyWins::Argument => format!(
            "a RabbitMQ policy (`{key}`) could set it in place, but where both are set the queue's argument wins: to manage it by policy, declare the queue without `{argument}`"
        ),
    })
}

fn compare_arguments(
    broker: &BTreeMap<String, Value>,
    ours: &BTreeMap<String, Value>,
    out: &mut Vec<Difference>,
) {
    let mut names: Vec<&String> = broker.keys().chain(ours.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (b, o) = (broker.get(name), ours.get(name));
        if b != o {
            out.push(Difference {
                property: format!("arguments.{name}"),
                broker: b.cloned(),
                ours: o.cloned(),
            });
        }
    }
}

/// Properties (name, broker's value, ours) and arguments → unchanged, or replace with what
/// differs: every property of an exchange or queue is immutable on a live broker.
fn compare(
    properties: Vec<(&str, Value, Value)>,
    broker: &BTreeMap<String, Value>,
    ours: &BTreeMap<String, Value>,
) -> (Action, Vec<Difference>) {
    let mut d: Vec<Difference> = properties
        .into_iter()
        .filter(|(_, b, o)| b != o)
        .map(|(property, b, o)| Difference {
            property: property.to_string(),
            broker: Some(b),
            ours: Some(o),
        })
        .collect();
    compare_arguments(broker, ours, &mut d);
    let action = if d.is_empty() {
        Action::Unchanged
    } else {
        Action::Replace
    };
    (action, d)
}

fn compare_exchange(b: &ExchangeSpec, o: &ExchangeSpec) -> (Action, Vec<Difference>) {
    compare(
        vec![
            (
                "type",
                Value::Str(b.kind.clone()),
                Value::Str(o.kind.clone()),
            ),
            ("durable", Value::Bool(b.durable), Value::Bool(o.durable)),
            (
                "auto_delete",
                Value::Bool(b.auto_delete),
                Value::Bool(o.auto_delete),
            ),
            ("internal", Value::Bool(b.internal), Value::Bool(o.internal)),
        ],
        &b.arguments,
        &o.arguments,
    )
}

fn compare_queue(b: &QueueSpec, o: &QueueSpec) -> (Action, Vec<Difference>) {
    compare(
        vec![
            ("durable", Value::Bool(b.durable), Value::Bool(o.durable)),
            (
                "auto_delete",
                Value::Bool(b.auto_delete),
                Value::Bool(o.auto_delete),
            ),
        ],
        &b.arguments,
        &o.arguments,
    )
}

fn plan_probed(
    connection: &str,
    want: &ConnectionSpecs,
    probed: &Probed,
    changes: &mut Vec<Change>,
) {
    let mut push = |mut entity: Entity, probe: Option<&Probe>, usage: Option<Usage>| {
        let (action, reason, differences) = match probe {
            None | Some(Probe::Missing) => (Action::Create, None, Vec::new()),
            Some(Probe::Same) => (Action::Unchanged, None, Vec::new()),
            Some(Probe::Differs(answer)) => {
                let mut reason = format!("the broker refuses our declaration: {answer}");
                if let (Entity::Queue(q), Some(u)) = (&mut entity, usage) {
                    q.usage = u;
                    reason.push_str(
                        "; replacing a queue needs the management API (to see its bindings and unacknowledged messages)",
                    );
                }
                (
                    Action::Replace,
                    Some(reason),
                    vec![Difference {
                        property: "equivalence".into(),
                        broker: None,
                        ours: None,
                    }],
                )
            }
        };
        changes.push(Change {
            action,
            connection: connection.to_string(),
            entity,
            reason,
            differences,
        });
    };
    for e in &want.exchanges {
        push(
            Entity::Exchange(e.clone()),
            probed.exchanges.get(&e.name),
            None,
        );
    }
    for q in &want.queues {
        let (probe, usage) = match probed.queues.get(&q.name) {
            Some((p, u)) => (Some(p), Some(*u)),
            None => (None, None),
        };
        push(Entity::Queue(q.clone()), probe, usage);
    }
    // Bindings cannot be seen without the management API. Binding again is harmless when the
    // binding exists with the same arguments encoded the same way (signed 64-bit integers).
    for b in &want.bindings {
        changes.push(Change {
            action: Action::Unverified,
            connection: connection.to_string(),
            entity: Entity::Binding(b.clone()),
            reason: Some(
                "AMQP probes cannot see bindings: apply binds it (harmless when it exists)"
                    .to_string(),
            ),
            differences: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
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
    use crate::spec::BindingKey;

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
            arguments: BTreeMap::new(),
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
        use crate::apply::record::Record;
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
