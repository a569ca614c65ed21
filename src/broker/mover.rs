//! Moves a queue's messages into another queue over AMQP without losing one: consumed with
//! manual acknowledgements (an exclusive consumer, so nobody else takes messages meanwhile),
//! published to the target through the default exchange with publisher confirms and the
//! `mandatory` flag, and acknowledged in the source only once the target confirmed them.
//! Properties, headers and persistence travel with each message.
//!
//! If anything fails, the channels close and the broker puts every unacknowledged message
//! back in the source: a message may then exist in both queues (at least once), never in
//! neither.

use std::time::Duration;

use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Confirmation, Connection, PublisherConfirm};

use super::amqp::{Progress, bounded, op_error, passive_declare};
use super::executor::{OpError, Proof, Vacated};
use super::management::Api;

/// Messages in flight (delivered, published, not yet confirmed) at most.
const WINDOW: u16 = 5000;
/// Confirms are awaited, and the source acknowledged, this many messages at a time.
const BATCH: usize = 500;
/// No delivery for this long: check whether the source is empty.
const IDLE: Duration = Duration::from_millis(100);

struct Channels {
    consume: Channel,
    publish: Channel,
    control: Channel,
}

impl Channels {
    async fn close(self, timeout: Duration) {
        for ch in [self.consume, self.publish, self.control] {
            super::amqp::close_channel(&ch, timeout).await;
        }
    }
}

/// Moves every ready message of `from` into `to`; returns how many. `progress` hears of
/// each message sent (phase `messages`).
pub async fn move_messages(
    conn: &Connection,
    from: &str,
    to: &str,
    timeout: Duration,
    progress: Progress,
) -> Result<u64, OpError> {
    let job = Job {
        from,
        to: Some(to),
        prove: None,
        timeout,
        progress,
    };
    Ok(with_channels(conn, timeout, job).await?.moved)
}

/// Vacates `queue` (see `Executor::vacate`): an exclusive consumer, the move, then a
/// sample of the broker's statistics taken while it holds the queue. `proof_deadline`
/// bounds the wait for that sample (one statistics interval, 5 s by default).
pub async fn vacate(
    conn: &Connection,
    api: &Api,
    queue: &str,
    into: Option<&str>,
    timeout: Duration,
    proof_deadline: Duration,
    progress: Progress,
) -> Result<Vacated, OpError> {
    let before = api
        .queue(queue)
        .await
        .map_err(|e| OpError::Lost(e.to_string()))?
        .ok_or_else(|| OpError::Refused {
            code: 404,
            text: format!("NOT_FOUND - no queue '{queue}'"),
        })?;
    let job = Job {
        from: queue,
        to: into,
        prove: Some(Prover {
            api,
            reductions_before: before.reductions,
            deadline: proof_deadline,
        }),
        timeout,
        progress,
    };
    match with_channels(conn, timeout, job).await {
        Err(OpError::Refused { code: 403, .. }) => {
            // The exclusive consumer was refused: someone else consumes.
            let who = api.consumer_connections(queue).await.unwrap_or_default();
            Ok(Vacated {
                moved: 0,
                proof: Proof::Consumers(who),
            })
        }
        other => other,
    }
}

/// One move.
struct Job<'a> {
    from: &'a str,
    /// `None`: nothing may be there (a delivery stops the job: not empty).
    to: Option<&'a str>,
    prove: Option<Prover<'a>>,
    timeout: Duration,
    progress: Progress,
}

struct Prover<'a> {
    api: &'a Api,
    /// The queue's reductions counter before the exclusive consumer came (none when its
    /// statistics were not sampled yet): see [`sample`].
    reductions_before: Option<u64>,
    deadline: Duration,
}

async fn with_channels(
    conn: &Connection,
    timeout: Duration,
    job: Job<'_>,
) -> Result<Vacated, OpError> {
    let open = || async { bounded(timeout, "opening a channel", conn.create_channel()).await };
    let channels = Channels {
        consume: open().await?,
        publish: open().await?,
        control: open().await?,
    };
    let result = run(&channels, &job).await;
    // A broker that stopped answering is not asked to close them (each would wait out the
    // deadline); the broker hands back what they hold when the connection goes.
    if !matches!(result, Err(OpError::Lost(_))) {
        channels.close(timeout).await;
    }
    result
}

async fn ready(ch: &Channel, queue: &str, timeout: Duration) -> Result<u32, OpError> {
    Ok(passive_declare(ch, queue, timeout).await?.message_count())
}

