//! The real broker behind the [`Executor`] seam that apply's protocols run over: operations
//! over one AMQP connection (lapin), the live facts from the management API, every call
//! bounded by the deadline.

use std::time::{Duration, Instant};

use lapin::{Channel, Connection};

use super::amqp;
use super::executor::{DeleteQueue, Executor, Op, OpError, Outcome, QueueStatus, Vacated};
use super::management::{Api, QueueDef, ReadError};
use super::mover;
use crate::spec::{BindingSpec, ExchangeSpec, QueueSpec};

/// How batches run.
#[derive(Clone)]
pub struct Batching {
    /// AMQP channels used at once.
    pub channels: usize,
    /// Called with the number of operations done so far.
    pub progress: amqp::Progress,
    /// Print each batch's timing on stderr.
    pub verbose: bool,
}

pub struct LiveBroker<'a> {
    conn: &'a Connection,
    /// Without it (probe mode) the protocols cannot see bindings or unacknowledged messages.
    api: Option<Api>,
    timeout: Duration,
    batching: Batching,
    /// The channel of one-at-a-time operations; the broker closes it on any refusal, and a
    /// new one is opened then.
    channel: Option<Channel>,
}

/// How long to wait for a statistics sample that proves a queue vacant: RabbitMQ emits one
/// every `collect_statistics_interval` (5 s by default) while the queue is busy.
const PROOF_DEADLINE: Duration = Duration::from_secs(15);

fn from_read(e: ReadError) -> OpError {
    OpError::Lost(e.to_string())
}

impl<'a> LiveBroker<'a> {
    pub fn new(
        conn: &'a Connection,
        api: Option<Api>,
        timeout: Duration,
        batching: Batching,
    ) -> LiveBroker<'a> {
        LiveBroker {
            conn,
            api,
            timeout,
            batching,
            channel: None,
        }
    }

    fn api(&self) -> Result<&Api, OpError> {
        self.api.as_ref().ok_or_else(|| OpError::Refused {
            code: 0,
            text: "this needs the management API (to see bindings and unacknowledged messages), which does not answer".into(),
        })
    }

    async fn channel(&mut self) -> Result<Channel, OpError> {
        if let Some(ch) = &self.channel
            && ch.status().connected()
        {
            return Ok(ch.clone());
        }
        let ch = amqp::bounded(
            self.timeout,
            "opening a channel",
            self.conn.create_channel(),
        )
        .await?;
        self.channel = Some(ch.clone());
        Ok(ch)
    }

    /// Runs `f` on the operations channel; a refusal closes that channel, so it is dropped.
    async fn on_channel<T, F, Fut>(&mut self, doing: &str, f: F) -> Result<T, OpError>
    where
        F: FnOnce(Channel) -> Fut,
        Fut: std::future::Future<Output = lapin::Result<T>>,
    {
        let ch = self.channel().await?;
        let r = amqp::bounded(self.timeout, doing, f(ch)).await;
        if r.is_err() {
            self.channel = None;
        }
        r
    }
}

