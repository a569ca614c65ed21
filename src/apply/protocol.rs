//! Replace and delete as explicit, resumable protocols over the [`Executor`] seam.
//!
//! The rules every protocol keeps:
//! - **The way back first.** Everything that could fail later (the new definition, a
//!   quorum, the holding queue) is tried before the first delete: when it fails, nothing was
//!   removed.
//! - **Delete only what the broker proves empty and unused.** Classic queues: one
//!   `queue.delete` with `if-unused` and `if-empty`. Quorum and stream queues, which refuse
//!   those flags: no consumer, no ready and no unacknowledged message, no binding left, then
//!   delete. A queue with consumers is never deleted.
//! - **Bind before unbind.** A binding moves by binding the new destination first, so a
//!   published message always finds a queue (at worst two: a duplicate, never a loss).
//! - **State lives on the broker.** Messages and bindings of a queue being replaced wait in
//!   a holding queue that records the old definition ([`Record`]); an exchange's bindings are
//!   recorded before it is deleted. Whatever stops a run, the next one finds the record and
//!   finishes.

use crate::broker::executor::{DeleteQueue, Executor, Op, OpError, Proof, QueueStatus};
use crate::broker::record::{self, Record};
use crate::spec::{BindingSpec, ExchangeSpec, QueueSpec, QueueType};

/// How a protocol ended, when it did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Refused before anything was changed (consumers attached, unacknowledged messages, a
    /// definition the broker refuses, …).
    Refused(String),
    /// A step failed after changes began; the message says what is where (restored, or
    /// recorded for the next run to finish).
    Failed(String),
    /// The connection is gone; what was done is recorded on the broker.
    Lost(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(m) | Failure::Failed(m) | Failure::Lost(m) => write!(f, "{m}"),
        }
    }
}

/// What a protocol did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Done {
    /// Messages moved into the holding queue and back (each counted once).
    pub messages_moved: u64,
    /// Bindings moved to the holding queue and back, or restored.
    pub bindings_moved: usize,
    pub note: Option<String>,
}

/// How many times a drain-then-delete is tried when messages keep arriving straight to the
/// queue (through the default exchange) between the drain and the delete.
const DELETE_ATTEMPTS: usize = 5;

/// An executor error inside a protocol that already changed something: lost stays lost,
/// a refusal becomes a failure that says what was left where.
fn failed(e: OpError, doing: &str, left: &str) -> Failure {
    match e {
        OpError::Lost(why) => Failure::Lost(format!("{doing}: {why}; {left}")),
        e => Failure::Failed(format!("{doing}: {e}; {left}")),
    }
}

/// An executor error before anything changed.
/// A binding whose arguments change: the new one is bound first, then the old one unbound,
/// so the destination stays bound throughout (a message matching both is still delivered
/// once: RabbitMQ routes a message to a queue once, however many of its bindings match).
pub async fn replace_binding<E: Executor>(
    ex: &mut E,
    old: &BindingSpec,
    new: &BindingSpec,
) -> Result<Done, Failure> {
    ex.run(&Op::Bind(new.clone()))
        .await
        .map_err(|e| refused_before(e, &format!("binding {}", new.display_name())))?;
    ex.run(&Op::Unbind(old.clone())).await.map_err(|e| {
        let left = format!(
            "the new binding is in place, the old one (other arguments) is still bound: {e}; run apply again to remove it"
        );
        match e {
            OpError::Lost(_) => Failure::Lost(left),
            _ => Failure::Failed(left),
        }
    })?;
    Ok(Done::default())
}

fn refused_before(e: OpError, doing: &str) -> Failure {
    match e {
        OpError::Lost(why) => Failure::Lost(format!("{doing}: {why}; nothing was changed")),
        e => Failure::Refused(format!("{doing}: {e}; nothing was changed")),
    }
}

/// Refuses a queue that consumers use (exact: the broker counts them). Unacknowledged
/// messages without a consumer are not judged here, from statistics that may be seconds
/// old, but by [`Executor::vacate`] before the delete.
pub fn check_unused(name: &str, status: &QueueStatus) -> Result<(), Failure> {
    if status.consumers > 0 {
        return Err(Failure::Refused(in_use(
            name,
            Some(status.consumers),
            &status.consumer_connections,
        )));
    }
    Ok(())
}

