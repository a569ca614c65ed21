//! Moves a queue's messages into another queue over AMQP without losing one: consumed with
//! manual acknowledgements (an exclusive consumer, so nobody else takes messages meanwhile),
//! published to the target through the default exchange with publisher confirms and the
//! `mandatory` flag, and acknowledged in the source only once the target confirmed them.
//! Properties, headers and persistence travel with each message.
//!
//! If anything fails, the channels close and the broker puts every unacknowledged message
//! back in the source: a message may then exist in both queues (at least once), never in
//! neither.

use std::collections::VecDeque;
use std::time::Duration;

use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Confirmation, Connection, PublisherConfirm};

use super::amqp::op_error;
use crate::apply::executor::OpError;

/// Messages in flight (delivered, published, not yet confirmed) at most.
const WINDOW: u16 = 2000;
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
    async fn close(self) {
        for ch in [self.consume, self.publish, self.control] {
            let _ = ch.close(200, "done".into()).await;
        }
    }
}

fn lost(doing: &str, timeout: Duration) -> OpError {
    OpError::Lost(format!("{doing}: no answer within {}s", timeout.as_secs()))
}

/// Bounds a broker call by `timeout`.
async fn bounded<T>(
    timeout: Duration,
    doing: &str,
    f: impl std::future::Future<Output = lapin::Result<T>>,
) -> Result<T, OpError> {
    match tokio::time::timeout(timeout, f).await {
        Ok(r) => r.map_err(|e| op_error(&e)),
        Err(_) => Err(lost(doing, timeout)),
    }
}

/// Moves every ready message of `from` into `to`; returns how many.
pub async fn move_messages(
    conn: &Connection,
    from: &str,
    to: &str,
    timeout: Duration,
) -> Result<u64, OpError> {
    let open =
        |what: &'static str| async move { bounded(timeout, what, conn.create_channel()).await };
    let channels = Channels {
        consume: open("opening a channel").await?,
        publish: open("opening a channel").await?,
        control: open("opening a channel").await?,
    };
    let result = run(&channels, from, to, timeout).await;
    channels.close().await;
    result
}

async fn ready(ch: &Channel, queue: &str, timeout: Duration) -> Result<u32, OpError> {
    let opts = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let q = bounded(
        timeout,
        "counting messages",
        ch.queue_declare(queue.into(), opts, FieldTable::default()),
    )
    .await?;
    Ok(q.message_count())
}

async fn run(ch: &Channels, from: &str, to: &str, timeout: Duration) -> Result<u64, OpError> {
    // The target must exist: a publish to a missing queue would only come back as returned.
    ready(&ch.control, to, timeout).await?;
    if ready(&ch.control, from, timeout).await? == 0 {
        return Ok(0);
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
                exclusive: true,
                ..Default::default()
            },
            FieldTable::default(),
        ),
    )
    .await?;
    let mut pending: VecDeque<(u64, PublisherConfirm)> = VecDeque::new();
    let mut moved = 0u64;
    let mut cancelled = false;
    loop {
        let next = tokio::time::timeout(IDLE, consumer.next()).await;
        match next {
            Ok(Some(Ok(delivery))) => {
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
                pending.push_back((delivery.delivery_tag, confirm));
                if pending.len() >= BATCH {
                    moved += settle(ch, &mut pending, to, timeout).await?;
                }
            }
            Ok(Some(Err(e))) => return Err(op_error(&e)),
            // The consumer ended (cancelled by us, or by the broker: the queue is gone).
            Ok(None) => {
                moved += settle(ch, &mut pending, to, timeout).await?;
                break;
            }
            Err(_idle) => {
                moved += settle(ch, &mut pending, to, timeout).await?;
                if cancelled {
                    break;
                }
                if ready(&ch.control, from, timeout).await? == 0 {
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
    }
    Ok(moved)
}

/// Awaits the confirms of `pending` in order, then acknowledges the source up to the last
/// (one `basic.ack` with `multiple`). A nack or a returned message stops the move: nothing
/// of the batch is acknowledged, so the broker gives it back to the source.
async fn settle(
    ch: &Channels,
    pending: &mut VecDeque<(u64, PublisherConfirm)>,
    to: &str,
    timeout: Duration,
) -> Result<u64, OpError> {
    let Some(&(last, _)) = pending.back() else {
        return Ok(0);
    };
    let n = pending.len() as u64;
    while let Some((_, confirm)) = pending.pop_front() {
        match bounded(timeout, "awaiting a publisher confirm", confirm).await? {
            Confirmation::Ack(None) | Confirmation::NotRequested => {}
            Confirmation::Ack(Some(_)) => {
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
    }
    bounded(
        timeout,
        "acknowledging moved messages",
        ch.consume
            .basic_ack(last, BasicAckOptions { multiple: true }),
    )
    .await?;
    Ok(n)
}