impl Executor for LiveBroker<'_> {
    async fn run(&mut self, op: &Op) -> Result<(), OpError> {
        let op2 = op.clone();
        self.on_channel(
            &op.describe(),
            |ch| async move { amqp::run_op(&ch, &op2).await },
        )
        .await
    }

    async fn run_many(&mut self, ops: &[Op]) -> Vec<Outcome> {
        let t = Instant::now();
        let b = self.batching.clone();
        let out = amqp::run_pipelined(self.conn, ops, b.channels, self.timeout, b.progress).await;
        if b.verbose && !ops.is_empty() {
            eprintln!(
                "  {} ({}) over {} in {:.2}s",
                amqp::phase(ops),
                crate::text::count(ops.len() as u64, "operation"),
                crate::text::count(b.channels.min(ops.len()) as u64, "channel"),
                t.elapsed().as_secs_f64()
            );
        }
        out
    }

    async fn delete_queue(&mut self, name: &str, how: DeleteQueue) -> Result<(), OpError> {
        let conditions = how == DeleteQueue::IfUnusedAndEmpty;
        let name2 = name.to_string();
        self.on_channel(&format!("deleting queue `{name}`"), |ch| async move {
            amqp::delete_queue(&ch, &name2, conditions).await
        })
        .await
    }

    async fn queue_status(&mut self, name: &str) -> Result<Option<QueueStatus>, OpError> {
        let counts = amqp::queue_counts(self.conn, name, self.timeout)
            .await
            .map_err(OpError::Lost)?;
        let Some((ready, consumers)) = counts else {
            return Ok(None);
        };
        let mut status = QueueStatus {
            ready: u64::from(ready),
            consumers: u64::from(consumers),
            unacked: None,
            consumer_connections: Vec::new(),
        };
        if let Some(api) = &self.api {
            status.unacked = api
                .queue(name)
                .await
                .map_err(from_read)?
                .and_then(|q| q.messages_unacknowledged);
            if consumers > 0 {
                status.consumer_connections =
                    api.consumer_connections(name).await.map_err(from_read)?;
            }
        }
        Ok(Some(status))
    }

    async fn queue_definition(&mut self, name: &str) -> Result<Option<QueueSpec>, OpError> {
        let api = self.api()?;
        Ok(api
            .queue(name)
            .await
            .map_err(from_read)?
            .map(QueueDef::into_spec))
    }

    async fn queue_bindings(&mut self, name: &str) -> Result<Vec<BindingSpec>, OpError> {
        self.api()?.queue_bindings(name).await.map_err(from_read)
    }

    async fn exchange_bindings(&mut self, name: &str) -> Result<Vec<BindingSpec>, OpError> {
        self.api()?.exchange_bindings(name).await.map_err(from_read)
    }

    async fn move_messages(&mut self, from: &str, to: &str) -> Result<u64, OpError> {
        let t = Instant::now();
        let moved = mover::move_messages(
            self.conn,
            from,
            to,
            self.timeout,
            self.batching.progress.clone(),
        )
        .await?;
        if self.batching.verbose {
            eprintln!(
                "  moved {} from `{from}` to `{to}` in {:.2}s",
                crate::text::count(moved, "message"),
                t.elapsed().as_secs_f64()
            );
        }
        Ok(moved)
    }

    async fn vacate(&mut self, queue: &str, into: Option<&str>) -> Result<Vacated, OpError> {
        let deadline = self.timeout.max(PROOF_DEADLINE);
        let api = self.api()?.clone();
        let t = Instant::now();
        let progress = self.batching.progress.clone();
        let v = mover::vacate(
            self.conn,
            &api,
            queue,
            into,
            self.timeout,
            deadline,
            progress,
        )
        .await?;
        if self.batching.verbose {
            eprintln!(
                "  vacated `{queue}` in {:.2}s ({} moved; {:?})",
                t.elapsed().as_secs_f64(),
                crate::text::count(v.moved, "message"),
                v.proof
            );
        }
        Ok(v)
    }

    async fn recreate_exchange(
        &mut self,
        spec: &ExchangeSpec,
        bindings: &[BindingSpec],
    ) -> Result<(), OpError> {
        // One channel, each step sent as soon as the previous one is answered.
        let spec2 = spec.clone();
        let bindings2 = bindings.to_vec();
        self.on_channel(
            &format!("replacing exchange `{}`", spec.name),
            |ch| async move {
                amqp::run_op(&ch, &Op::DeleteExchange(spec2.name.to_string())).await?;
                amqp::run_op(&ch, &Op::DeclareExchange(spec2)).await?;
                for b in bindings2 {
                    amqp::run_op(&ch, &Op::Bind(b)).await?;
                }
                Ok(())
            },
        )
        .await
    }
}
