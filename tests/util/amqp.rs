//! AMQP clients for the tests that count messages: a publisher with confirms, a consumer
//! that holds messages unacknowledged (as Magento's consumers do with prefetch), and a
//! reader that lists a queue's messages without taking them.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_lite::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// An AMQP connection to the test's vhost, named `name` (the broker shows the name).
pub async fn connect(vhost: &str, name: &str) -> Connection {
    let uri = format!(
        "amqp://guest:guest@127.0.0.1:5672/{}",
        vhost.replace('/', "%2f")
    );
    connect_uri(&uri, name).await
}

/// An AMQP connection to `uri`, named `name`.
pub async fn connect_uri(uri: &str, name: &str) -> Connection {
    Connection::connect(
        uri,
        ConnectionProperties::default().with_connection_name(name.into()),
    )
    .await
    .expect("AMQP connects")
}

/// Publishes messages `msg-<i>` for `ids` to `exchange` with `routing_key`, persistent and
/// mandatory, each awaited until confirmed. Returns the ids the broker confirmed (acked and
/// not returned).
pub async fn publish(
    conn: &Connection,
    exchange: &str,
    routing_key: &str,
    ids: impl IntoIterator<Item = u64>,
) -> Vec<u64> {
    let ch = confirm_channel(conn).await;
    let mut pending = Vec::new();
    let mut out = Vec::new();
    for id in ids {
        let confirm = send(&ch, exchange, routing_key, id).await.expect("publish");
        pending.push((id, confirm));
        if pending.len() >= 500 {
            out.extend(confirmed(&mut pending).await);
        }
    }
    out.extend(confirmed(&mut pending).await);
    let _ = ch.close(200, "done".into()).await;
    out
}

/// A channel with publisher confirms on.
async fn confirm_channel(conn: &Connection) -> Channel {
    let ch = conn.create_channel().await.expect("a channel");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    ch
}

/// Sends `msg-<id>`, persistent and mandatory; the confirm is the caller's to await.
async fn send(
    ch: &Channel,
    exchange: &str,
    routing_key: &str,
    id: u64,
) -> lapin::Result<lapin::PublisherConfirm> {
    ch.basic_publish(
        exchange.into(),
        routing_key.into(),
        BasicPublishOptions {
            mandatory: true,
            ..Default::default()
        },
        format!("msg-{id}").as_bytes(),
        BasicProperties::default().with_delivery_mode(2),
    )
    .await
}

async fn confirmed(pending: &mut Vec<(u64, lapin::PublisherConfirm)>) -> Vec<u64> {
    let mut out = Vec::new();
    for (id, c) in pending.drain(..) {
        if let Ok(Confirmation::Ack(None)) = c.await {
            out.push(id);
        }
    }
    out
}

/// Publishes one message at a time with confirms until `stop` is set; returns the ids
/// confirmed and the ids returned or refused.
pub async fn publish_until(
    conn: &Connection,
    exchange: &str,
    routing_key: &str,
    first: u64,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (Vec<u64>, Vec<u64>) {
    let ch = confirm_channel(conn).await;
    let (mut ok, mut lost) = (Vec::new(), Vec::new());
    let mut id = first;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        match send(&ch, exchange, routing_key, id).await {
            Ok(c) => match c.await {
                Ok(Confirmation::Ack(None)) => ok.push(id),
                _ => lost.push(id),
            },
            Err(_) => lost.push(id),
        }
        id += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let _ = ch.close(200, "done".into()).await;
    (ok, lost)
}

/// A consumer holding up to `n` messages of `queue` unacknowledged (prefetch `n`).
pub struct Holder {
    pub channel: Channel,
    pub held: Vec<u64>,
    /// Dropping the consumer cancels it (the messages stay unacknowledged on the channel).
    pub consumer: Option<lapin::Consumer>,
}

pub async fn hold(conn: &Connection, queue: &str, n: u16) -> Holder {
    let ch = conn.create_channel().await.expect("a channel");
    ch.basic_qos(n, BasicQosOptions::default())
        .await
        .expect("qos");
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "holder".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut held = Vec::new();
    while held.len() < usize::from(n) {
        match tokio::time::timeout(Duration::from_secs(2), consumer.next()).await {
            Ok(Some(Ok(d))) => held.push(d.delivery_tag),
            _ => break,
        }
    }
    Holder {
        channel: ch,
        held,
        consumer: Some(consumer),
    }
}

impl Holder {
    /// Cancels the consumer, keeping the messages unacknowledged (still on the channel).
    pub async fn cancel(&mut self) {
        if let Some(c) = self.consumer.take() {
            let _ = self
                .channel
                .basic_cancel(c.tag(), lapin::options::BasicCancelOptions::default())
                .await;
        }
    }

    /// Hands every held message back (nack, requeue), as a consumer that fails does.
    pub async fn hand_back(self) {
        if let Some(last) = self.held.last() {
            self.channel
                .basic_nack(
                    *last,
                    BasicNackOptions {
                        multiple: true,
                        requeue: true,
                    },
                )
                .await
                .expect("nack");
        }
        let _ = self.channel.close(200, "done".into()).await;
    }
}

/// The payloads of every message in `queue` (read, then handed back), and how many there
/// were in all (duplicates included).
pub async fn payloads(conn: &Connection, queue: &str) -> (BTreeSet<String>, usize) {
    let ch = conn.create_channel().await.expect("a channel");
    let mut consumer = ch
        .basic_consume(
            queue.into(),
            "reader".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut set = BTreeSet::new();
    let mut all = 0;
    while let Ok(Some(Ok(d))) =
        tokio::time::timeout(Duration::from_millis(500), consumer.next()).await
    {
        all += 1;
        set.insert(String::from_utf8_lossy(&d.data).into_owned());
    }
    // Closing the channel hands everything back.
    let _ = ch.close(200, "done".into()).await;
    (set, all)
}

/// `msg-<i>` for each id.
pub fn names(ids: impl IntoIterator<Item = u64>) -> BTreeSet<String> {
    ids.into_iter().map(|i| format!("msg-{i}")).collect()
}
