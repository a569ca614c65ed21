//! How a plan becomes broker operations: takes one connection's [`Change`]s (from `plan`)
//! and what its broker holds; gives a [`Step`] per change. [`schedule`] orders the changes
//! into tasks (pure), [`protocol`] runs replaces and deletes as resumable, zero-loss
//! protocols, and [`run_connection`] runs the tasks over an [`Executor`] (the seam that
//! `broker` defines: the real broker, or the in-memory fake of the unit tests).
//!
//! Before anything is changed, every queue that a task may delete is checked: consumers
//! attached or unacknowledged messages refuse the whole connection (optionally after waiting
//! a bounded time for the consumers to leave), so that a refusal changes nothing.

#[cfg(test)]
pub mod fake;
pub mod protocol;
pub mod schedule;

use std::time::Duration;

use crate::broker::executor::{self, Executor, Outcome};
use protocol::{Done, Failure};
use schedule::Task;

use crate::plan::{Action, Change, EntityKind};
use crate::spec::ConnectionSpecs;

/// What became of a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Done,
    /// A step failed; the message says what was left where.
    Failed,
    /// Refused before anything of it changed.
    Refused,
    /// Not run: an earlier step stopped the run.
    NotRun,
}

/// One change as apply took it (or did not), for the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Step {
    pub action: Action,
    pub kind: EntityKind,
    pub connection: String,
    pub name: String,
    pub status: Status,
    pub message: Option<String>,
}

impl Step {
    fn of(c: &Change, status: Status, message: Option<String>) -> Step {
        Step {
            action: c.action,
            kind: c.kind(),
            connection: c.connection.to_string(),
            name: c.name(),
            status,
            message,
        }
    }
}

/// How one connection's apply ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Done,
    /// Refused before anything changed.
    Refused,
    /// Stopped by a failed step (what was done is recorded; applying again converges).
    Failed,
    /// The connection was lost.
    Lost,
}

/// Runs one connection's changes. `have`: what its broker held when planned. `wait`: how
/// long to wait for consumers of a queue to be replaced or deleted to leave.
pub async fn run_connection<E: Executor>(
    ex: &mut E,
    changes: &[&Change],
    have: &ConnectionSpecs,
    wait: Duration,
    steps: &mut Vec<Step>,
) -> Ending {
    let tasks = schedule::schedule(changes, have);
    if let Err((ending, refusals)) = vacated(ex, &tasks, wait).await {
        for (c, why) in refusals {
            steps.push(Step::of(c, Status::Refused, Some(why)));
        }
        return ending;
    }
    let mut ending = Ending::Done;
    for task in &tasks {
        if ending != Ending::Done {
            for c in changes_of(task) {
                steps.push(Step::of(c, Status::NotRun, None));
            }
            continue;
        }
        ending = run_task(ex, task, steps).await;
    }
    ending
}

fn changes_of<'a>(task: &Task<'a>) -> Vec<&'a Change> {
    match task {
        Task::Batch(items) => items.iter().map(|(c, _)| *c).collect(),
        Task::ReplaceExchange { change, .. }
        | Task::ReplaceBinding { change, .. }
        | Task::SwapQueue { change, .. }
        | Task::FinishHolding { change, .. }
        | Task::FinishExchangeRecord { change, .. }
        | Task::DeleteQueue { change, .. } => vec![*change],
    }
}

/// Checks, before anything changes, that no queue a task may delete has consumers or
/// unacknowledged messages; waits up to `wait` for them to leave.
async fn vacated<'a, E: Executor>(
    ex: &mut E,
    tasks: &[Task<'a>],
    wait: Duration,
) -> Result<(), (Ending, Vec<(&'a Change, String)>)> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let mut refusals = Vec::new();
        for task in tasks {
            let Some(queue) = task.queue_to_vacate() else {
                continue;
            };
            let change = changes_of(task)[0];
            match ex.queue_status(queue).await {
                Ok(Some(status)) => {
                    if let Err(f) = protocol::check_unused(queue, &status) {
                        refusals.push((change, f.to_string()));
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    let lost = matches!(e, executor::OpError::Lost(_));
                    refusals.push((change, format!("reading queue `{queue}`: {e}")));
                    if lost {
                        return Err((Ending::Lost, refusals));
                    }
                }
            }
        }
        if refusals.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err((Ending::Refused, refusals));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn run_task<E: Executor>(ex: &mut E, task: &Task<'_>, steps: &mut Vec<Step>) -> Ending {
    let result = match task {
        Task::Batch(items) => {
            let ops: Vec<executor::Op> = items.iter().map(|(_, op)| op.clone()).collect();
            let outcomes: Vec<Outcome> = ex.run_many(&ops).await;
            let mut ending = Ending::Done;
            for ((c, _), outcome) in items.iter().zip(outcomes) {
                let step = match outcome {
                    Some(Ok(())) => Step::of(c, Status::Done, None),
                    Some(Err(e)) => {
                        ending = match e {
                            executor::OpError::Lost(_) => Ending::Lost,
                            _ => Ending::Failed,
                        };
                        Step::of(c, Status::Failed, Some(e.to_string()))
                    }
                    None => Step::of(c, Status::NotRun, None),
                };
                steps.push(step);
            }
            return ending;
        }
        Task::ReplaceBinding { old, new, .. } => protocol::replace_binding(ex, old, new).await,
        Task::ReplaceExchange { old, new, .. } => protocol::replace_exchange(ex, old, new).await,
        Task::SwapQueue { new, .. } => protocol::swap_queue(ex, new).await,
        Task::FinishHolding { record, .. } => protocol::finish_holding(ex, record).await,
        Task::FinishExchangeRecord { record, target, .. } => {
            protocol::finish_exchange_record(ex, record, target).await
        }
        Task::DeleteQueue { name, .. } => protocol::delete_queue(ex, name).await,
    };
    let change = changes_of(task)[0];
    match result {
        Ok(done) => {
            steps.push(Step::of(change, Status::Done, describe(&done)));
            Ending::Done
        }
        Err(failure) => {
            let (status, ending) = match &failure {
                Failure::Refused(_) => (Status::Refused, Ending::Refused),
                Failure::Failed(_) => (Status::Failed, Ending::Failed),
                Failure::Lost(_) => (Status::Failed, Ending::Lost),
            };
            steps.push(Step::of(change, status, Some(failure.to_string())));
            ending
        }
    }
}

fn describe(done: &Done) -> Option<String> {
    let mut parts = Vec::new();
    if done.messages_moved > 0 {
        parts.push(format!(
            "{} moved",
            crate::text::count(done.messages_moved, "message")
        ));
    }
    if done.bindings_moved > 0 {
        parts.push(format!(
            "{} moved",
            crate::text::count(done.bindings_moved as u64, "binding")
        ));
    }
    if let Some(note) = &done.note {
        parts.push(note.clone());
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests;
