//! The seam between apply's protocols and a broker: the few operations apply asks of one
//! (declare, bind, unbind, delete under conditions, read a queue's usage and bindings, move
//! messages). It is the broker's to define, so that apply stands on it and nothing here
//! looks up: the real broker implements it over AMQP and the management API
//! ([`super::live`]); an in-memory broker implements it for apply's unit tests, with
//! injected faults (`apply::fake`). Takes and gives entity specs (`spec`) only.
//!
//! Contract of every implementation: an operation either happened on the broker or returned
//! an error; `Lost` means the connection is gone and nothing more can be done in this run.

use crate::spec::{BindingSpec, ExchangeSpec, QueueSpec};

/// One idempotent broker operation (declares and binds repeat harmlessly).
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    DeclareExchange(ExchangeSpec),
    DeleteExchange(String),
    DeclareQueue(QueueSpec),
    Bind(BindingSpec),
    Unbind(BindingSpec),
}

impl Op {
    pub fn describe(&self) -> String {
        match self {
            Op::DeclareExchange(e) => format!("declare exchange `{}`", e.name),
            Op::DeleteExchange(n) => format!("delete exchange `{n}`"),
            Op::DeclareQueue(q) => format!("declare queue `{}`", q.name),
            Op::Bind(b) => format!("bind {}", b.display_name()),
            Op::Unbind(b) => format!("unbind {}", b.display_name()),
        }
    }
}

/// How a queue is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteQueue {
    /// `queue.delete` with `if-unused` and `if-empty`: the broker checks both atomically
    /// (classic queues only; refused with a precondition error otherwise).
    IfUnusedAndEmpty,
    /// `queue.delete` without conditions, for quorum and stream queues, which do not support
    /// them: only sent after the protocol established the conditions itself.
    AfterChecks,
}

impl DeleteQueue {
    /// How a queue of this type is deleted once empty: with the broker's own conditions
    /// where it has them (classic), else after the caller established them.
    pub fn of(queue_type: crate::spec::QueueType) -> DeleteQueue {
        match queue_type {
            crate::spec::QueueType::Classic => DeleteQueue::IfUnusedAndEmpty,
            _ => DeleteQueue::AfterChecks,
        }
    }
}

/// Why an operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpError {
    /// The broker refused it (a channel error: 403, 404, 405, 406, …); the connection lives.
    Refused { code: u16, text: String },
    /// The connection is gone, the broker stopped answering within the deadline, or it
    /// closed the connection: nothing more can be done in this run.
    Lost(String),
}

impl OpError {
    /// The broker answered 406 PRECONDITION_FAILED (e.g. `if-empty` on a queue that holds a
    /// message, `if-unused` on one with consumers).
    pub fn is_precondition(&self) -> bool {
        matches!(self, OpError::Refused { code: 406, .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, OpError::Refused { code: 404, .. })
    }
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpError::Refused { code, text } => write!(f, "the broker answered {code} {text}"),
            OpError::Lost(why) => write!(f, "{why}"),
        }
    }
}

/// A queue's usage as the broker reports it right now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueStatus {
    /// Ready messages (exact).
    pub ready: u64,
    /// Consumers attached (exact).
    pub consumers: u64,
    /// Unacknowledged messages, from the management API's statistics (a few seconds old);
    /// `None` without it.
    pub unacked: Option<u64>,
    /// The connections the consumers come from (names as the management API shows them).
    pub consumer_connections: Vec<String>,
}

/// What [`Executor::vacate`] established about a queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proof {
    /// No consumer, no ready and no unacknowledged message: it may be deleted now.
    Vacant,
    /// Other consumers are attached (their connections, when known).
    Consumers(Vec<String>),
    /// Messages were delivered to someone (a consumer that has left, or `basic.get`) and not
    /// yet acknowledged: deleting the queue would lose them when they are handed back.
    Unacked(u64),
    /// A ready message is there and there is nowhere to move it.
    NotEmpty(u64),
    /// The broker's statistics did not show the queue vacant within the deadline.
    Unproven(String),
}

/// What [`Executor::vacate`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vacated {
    pub moved: u64,
    pub proof: Proof,
}

/// What became of one operation of a batch: `None` when it was not run.
pub type Outcome = Option<Result<(), OpError>>;

/// What apply asks of a broker. Methods take `&mut self`: one protocol runs at a time.
#[allow(async_fn_in_trait)]
pub trait Executor {
    /// Runs one operation.
    async fn run(&mut self, op: &Op) -> Result<(), OpError>;

    /// Runs independent operations, possibly in parallel; stops handing out work after the
    /// first failure. Outcomes are in the order given.
    async fn run_many(&mut self, ops: &[Op]) -> Vec<Outcome> {
        let mut out: Vec<Outcome> = vec![None; ops.len()];
        for (slot, op) in out.iter_mut().zip(ops) {
            let r = self.run(op).await;
            let failed = r.is_err();
            *slot = Some(r);
            if failed {
                break;
            }
        }
        out
    }

    /// Deletes a queue. See [`DeleteQueue`].
    async fn delete_queue(&mut self, name: &str, how: DeleteQueue) -> Result<(), OpError>;

    /// The queue's usage; `None` when it does not exist.
    async fn queue_status(&mut self, name: &str) -> Result<Option<QueueStatus>, OpError>;

    /// The queue as it is declared on the broker; `None` when it does not exist.
    async fn queue_definition(&mut self, name: &str) -> Result<Option<QueueSpec>, OpError>;

    /// Bindings whose destination is the queue (the default exchange's implicit one aside).
    async fn queue_bindings(&mut self, name: &str) -> Result<Vec<BindingSpec>, OpError>;

    /// Bindings whose source or destination is the exchange.
    async fn exchange_bindings(&mut self, name: &str) -> Result<Vec<BindingSpec>, OpError>;

    /// Moves every ready message of `from` into `to` (through the default exchange, with
    /// publisher confirms: a message is acknowledged in `from` only once `to` confirmed it;
    /// properties, headers and persistence kept). Returns how many were moved. Stops when
    /// `from` has no ready message left.
    async fn move_messages(&mut self, from: &str, to: &str) -> Result<u64, OpError>;

    /// Takes `queue` for this tool alone (an exclusive consumer: refused while others
    /// consume), moves its ready messages into `into` (none may be there when `into` is
    /// `None`), then establishes that nothing else holds a message of it: the broker's
    /// statistics must show, in a sample taken while the exclusive consumer holds it, no
    /// unacknowledged and no ready message. Nobody can take a message meanwhile, so a
    /// vacant sample stays true. Releases the queue before returning.
    async fn vacate(&mut self, queue: &str, into: Option<&str>) -> Result<Vacated, OpError>;

    /// Deletes the exchange, declares `spec` and binds `bindings`, back to back on one
    /// channel, so that publishers meet the exchange missing for as short a time as possible.
    async fn recreate_exchange(
        &mut self,
        spec: &ExchangeSpec,
        bindings: &[BindingSpec],
    ) -> Result<(), OpError>;
}
