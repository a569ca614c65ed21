//! Planning one connection against what its broker holds (read through the management
//! API), or against nothing (offline, no URL, not provisioned): each entity's action, the
//! properties that differ, and why; what the broker has and the files do not declare.

use std::collections::{HashMap, HashSet};

use super::{Action, Change, Difference, Entity, Unmanaged, probe};
use crate::broker::record;
use crate::broker::state::ConnectionState;
use crate::model::Value;
use crate::spec::{ArgMap, BindingSpec, ConnectionSpecs, ExchangeSpec, QueueSpec, QueueType};

pub(super) fn plan_connection(
    connection: &str,
    want: ConnectionSpecs,
    state: &ConnectionState,
    prune: bool,
    changes: &mut Vec<Change>,
    unmanaged: &mut Vec<Unmanaged>,
) {
    let shared: std::sync::Arc<str> = connection.into();
    let change = |action, entity, reason: Option<String>, differences| Change {
        action,
        connection: shared.clone(),
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
            probe::plan_probed(connection, &want, probed, changes);
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
    // An exchange or binding the files do not declare: deleted when `ours` says why (this
    // tool's own leftover), else with --prune, else unmanaged.
    let not_declared = |entity: Entity,
                        ours: Option<String>,
                        changes: &mut Vec<Change>,
                        unmanaged: &mut Vec<Unmanaged>| {
        match ours.or_else(|| prune.then(|| "not declared in the files (--prune)".to_string())) {
            Some(reason) => changes.push(change(Action::Delete, entity, Some(reason), Vec::new())),
            None => unmanaged.push(Unmanaged {
                connection: shared.clone(),
                entity,
                reason: None,
            }),
        }
    };
    let ours_ex: HashSet<&str> = want.exchanges.iter().map(|e| e.name.as_str()).collect();
    let ours_q: HashSet<&str> = want.queues.iter().map(|q| q.name.as_str()).collect();
    for e in &have.exchanges {
        if e.name.is_empty() || e.name.starts_with("amq.") || ours_ex.contains(e.name.as_str()) {
            continue;
        }
        let ours = record::is_own(&e.arguments)
            .then(|| "a scratch exchange an interrupted apply left: deleted".to_string());
        not_declared(Entity::Exchange(e.clone()), ours, changes, unmanaged);
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
            unmanaged.push(Unmanaged {
                connection: shared.clone(),
                entity,
                reason,
            });
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
        // The files own this key: the other arguments are the old half of a binding replace
        // that stopped, or a change made by hand. The files' binding stays.
        let ours = our_keys.contains(&b.key).then(|| "the files bind the same source, destination and routing key with other arguments: this one (left by an interrupted replace, or made by hand) is removed, the files' one stays".to_string());
        not_declared(Entity::Binding(b.clone()), ours, changes, unmanaged);
    }
}

/// The arguments that differ, as `arguments.<name>` differences (broker, ours).
pub(super) fn argument_differences(
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

pub(super) fn reason_for(action: Action, diffs: &[Difference]) -> Option<String> {
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
pub(super) fn policy_note(argument: &str) -> Option<String> {
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

fn compare_arguments(broker: &ArgMap, ours: &ArgMap, out: &mut Vec<Difference>) {
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
    broker: &ArgMap,
    ours: &ArgMap,
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

pub(super) fn compare_exchange(b: &ExchangeSpec, o: &ExchangeSpec) -> (Action, Vec<Difference>) {
    compare(
        vec![
            (
                "type",
                Value::Str(b.kind.to_string()),
                Value::Str(o.kind.to_string()),
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

pub(super) fn compare_queue(b: &QueueSpec, o: &QueueSpec) -> (Action, Vec<Difference>) {
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