/// The refusal of a queue that consumers use: how many (when known), from where.
fn in_use(name: &str, consumers: Option<u64>, connections: &[String]) -> String {
    let count = consumers
        .map(|n| crate::text::count(n, "consumer"))
        .unwrap_or_else(|| "consumers".into());
    let from = if connections.is_empty() {
        String::new()
    } else {
        format!(" (from {})", connections.join(", "))
    };
    format!(
        "queue `{name}` has {count}{from}: a queue in use is never deleted; stop its consumers (or give --wait-for-consumers SECONDS) and apply again"
    )
}

/// The queue's status, refused when consumers use it.
async fn unused_status<E: Executor>(ex: &mut E, name: &str) -> Result<QueueStatus, Failure> {
    let status = ex
        .queue_status(name)
        .await
        .map_err(|e| refused_before(e, &format!("reading queue `{name}`")))?
        .unwrap_or_default();
    check_unused(name, &status)?;
    Ok(status)
}

/// Deletes a queue that should now be drained, under the broker's own conditions (classic)
/// or after establishing them (quorum, stream). `Ok(false)`: not deleted because it is not
/// empty (a message arrived); consumers are a refusal.
async fn delete_drained<E: Executor>(
    ex: &mut E,
    queue: &str,
    queue_type: QueueType,
) -> Result<bool, OpError> {
    if queue_type == QueueType::Classic {
        match ex.delete_queue(queue, DeleteQueue::IfUnusedAndEmpty).await {
            Ok(()) => return Ok(true),
            Err(e) if e.is_precondition() => {}
            Err(e) => return Err(e),
        }
    }
    let Some(status) = ex.queue_status(queue).await? else {
        return Ok(true);
    };
    if status.consumers > 0 || status.unacked.unwrap_or(0) > 0 {
        return Err(OpError::Refused {
            code: 406,
            text: format!(
                "queue `{queue}` is in use ({}, {} unacknowledged)",
                crate::text::count(status.consumers, "consumer"),
                crate::text::thousands(status.unacked.unwrap_or(0))
            ),
        });
    }
    if queue_type == QueueType::Classic
        || status.ready > 0
        || !ex.queue_bindings(queue).await?.is_empty()
    {
        return Ok(false);
    }
    ex.delete_queue(queue, DeleteQueue::AfterChecks).await?;
    Ok(true)
}

/// Moves every binding of `from` to `to`, each bound to `to` before it is unbound from
/// `from`. Returns how many moved.
async fn move_bindings<E: Executor>(ex: &mut E, from: &str, to: &str) -> Result<usize, OpError> {
    let bindings = ex.queue_bindings(from).await?;
    for b in &bindings {
        let mut moved = b.clone();
        moved.key.destination = to.into();
        ex.run(&Op::Bind(moved)).await?;
        ex.run(&Op::Unbind(b.clone())).await?;
    }
    Ok(bindings.len())
}

/// Why a queue could not be vacated, in words; `None` when it is vacant.
fn proof_failure(queue: &str, proof: &Proof) -> Option<String> {
    match proof {
        Proof::Vacant => None,
        Proof::Consumers(who) => Some(in_use(queue, None, who)),
        Proof::Unacked(n) => Some(format!(
            "{} of queue `{queue}` delivered and not acknowledged (a consumer that left without handing them back, or basic.get): deleting it would lose them; apply again once they are acknowledged or handed back",
            crate::text::count(*n, "message")
        )),
        Proof::NotEmpty(n) => Some(format!(
            "queue `{queue}` holds {}",
            crate::text::count(*n, "message")
        )),
        Proof::Unproven(why) => Some(format!(
            "could not establish that no message of queue `{queue}` is held unacknowledged: {why}"
        )),
    }
}

