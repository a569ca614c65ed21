//! Pure: one connection's plan → the ordered tasks apply runs.
//!
//! Order: bindings to prune; exchanges created, then replaced; queues created, then swapped;
//! holding queues and exchange records of interrupted runs finished; bindings created; then
//! what is deleted (queues one by one under their conditions, then exchanges). Independent
//! declares and binds form batches, which the real broker pipelines; replaces and deletes
//! are protocols, run one at a time.

use std::collections::HashMap;

use crate::broker::executor::Op;
use crate::broker::record::Record;
use crate::plan::{Action, Change, Entity};
use crate::spec::{BindingSpec, ConnectionSpecs, ExchangeSpec, QueueSpec};

/// One unit of apply's work, with the change(s) it reports on.
#[derive(Debug)]
pub enum Task<'a> {
    /// Independent idempotent operations, one per change.
    Batch(Vec<(&'a Change, Op)>),
    /// Bind the new binding, then unbind the old one (other arguments, same key).
    ReplaceBinding {
        change: &'a Change,
        old: BindingSpec,
        new: BindingSpec,
    },
    ReplaceExchange {
        change: &'a Change,
        old: ExchangeSpec,
        new: ExchangeSpec,
    },
    SwapQueue {
        change: &'a Change,
        new: QueueSpec,
    },
    FinishHolding {
        change: &'a Change,
        record: Record,
    },
    FinishExchangeRecord {
        change: &'a Change,
        record: Record,
        target: ExchangeSpec,
    },
    DeleteQueue {
        change: &'a Change,
        name: String,
    },
}

impl Task<'_> {
    /// The queue this task may delete, whose users must have left first.
    pub fn queue_to_vacate(&self) -> Option<&str> {
        match self {
            Task::SwapQueue { new, .. } => Some(&new.name),
            Task::DeleteQueue { name, .. } => Some(name),
            Task::FinishHolding { record, .. } => Some(record.queue_name()),
            _ => None,
        }
    }
}

/// The tasks of one connection's `changes`; `have` is what its broker holds.
pub fn schedule<'a>(changes: &[&'a Change], have: &ConnectionSpecs) -> Vec<Task<'a>> {
    let select = |kind: crate::plan::EntityKind, action: Action| -> Vec<&'a Change> {
        changes
            .iter()
            .copied()
            .filter(|c| c.kind() == kind && c.action == action)
            .collect()
    };
    use crate::plan::EntityKind::{Binding as B, Exchange as E, Queue as Q};
    let ours_exchanges: HashMap<&str, &ExchangeSpec> = changes
        .iter()
        .filter_map(|c| match &c.entity {
            Entity::Exchange(e) if c.action != Action::Delete => Some((e.name.as_str(), e)),
            _ => None,
        })
        .collect();
    let broker_exchanges: HashMap<&str, &ExchangeSpec> = have
        .exchanges
        .iter()
        .map(|e| (e.name.as_str(), e))
        .collect();

    let batch = |list: Vec<&'a Change>, op: fn(&Entity) -> Option<Op>| -> Task<'a> {
        Task::Batch(
            list.into_iter()
                .filter_map(|c| op(&c.entity).map(|o| (c, o)))
                .collect(),
        )
    };
    let mut tasks = vec![
        batch(select(B, Action::Delete), |e| match e {
            Entity::Binding(b) => Some(Op::Unbind(b.clone())),
            _ => None,
        }),
        batch(select(E, Action::Create), |e| match e {
            Entity::Exchange(x) => Some(Op::DeclareExchange(x.clone())),
            _ => None,
        }),
    ];
    for c in select(E, Action::Replace) {
        if let Entity::Exchange(new) = &c.entity {
            let old = broker_exchanges
                .get(new.name.as_str())
                .map(|e| (*e).clone())
                .unwrap_or_else(|| new.clone());
            tasks.push(Task::ReplaceExchange {
                change: c,
                old,
                new: new.clone(),
            });
        }
    }
    tasks.push(batch(select(Q, Action::Create), |e| match e {
        Entity::Queue(q) => Some(Op::DeclareQueue(q.clone())),
        _ => None,
    }));
    for c in select(Q, Action::Replace) {
        if let Entity::Queue(new) = &c.entity {
            tasks.push(Task::SwapQueue {
                change: c,
                new: new.clone(),
            });
        }
    }
    // Deletes of queues: records of interrupted runs are finished here, before bindings
    // are created; the rest (prune, scratch queues) go last.
    let mut deletes = Vec::new();
    for c in select(Q, Action::Delete) {
        let Entity::Queue(q) = &c.entity else {
            continue;
        };
        match Record::parse(q) {
            Some(r @ Record::Holding { .. }) => tasks.push(Task::FinishHolding {
                change: c,
                record: r,
            }),
            Some(r @ Record::ExchangeRestore { .. }) => {
                let Record::ExchangeRestore { exchange, old, .. } = &r else {
                    unreachable!("matched above")
                };
                let target = ours_exchanges
                    .get(exchange.as_str())
                    .map(|e| (*e).clone())
                    .unwrap_or_else(|| old.clone());
                tasks.push(Task::FinishExchangeRecord {
                    change: c,
                    record: r,
                    target,
                });
            }
            None => deletes.push(Task::DeleteQueue {
                change: c,
                name: q.name.to_string(),
            }),
        }
    }
    // Unverified bindings (probe mode cannot see them) are bound too: binding is idempotent.
    let mut binds = select(B, Action::Create);
    binds.extend(select(B, Action::Unverified));
    tasks.push(batch(binds, |e| match e {
        Entity::Binding(b) => Some(Op::Bind(b.clone())),
        _ => None,
    }));
    for c in select(B, Action::Replace) {
        if let (Entity::Binding(new), Some(old)) = (&c.entity, crate::plan::replaced_binding(c)) {
            tasks.push(Task::ReplaceBinding {
                change: c,
                old,
                new: new.clone(),
            });
        }
    }
    tasks.extend(deletes);
    tasks.push(batch(select(E, Action::Delete), |e| match e {
        Entity::Exchange(x) => Some(Op::DeleteExchange(x.name.to_string())),
        _ => None,
    }));
    tasks.retain(|t| !matches!(t, Task::Batch(items) if items.is_empty()));
    tasks
}