/// Whether a statistics sample shows the queue vacant under our exclusive consumer.
/// `base`: the work counter of the latest sample known to be too old to prove anything
/// (first the one read before the exclusive consumer came).
///
/// A sample counts only when its counter differs from `base`. When no sample of the queue
/// had been taken before (a queue created moments earlier), the first one to appear is no
/// proof: it may well predate the exclusive consumer. The queue's first statistics, taken
/// before anything was published to it, show no message at all while a consumer may since
/// hold some unacknowledged (tests/safety.rs saw a queue deleted so with 5 messages held).
/// That first sample becomes the base, and a later, different one is waited for.
async fn sample(
    prover: &Prover<'_>,
    queue: &str,
    base: &mut Option<u64>,
) -> Result<Option<Proof>, OpError> {
    let Some(q) = prover
        .api
        .queue(queue)
        .await
        .map_err(|e| OpError::Lost(e.to_string()))?
    else {
        return Ok(None);
    };
    let Some(reductions) = q.reductions else {
        return Ok(None);
    };
    let Some(before) = *base else {
        *base = Some(reductions);
        return Ok(None);
    };
    if q.consumers != Some(1) || reductions == before {
        return Ok(None);
    }
    Ok(match (q.messages_unacknowledged, q.messages_ready) {
        (Some(0), Some(0)) => Some(Proof::Vacant),
        (Some(n), _) if n > 0 => Some(Proof::Unacked(n)),
        _ => None,
    })
}

async fn run(ch: &Channels, job: &Job<'_>) -> Result<Vacated, OpError> {
    let (from, timeout) = (job.from, job.timeout);
    if let Some(to) = job.to {
        // The target must exist: a publish to a missing queue would only come back returned.
        ready(&ch.control, to, timeout).await?;
    }
    let waiting = ready(&ch.control, from, timeout).await?;
    if waiting == 0 && job.prove.is_none() {
        return Ok(Vacated {
            moved: 0,
            proof: Proof::Vacant,
        });
    }
    if waiting > 0 && job.to.is_none() {
        return Ok(Vacated {
            moved: 0,
            proof: Proof::NotEmpty(u64::from(waiting)),
        });
    }
    bounded(
        timeout,
        "confirm.select",
        ch.publish.confirm_select(ConfirmSelectOptions::default()),
    )
    .await?;
    bounded(
        timeout,
        "basic.qos",
        ch.consume
            .basic_qos(WINDOW, BasicQosOptions { global: false }),
    )
    .await?;
    let tag = "topology-move";
    let mut consumer = bounded(
        timeout,
        "consuming",
        ch.consume.basic_consume(
            from.into(),
            tag.into(),
            BasicConsumeOptions {
                no_ack: false,
                // Nobody else consumes meanwhile (refused with 403 while others do).
                exclusive: true,
                ..Default::default()
            },
            FieldTable::default(),
        ),
    )
    .await?;
    // Since when nothing was left to move: the proof's deadline counts from there.
    let mut quiet_since: Option<tokio::time::Instant> = None;
    let settler_for =
        |to: Option<&str>| to.map(|to| Settler::start(ch.consume.clone(), to, timeout));
    let mut settler = settler_for(job.to);
    let mut moved = 0u64;
    // Published (not yet all confirmed): what the progress shows, against what was waiting.
    let mut sent = 0usize;
    let mut base = job.prove.as_ref().and_then(|p| p.reductions_before);
    let mut proof = if job.prove.is_some() {
        Proof::Unproven("no statistics sample was taken while this tool held the queue".into())
    } else {
        Proof::Vacant
    };
    let mut cancelled = false;
    loop {
        // A delivery already there is taken without arming a timer.
        let next = match futures_lite::future::poll_once(consumer.next()).await {
            Some(item) => Ok(item),
            None => tokio::time::timeout(IDLE, consumer.next()).await,
        };
        match next {
            Ok(Some(Ok(delivery))) => {
                quiet_since = None;
                let Some(to) = job.to else {
                    // Nowhere to move it: not empty. Closing the channel hands it back.
                    let n = ready(&ch.control, from, timeout).await?;
                    return Ok(Vacated {
                        moved,
                        proof: Proof::NotEmpty(u64::from(n) + 1),
                    });
                };
                let confirm = bounded(
                    timeout,
                    "publishing",
                    ch.publish.basic_publish(
                        "".into(),
                        to.into(),
                        BasicPublishOptions {
                            mandatory: true,
                            immediate: false,
                        },
                        &delivery.data,
                        delivery.properties.clone(),
                    ),
                )
                .await?;
                sent += 1;
                (job.progress)("messages", sent, sent.max(waiting as usize));
                let taken = settler
                    .as_ref()
                    .is_some_and(|st| st.push(delivery.delivery_tag, confirm));
                if !taken {
                    // The settler stopped on an error: finish says which.
                    if let Some(st) = settler.take() {
                        st.finish().await?;
                    }
                    return Err(OpError::Lost("the move stopped".into()));
                }
            }
            Ok(Some(Err(e))) => return Err(op_error(&e)),
            // The consumer ended (cancelled by us, or by the broker: the queue is gone).
            Ok(None) => break,
            Err(_idle) => {
                // Caught up: everything received is confirmed and acknowledged.
                if let Some(st) = settler.take() {
                    moved += st.finish().await?;
                    settler = settler_for(job.to);
                }
                if cancelled {
                    break;
                }
                // Once quiet, the queue is left alone (no passive declare), so that it goes
                // idle and the broker emits its statistics at once.
                if quiet_since.is_none() && ready(&ch.control, from, timeout).await? > 0 {
                    continue;
                }
                let quiet = *quiet_since.get_or_insert_with(tokio::time::Instant::now);
                if let Some(prover) = &job.prove {
                    let waiting = quiet.elapsed() < prover.deadline;
                    let had_base = base.is_some();
                    let seen = sample(prover, from, &mut base).await?;
                    if !had_base && base.is_some() {
                        // The base may be what the queue emitted on going idle under our
                        // consumer already: woken, it emits again when idle once more.
                        ready(&ch.control, from, timeout).await?;
                    }
                    match seen {
                        Some(Proof::Vacant) => proof = Proof::Vacant,
                        Some(other) => {
                            proof = other;
                            if waiting {
                                continue;
                            }
                        }
                        None if waiting => continue,
                        None => {}
                    }
                }
                // Deliveries already on their way still arrive before the stream ends.
                bounded(
                    timeout,
                    "basic.cancel",
                    ch.consume
                        .basic_cancel(tag.into(), BasicCancelOptions::default()),
                )
                .await?;
                cancelled = true;
            }
        }
    }
    if let Some(st) = settler.take() {
        moved += st.finish().await?;
    }
    if sent > 0 {
        (job.progress)("messages", sent, sent);
    }
    if let (Proof::Unproven(_), Some(prover)) = (&proof, &job.prove) {
        proof = Proof::Unproven(format!(
            "the management API's statistics did not show the queue vacant within {}s",
            prover.deadline.as_secs()
        ));
    }
    Ok(Vacated { moved, proof })
}