/// Empties `queue` into `into` and deletes it, retrying when messages keep arriving
/// straight to it. `prove`: first establish, under an exclusive consumer, that nobody holds
/// a message of it unacknowledged (a queue users know); without, only the broker's own
/// conditions guard the delete (this tool's holding queue, which nobody else knows).
/// `Ok(None)`: deleted; `Ok(Some(why))`: kept, nothing lost.
async fn drain_and_delete<E: Executor>(
    ex: &mut E,
    queue: &str,
    queue_type: QueueType,
    into: &str,
    prove: bool,
    moved: &mut u64,
) -> Result<Option<String>, OpError> {
    // A stream keeps what is read from it: nothing is moved or held unacknowledged.
    let prove = prove && queue_type != QueueType::Stream;
    for _ in 0..DELETE_ATTEMPTS {
        if prove {
            let v = ex.vacate(queue, Some(into)).await?;
            *moved += v.moved;
            if let Some(why) = proof_failure(queue, &v.proof) {
                return Ok(Some(why));
            }
        } else {
            *moved += ex.move_messages(queue, into).await?;
        }
        match delete_drained(ex, queue, queue_type).await {
            Ok(true) => return Ok(None),
            Ok(false) => continue,
            Err(e) if e.is_precondition() => return Ok(Some(e.to_string())),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(format!(
        "messages kept arriving straight to queue `{queue}` (through the default exchange) after {DELETE_ATTEMPTS} drains"
    )))
}

/// Marks a scratch entity as this tool's, so that a run killed before it is deleted leaves
/// something the next plan recognises (and deletes) rather than an unmanaged entity.
fn mark_scratch(arguments: &mut crate::spec::ArgMap, of: &str) {
    use crate::model::Value;
    arguments.insert(record::KIND.into(), Value::Str("scratch".into()));
    arguments.insert(record::FOR.into(), Value::Str(of.to_string()));
}

/// Proves that the broker accepts `new` (and, for a quorum queue, that a quorum is there)
/// by declaring it under a scratch name, then deleting that empty, unbound queue.
async fn try_definition<E: Executor>(ex: &mut E, new: &QueueSpec) -> Result<(), Failure> {
    let mut check = new.clone();
    check.name = record::record_name("topology.check.", &new.name).into();
    mark_scratch(&mut check.arguments, &new.name);
    let doing = format!(
        "declaring the new definition of `{}` (as `{}`)",
        new.name, check.name
    );
    let how = DeleteQueue::of(check.queue_type());
    // A scratch queue an interrupted run left, with another definition, goes first.
    if let Some(left) = ex
        .queue_definition(&check.name)
        .await
        .map_err(|e| refused_before(e, &doing))?
        && !left.same_definition(&check)
    {
        if !record::is_own(&left.arguments) {
            return Err(Failure::Refused(format!(
                "queue `{}` exists and is not a scratch queue of this tool: it is left alone; nothing was changed",
                check.name
            )));
        }
        ex.delete_queue(&check.name, DeleteQueue::of(left.queue_type()))
            .await
            .map_err(|e| {
                refused_before(e, &format!("deleting the scratch queue `{}`", check.name))
            })?;
    }
    ex.run(&Op::DeclareQueue(check.clone()))
        .await
        .map_err(|e| refused_before(e, &doing))?;
    ex.delete_queue(&check.name, how)
        .await
        .map_err(|e| refused_before(e, &format!("deleting the scratch queue `{}`", check.name)))
}

/// The holding queue for `old`: the one an earlier run left (kept as it is), or a new one.
async fn holding_queue<E: Executor>(ex: &mut E, old: &QueueSpec) -> Result<String, Failure> {
    let record = Record::holding_for(old);
    let name = record.queue_name().to_string();
    let existing = ex
        .queue_definition(&name)
        .await
        .map_err(|e| refused_before(e, &format!("reading holding queue `{name}`")))?;
    if existing.as_ref().and_then(Record::parse).is_none() {
        if existing.is_some() {
            return Err(Failure::Refused(format!(
                "queue `{name}` exists and is not a holding queue of this tool: it is left alone; nothing was changed"
            )));
        }
        ex.run(&Op::DeclareQueue(record.spec()))
            .await
            .map_err(|e| refused_before(e, &format!("declaring holding queue `{name}`")))?;
    }
    Ok(name)
}

/// Replaces queue `new.name` with `new` under traffic, losing no message ("swap"): its
/// bindings and messages move to a holding queue, it is deleted under the broker's
/// conditions, declared again, and everything moves back.
pub async fn swap_queue<E: Executor>(ex: &mut E, new: &QueueSpec) -> Result<Done, Failure> {
    let name = new.name.as_str();
    let Some(old) = ex
        .queue_definition(name)
        .await
        .map_err(|e| refused_before(e, &format!("reading queue `{name}`")))?
    else {
        // Gone since the plan: declare it, and take back what an earlier run holds.
        ex.run(&Op::DeclareQueue(new.clone()))
            .await
            .map_err(|e| refused_before(e, &format!("declaring queue `{name}`")))?;
        return finish_holding(ex, &Record::holding_for(new)).await;
    };
    if old.same_definition(new) {
        return finish_holding(ex, &Record::holding_for(&old)).await;
    }
    let status = unused_status(ex, name).await?;
    let old_type = old.queue_type();
    if old_type == QueueType::Stream && status.ready > 0 {
        return Err(Failure::Refused(format!(
            "queue `{name}` is a stream holding {}: a stream keeps its messages after they are read, so they cannot be moved aside; nothing was changed",
            crate::text::count(status.ready, "message")
        )));
    }
    try_definition(ex, new).await?;
    let holding = holding_queue(ex, &old).await?;

    let mut done = Done::default();
    let left = format!(
        "queue `{name}` and holding queue `{holding}` hold every message; run apply again to finish"
    );
    done.bindings_moved = move_bindings(ex, name, &holding).await.map_err(|e| {
        failed(
            e,
            &format!("moving the bindings of `{name}` to `{holding}`"),
            &left,
        )
    })?;
    let mut moved = 0;
    let kept = drain_and_delete(ex, name, old_type, &holding, true, &mut moved)
        .await
        .map_err(|e| {
            failed(
                e,
                &format!("draining queue `{name}` into `{holding}`"),
                &left,
            )
        })?;
    if let Some(why) = kept {
        // Not deleted: put everything back as it was.
        finish_holding(ex, &Record::holding_for(&old)).await?;
        return Err(Failure::Refused(format!(
            "queue `{name}` was not replaced: {why}; its bindings and messages were put back"
        )));
    }
    let left = format!(
        "queue `{name}` is deleted; every message and binding waits in holding queue `{holding}`; run apply again to finish"
    );
    if let Err(e) = ex.run(&Op::DeclareQueue(new.clone())).await {
        if let OpError::Lost(_) = e {
            return Err(failed(e, &format!("declaring queue `{name}` again"), &left));
        }
        // Refused after the delete: bring the old queue back rather than leave it missing.
        ex.run(&Op::DeclareQueue(old.clone())).await.map_err(|e2| {
            failed(
                e2,
                &format!("declaring queue `{name}` again ({e}), then the old one"),
                &left,
            )
        })?;
        finish_holding(ex, &Record::holding_for(&old)).await?;
        return Err(Failure::Failed(format!(
            "the broker refused the new definition of queue `{name}` after the old queue was deleted ({e}); the old definition was declared again and its bindings and messages put back"
        )));
    }
    let back = finish_holding(ex, &Record::holding_for(&old)).await?;
    done.messages_moved = moved.max(back.messages_moved);
    Ok(done)
}

/// Finishes a holding queue: its bindings and messages go back to the queue it holds for
/// (declared first, from the record, when missing), then it is deleted. Nothing to do when
/// it does not exist.
pub async fn finish_holding<E: Executor>(ex: &mut E, record: &Record) -> Result<Done, Failure> {
    let Record::Holding {
        holding,
        queue,
        old,
    } = record
    else {
        return Ok(Done::default());
    };
    let left = format!(
        "holding queue `{holding}` keeps what it holds for queue `{queue}`; run apply again to finish"
    );
    let Some(hold) = ex
        .queue_definition(holding)
        .await
        .map_err(|e| failed(e, &format!("reading holding queue `{holding}`"), &left))?
    else {
        return Ok(Done::default());
    };
    // The recorded definition is the truth about the old queue, whoever calls.
    let old = Record::parse(&hold)
        .and_then(|r| match r {
            Record::Holding { old, .. } => Some(old),
            _ => None,
        })
        .unwrap_or_else(|| old.clone());
    let status = ex
        .queue_status(holding)
        .await
        .map_err(|e| failed(e, &format!("reading holding queue `{holding}`"), &left))?
        .unwrap_or_default();
    check_unused(holding, &status)?;
    if ex
        .queue_definition(queue)
        .await
        .map_err(|e| failed(e, &format!("reading queue `{queue}`"), &left))?
        .is_none()
    {
        ex.run(&Op::DeclareQueue(old.clone())).await.map_err(|e| {
            failed(
                e,
                &format!("declaring queue `{queue}` from the record"),
                &left,
            )
        })?;
    }
    let mut done = Done {
        bindings_moved: move_bindings(ex, holding, queue).await.map_err(|e| {
            failed(
                e,
                &format!("moving bindings back from `{holding}` to `{queue}`"),
                &left,
            )
        })?,
        ..Done::default()
    };
    let kept = drain_and_delete(
        ex,
        holding,
        hold.queue_type(),
        queue,
        false,
        &mut done.messages_moved,
    )
    .await
    .map_err(|e| {
        failed(
            e,
            &format!("moving messages back from `{holding}` to `{queue}`"),
            &left,
        )
    })?;
    match kept {
        None => Ok(done),
        Some(why) => Err(Failure::Failed(format!("{why}; {left}"))),
    }
}

/// Deletes a queue the files do not declare (`--prune`), or a scratch queue an earlier run
/// left: only when unused and empty, which the broker checks (classic) or the protocol
/// establishes (quorum, stream).
pub async fn delete_queue<E: Executor>(ex: &mut E, name: &str) -> Result<Done, Failure> {
    let Some(q) = ex
        .queue_definition(name)
        .await
        .map_err(|e| refused_before(e, &format!("reading queue `{name}`")))?
    else {
        return Ok(Done::default());
    };
    let status = unused_status(ex, name).await?;
    if status.ready > 0 {
        return Err(Failure::Refused(format!(
            "queue `{name}` holds {}: it is not deleted",
            crate::text::count(status.ready, "message")
        )));
    }
    if q.queue_type() != QueueType::Stream {
        let v = ex
            .vacate(name, None)
            .await
            .map_err(|e| refused_before(e, &format!("vacating queue `{name}`")))?;
        if let Some(why) = proof_failure(name, &v.proof) {
            return Err(Failure::Refused(format!("{why}: it is not deleted")));
        }
    }
    match delete_drained(ex, name, q.queue_type()).await {
        Ok(true) => Ok(Done::default()),
        Ok(false) => Err(Failure::Refused(format!(
            "queue `{name}` is not empty or still bound: it is not deleted"
        ))),
        Err(e) => Err(refused_before(e, &format!("deleting queue `{name}`"))),
    }
}

/// Replaces exchange `new.name`: records its bindings (from and to it) on the broker, then
/// deletes it, declares `new` and binds them again back to back on one channel. Publishers
/// may meet a 404 for that moment.
pub async fn replace_exchange<E: Executor>(
    ex: &mut E,
    old: &ExchangeSpec,
    new: &ExchangeSpec,
) -> Result<Done, Failure> {
    let name = new.name.as_str();
    // An earlier run's record first: its bindings are the complete list.
    let record_name = record::record_name("topology.restore.", name);
    let earlier = ex
        .queue_definition(&record_name)
        .await
        .map_err(|e| refused_before(e, &format!("reading record `{record_name}`")))?
        .as_ref()
        .and_then(Record::parse);
    let mut bindings = ex
        .exchange_bindings(name)
        .await
        .map_err(|e| refused_before(e, &format!("reading the bindings of exchange `{name}`")))?;
    if let Some(Record::ExchangeRestore { bindings: b, .. }) = &earlier {
        for x in b {
            if !bindings.contains(x) {
                bindings.push(x.clone());
            }
        }
    }
    // The new definition is tried under a scratch name before anything is deleted.
    let mut check = new.clone();
    check.name = record::record_name("topology.check.", name).into();
    mark_scratch(&mut check.arguments, name);
    // A scratch exchange an interrupted run left (perhaps with another definition) goes
    // first; nothing is ever bound to it.
    match ex.run(&Op::DeleteExchange(check.name.to_string())).await {
        Err(e) if !e.is_not_found() => {
            return Err(refused_before(
                e,
                &format!("deleting the scratch exchange `{}`", check.name),
            ));
        }
        _ => {}
    }
    ex.run(&Op::DeclareExchange(check.clone()))
        .await
        .map_err(|e| {
            refused_before(
                e,
                &format!("declaring the new definition of exchange `{name}`"),
            )
        })?;
    ex.run(&Op::DeleteExchange(check.name.to_string()))
        .await
        .map_err(|e| {
            refused_before(
                e,
                &format!("deleting the scratch exchange `{}`", check.name),
            )
        })?;
    let record = Record::exchange_restore(old, bindings.clone());
    if earlier.is_none() {
        ex.run(&Op::DeclareQueue(record.spec()))
            .await
            .map_err(|e| refused_before(e, &format!("recording the bindings of `{name}`")))?;
    }
    let left = format!(
        "record `{record_name}` keeps the exchange's definition and its {}; run apply again to restore them",
        crate::text::count(bindings.len() as u64, "binding")
    );
    if let Err(e) = ex.recreate_exchange(new, &bindings).await {
        if let OpError::Lost(_) = e {
            return Err(failed(e, &format!("replacing exchange `{name}`"), &left));
        }
        ex.recreate_exchange(old, &bindings).await.map_err(|e2| {
            failed(
                e2,
                &format!("replacing exchange `{name}` ({e}), then restoring it"),
                &left,
            )
        })?;
        drop_record(ex, &record_name, &left).await?;
        return Err(Failure::Failed(format!(
            "the broker refused the new definition of exchange `{name}` ({e}); the old one and its bindings were restored"
        )));
    }
    drop_record(ex, &record_name, &left).await?;
    Ok(Done {
        bindings_moved: bindings.len(),
        ..Done::default()
    })
}

async fn drop_record<E: Executor>(ex: &mut E, record: &str, left: &str) -> Result<(), Failure> {
    ex.delete_queue(record, DeleteQueue::IfUnusedAndEmpty)
        .await
        .map_err(|e| failed(e, &format!("deleting record `{record}`"), left))
}

/// Finishes an exchange restore record an earlier run left: the exchange is declared when
/// missing (`target`: the files' definition, or the recorded one), every recorded binding is
/// bound again (those whose other end no longer exists are reported), then the record goes.
pub async fn finish_exchange_record<E: Executor>(
    ex: &mut E,
    record: &Record,
    target: &ExchangeSpec,
) -> Result<Done, Failure> {
    let Record::ExchangeRestore {
        record: record_name,
        exchange,
        bindings,
        ..
    } = record
    else {
        return Ok(Done::default());
    };
    let left = format!("record `{record_name}` is kept; run apply again to finish");
    match ex.run(&Op::DeclareExchange(target.clone())).await {
        // 406: it exists with another definition (a replace the plan shows): keep it.
        Err(e) if !e.is_precondition() => {
            return Err(failed(
                e,
                &format!("declaring exchange `{exchange}`"),
                &left,
            ));
        }
        _ => {}
    }
    let mut missing = Vec::new();
    for b in bindings {
        match ex.run(&Op::Bind(b.clone())).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => missing.push(b.display_name()),
            Err(e) => return Err(failed(e, &format!("binding {}", b.display_name()), &left)),
        }
    }
    drop_record(ex, record_name, &left).await?;
    Ok(Done {
        bindings_moved: bindings.len() - missing.len(),
        messages_moved: 0,
        note: (!missing.is_empty()).then(|| {
            format!(
                "not restored, their other end no longer exists: {}",
                missing.join(", ")
            )
        }),
    })
}