/// Awaits publisher confirms in delivery order, in the background while the move goes on
/// publishing, and acknowledges the source up to the last confirmed message (one
/// `basic.ack` with `multiple` per batch, or whenever it has caught up). A nack or a
/// returned message stops it: nothing after the last acknowledgement is acknowledged, so
/// the broker gives those messages back to the source.
struct Settler {
    tx: tokio::sync::mpsc::UnboundedSender<(u64, PublisherConfirm)>,
    task: tokio::task::JoinHandle<Result<u64, OpError>>,
}

impl Settler {
    fn start(consume: Channel, to: &str, timeout: Duration) -> Settler {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, PublisherConfirm)>();
        let to = to.to_string();
        let task = tokio::spawn(async move {
            let (mut done, mut last, mut unacked) = (0u64, 0u64, 0usize);
            while let Some((tag, confirm)) = rx.recv().await {
                match bounded(timeout, "awaiting a publisher confirm", confirm).await? {
                    Confirmation::Ack(None) => {}
                    Confirmation::Ack(Some(_)) | Confirmation::NotRequested => {
                        return Err(OpError::Refused {
                            code: 404,
                            text: format!("NOT_FOUND - queue '{to}' did not take a moved message"),
                        });
                    }
                    Confirmation::Nack(_) => {
                        return Err(OpError::Refused {
                            code: 406,
                            text: format!("queue '{to}' refused a moved message (publisher nack)"),
                        });
                    }
                }
                (last, unacked, done) = (tag, unacked + 1, done + 1);
                if unacked >= BATCH || rx.is_empty() {
                    bounded(
                        timeout,
                        "acknowledging moved messages",
                        consume.basic_ack(last, BasicAckOptions { multiple: true }),
                    )
                    .await?;
                    unacked = 0;
                }
            }
            if unacked > 0 {
                bounded(
                    timeout,
                    "acknowledging moved messages",
                    consume.basic_ack(last, BasicAckOptions { multiple: true }),
                )
                .await?;
            }
            Ok(done)
        });
        Settler { tx, task }
    }

    /// Hands over a published message; false when the settler stopped (its error comes
    /// from [`Settler::finish`]).
    fn push(&self, tag: u64, confirm: PublisherConfirm) -> bool {
        self.tx.send((tag, confirm)).is_ok()
    }

    /// Waits until everything handed over is confirmed and acknowledged; how many were.
    async fn finish(self) -> Result<u64, OpError> {
        drop(self.tx);
        self.task
            .await
            .unwrap_or_else(|e| Err(OpError::Lost(format!("the move stopped: {e}"))))
    }
}
