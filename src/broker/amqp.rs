//! AMQP (lapin) access: connecting (TLS, cluster nodes, bounded time), the declare, bind and
//! delete operations, a pipelined executor, and the probe mode used when the management
//! API cannot be reached.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lapin::options::{
    ExchangeBindOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, ExchangeUnbindOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};

use super::endpoint::Endpoint;
use super::executor::{Op, OpError, Outcome};
use super::state::{Probe, Probed};
use super::tls::Tls;
use crate::model::{DestinationType, Value};
use crate::spec::{ArgMap, ConnectionSpecs, Usage};

/// Connects to the first node that answers within `timeout`. The error names every node
/// tried (without credentials) and what it answered.
pub async fn connect(
    endpoint: &Endpoint,
    tls: &Tls,
    timeout: Duration,
) -> Result<Connection, String> {
    super::tls::use_ring();
    let mut failures = Vec::new();
    for node in &endpoint.nodes {
        let shown = format!(
            "{}://{}:{}/{}",
            if node.scheme == lapin::uri::AMQPScheme::AMQPS {
                "amqps"
            } else {
                "amqp"
            },
            node.authority.host,
            node.authority.port,
            node.vhost.replace('/', "%2f")
        );
        let over_tls = node.scheme == lapin::uri::AMQPScheme::AMQPS;
        let runtime = match lapin::runtime::default_runtime() {
            Ok(r) => r,
            Err(e) => return Err(e.to_string()),
        };
        let attempt = Connection::connect_uri_with_config(
            node.clone(),
            ConnectionProperties::default(),
            tls.config(),
            runtime,
        );
        match tokio::time::timeout(timeout, attempt).await {
            Ok(Ok(conn)) => return Ok(conn),
            Ok(Err(e)) => failures.push(format!("{shown}: {}", describe_connect(&e, over_tls))),
            Err(_) => failures.push(format!("{shown}: no answer within {}s", timeout.as_secs())),
        }
    }
    Err(format!(
        "connection `{}` could not reach RabbitMQ: {}",
        endpoint.name,
        failures.join("; ")
    ))
}

/// A broker error in words: the broker's own reply when there is one.
pub fn describe(e: &lapin::Error) -> String {
    describe_connect(e, false)
}

/// [`describe`] of a failed connection; `over_tls`: the URL was `amqps://`.
fn describe_connect(e: &lapin::Error, over_tls: bool) -> String {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => {
            format!("{} {}", amqp.get_id(), amqp.get_message())
        }
        lapin::ErrorKind::IOError(io) => io_message(&io.to_string(), over_tls),
        _ => io_message(&e.to_string(), over_tls),
    }
}

/// An I/O or TLS error in the user's terms, with what to do about it.
fn io_message(raw: &str, over_tls: bool) -> String {
    let reset = raw.contains("os error 104") || raw.contains("Connection reset");
    if raw.contains("InvalidContentType") || raw.contains("corrupt message") {
        "the port does not speak TLS: amqps:// needs the broker's TLS port (usually 5671), amqp:// its plain port (usually 5672)".to_string()
    } else if let Some(tls) = super::tls::explain(raw) {
        tls
    } else if over_tls && reset {
        format!(
            "the connection was reset during TLS: the broker may require a client certificate ({}), or refused the one given",
            super::tls::GIVE_CLIENT_CERT
        )
    } else if raw.contains("os error 111") || raw.contains("Connection refused") {
        "connection refused: nothing listens on that host and port".to_string()
    } else if reset {
        "the connection was reset: if this is the broker's TLS port, use amqps://".to_string()
    } else {
        raw.to_string()
    }
}

fn amqp_value(v: &Value) -> AMQPValue {
    match v {
        // Always signed 64-bit: what a definitions import stores, so that a binding bound
        // again matches the existing one (the broker matches binding arguments by type).
        Value::Int(i) => AMQPValue::LongLongInt(*i),
        Value::Float(f) => AMQPValue::Double(*f),
        Value::Str(s) => AMQPValue::LongString(s.as_str().into()),
        Value::Bool(b) => AMQPValue::Boolean(*b),
        Value::Array(items) => {
            AMQPValue::FieldArray(items.iter().map(amqp_value).collect::<Vec<_>>().into())
        }
    }
}

pub fn table(args: &ArgMap) -> FieldTable {
    let mut t = FieldTable::default();
    for (k, v) in args {
        t.insert(ShortString::from(k.as_str()), amqp_value(v));
    }
    t
}

fn kind(s: &str) -> ExchangeKind {
    match s {
        "direct" => ExchangeKind::Direct,
        "fanout" => ExchangeKind::Fanout,
        "topic" => ExchangeKind::Topic,
        "headers" => ExchangeKind::Headers,
        other => ExchangeKind::Custom(other.to_string()),
    }
}

/// The first string of `op` that AMQP sends as a short string (a name, a type, a routing
/// key, an argument name) and that is longer than one holds: no client can send it (lint
/// refuses it first; this keeps a library caller from a panic in the AMQP encoder).
fn too_long_for_amqp(op: &Op) -> Option<&str> {
    fn table(args: &ArgMap) -> impl Iterator<Item = &str> {
        args.keys().map(String::as_str)
    }
    let strings: Vec<&str> = match op {
        Op::DeclareExchange(e) => [e.name.as_str(), e.kind.as_str()]
            .into_iter()
            .chain(table(&e.arguments))
            .collect(),
        Op::DeleteExchange(n) => vec![n.as_str()],
        Op::DeclareQueue(q) => [q.name.as_str()]
            .into_iter()
            .chain(table(&q.arguments))
            .collect(),
        Op::Bind(b) | Op::Unbind(b) => [
            b.key.source.as_str(),
            b.key.destination.as_str(),
            b.key.routing_key.as_str(),
        ]
        .into_iter()
        .chain(table(&b.arguments))
        .collect(),
    };
    strings
        .into_iter()
        .find(|s| ShortString::try_new(s.to_string()).is_err())
}

/// Runs one operation on `ch` (which the broker closes when it refuses it).
pub async fn run_op(ch: &Channel, op: &Op) -> Result<(), lapin::Error> {
    if let Some(long) = too_long_for_amqp(op) {
        let head: String = long.chars().take(40).collect();
        return Err(std::io::Error::other(format!(
            "`{head}…` is {} bytes long: AMQP carries at most 255 in a name, type, routing key or argument name, so it cannot be sent",
            long.len()
        ))
        .into());
    }
    match op {
        Op::DeclareExchange(e) => {
            let opts = ExchangeDeclareOptions {
                durable: e.durable,
                auto_delete: e.auto_delete,
                internal: e.internal,
                ..Default::default()
            };
            ch.exchange_declare(
                e.name.as_str().into(),
                kind(&e.kind),
                opts,
                table(&e.arguments),
            )
            .await
        }
        Op::DeleteExchange(n) => {
            ch.exchange_delete(n.as_str().into(), ExchangeDeleteOptions::default())
                .await
        }
        Op::DeclareQueue(q) => {
            let opts = QueueDeclareOptions {
                durable: q.durable,
                auto_delete: q.auto_delete,
                ..Default::default()
            };
            ch.queue_declare(q.name.as_str().into(), opts, table(&q.arguments))
                .await
                .map(|_| ())
        }
        Op::Bind(b) => {
            let k = &b.key;
            match k.destination_type {
                DestinationType::Queue => {
                    ch.queue_bind(
                        k.destination.as_str().into(),
                        k.source.as_str().into(),
                        k.routing_key.as_str().into(),
                        QueueBindOptions::default(),
                        table(&b.arguments),
                    )
                    .await
                }
                DestinationType::Exchange => {
                    ch.exchange_bind(
                        k.destination.as_str().into(),
                        k.source.as_str().into(),
                        k.routing_key.as_str().into(),
                        ExchangeBindOptions::default(),
                        table(&b.arguments),
                    )
                    .await
                }
            }
        }
        Op::Unbind(b) => {
            let k = &b.key;
            match k.destination_type {
                DestinationType::Queue => {
                    ch.queue_unbind(
                        k.destination.as_str().into(),
                        k.source.as_str().into(),
                        k.routing_key.as_str().into(),
                        table(&b.arguments),
                    )
                    .await
                }
                DestinationType::Exchange => {
                    ch.exchange_unbind(
                        k.destination.as_str().into(),
                        k.source.as_str().into(),
                        k.routing_key.as_str().into(),
                        ExchangeUnbindOptions::default(),
                        table(&b.arguments),
                    )
                    .await
                }
            }
        }
    }
}

/// A lapin error as apply's [`OpError`]: a channel-level refusal (the connection lives), or
/// the connection lost.
pub fn op_error(e: &lapin::Error) -> OpError {
    match e.kind() {
        lapin::ErrorKind::ProtocolError(amqp)
            if matches!(amqp.kind(), lapin::protocol::AMQPErrorKind::Soft(_)) =>
        {
            OpError::Refused {
                code: amqp.get_id(),
                text: amqp.get_message().to_string(),
            }
        }
        _ => OpError::Lost(describe(e)),
    }
}

/// A broker call bounded by `timeout`: the broker's refusal, or the connection lost (which
/// a broker that stops answering counts as).
pub async fn bounded<T>(
    timeout: Duration,
    doing: &str,
    f: impl std::future::Future<Output = lapin::Result<T>>,
) -> Result<T, OpError> {
    match tokio::time::timeout(timeout, f).await {
        Ok(r) => r.map_err(|e| op_error(&e)),
        Err(_) => Err(OpError::Lost(format!(
            "{doing}: no answer within {}s",
            timeout.as_secs()
        ))),
    }
}

/// Closes a channel, waiting at most `timeout` for the broker's answer (a stalled broker
/// never holds a run).
pub async fn close_channel(ch: &Channel, timeout: Duration) {
    let _ = tokio::time::timeout(timeout, ch.close(200, "done".into())).await;
}

/// Closes a connection, waiting at most `timeout` for the broker's answer.
pub async fn close_connection(conn: &Connection, timeout: Duration) {
    let _ = tokio::time::timeout(timeout, conn.close(200, "done".into())).await;
}

/// Deletes a queue; `if-unused` and `if-empty` together, or neither.
pub async fn delete_queue(ch: &Channel, name: &str, conditions: bool) -> Result<(), lapin::Error> {
    let opts = QueueDeleteOptions {
        if_unused: conditions,
        if_empty: conditions,
        ..Default::default()
    };
    ch.queue_delete(name.into(), opts).await.map(|_| ())
}

/// Reports progress: the phase (`exchanges`, `queues`, `bindings`, …), done, total.
pub type Progress = Arc<dyn Fn(&'static str, usize, usize) + Send + Sync>;

/// What a batch of operations does, for its progress label.
pub fn phase(ops: &[Op]) -> &'static str {
    let first = ops.first().map(std::mem::discriminant);
    if ops.iter().any(|o| Some(std::mem::discriminant(o)) != first) {
        return "operations";
    }
    match ops.first() {
        Some(Op::DeclareExchange(_)) => "exchanges",
        Some(Op::DeleteExchange(_)) => "exchange deletes",
        Some(Op::DeclareQueue(_)) => "queues",
        Some(Op::Bind(_)) => "bindings",
        Some(Op::Unbind(_)) => "unbindings",
        None => "operations",
    }
}

/// Runs `ops` over up to `channels` channels at once, each channel one operation at a time
/// (an AMQP channel answers in order; several channels remove the round trips). Stops
/// handing out work after the first failure (the broker closes a channel on any error).
/// Returns each operation's outcome, in the order given.
pub async fn run_pipelined(
    conn: &Connection,
    ops: &[Op],
    channels: usize,
    timeout: Duration,
    progress: Progress,
) -> Vec<Outcome> {
    let total = ops.len();
    let phase = phase(ops);
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::new(Mutex::new(vec![None; total]));
    if total == 0 {
        return Vec::new();
    }
    let work: Arc<Mutex<VecDeque<(usize, Op)>>> =
        Arc::new(Mutex::new(ops.iter().cloned().enumerate().collect()));
    let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..channels.clamp(1, total) {
        let ch = match within(timeout, "opening a channel", conn.create_channel()).await {
            Ok(ch) => ch,
            Err(e) if tasks.is_empty() => {
                outcomes.lock().expect("not poisoned")[0] =
                    Some(Err(OpError::Lost(format!("cannot open a channel: {e}"))));
                return outcomes.lock().expect("not poisoned").clone();
            }
            Err(_) => break,
        };
        let (work, outcomes, failed, done, progress) = (
            work.clone(),
            outcomes.clone(),
            failed.clone(),
            done.clone(),
            progress.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !failed.load(std::sync::atomic::Ordering::Relaxed) {
                let Some((index, op)) = work.lock().expect("not poisoned").pop_front() else {
                    break;
                };
                let result = bounded(timeout, &op.describe(), run_op(&ch, &op)).await;
                let ok = result.is_ok();
                outcomes.lock().expect("not poisoned")[index] = Some(result);
                if !ok {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(phase, n, total);
            }
            close_channel(&ch, timeout).await;
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    outcomes.lock().expect("not poisoned").clone()
}

/// Ready messages and consumers of a queue, by passive declare (both exact); None when the
/// queue does not exist.
pub async fn queue_counts(
    conn: &Connection,
    queue: &str,
    timeout: Duration,
) -> Result<Option<(u32, u32)>, String> {
    let ch = within(timeout, "opening a channel", conn.create_channel()).await?;
    let r = passive_declare(&ch, queue, timeout).await;
    close_channel(&ch, timeout).await;
    match r {
        Ok(q) => Ok(Some((q.message_count(), q.consumer_count()))),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// A passive declare of `queue` on `ch`: the broker's exact count of its ready messages
/// and consumers; 404 when it does not exist.
pub async fn passive_declare(
    ch: &Channel,
    queue: &str,
    timeout: Duration,
) -> Result<lapin::Queue, OpError> {
    let opts = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    bounded(
        timeout,
        &format!("counting queue `{queue}`"),
        ch.queue_declare(queue.into(), opts, FieldTable::default()),
    )
    .await
}

/// `f`, or an error when the broker does not answer within `timeout`.
async fn within_raw<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = lapin::Result<T>>,
) -> Result<lapin::Result<T>, tokio::time::error::Elapsed> {
    tokio::time::timeout(timeout, f).await
}

/// `f`'s result in words, bounded by `timeout`.
async fn within<T>(
    timeout: Duration,
    doing: &str,
    f: impl std::future::Future<Output = lapin::Result<T>>,
) -> Result<T, String> {
    match within_raw(timeout, f).await {
        Ok(r) => r.map_err(|e| describe(&e)),
        Err(_) => Err(format!("{doing}: no answer within {}s", timeout.as_secs())),
    }
}

/// Probe mode: passive declares, then an equivalence redeclare on a throwaway channel;
/// every call bounded by `timeout`.
pub async fn probe(
    conn: &Connection,
    want: &ConnectionSpecs,
    timeout: Duration,
) -> Result<Probed, String> {
    let late = |what: &str| format!("{what}: no answer within {}s", timeout.as_secs());
    let mut exchanges = HashMap::new();
    for e in &want.exchanges {
        let ch = within(timeout, "opening a channel", conn.create_channel()).await?;
        let passive = ExchangeDeclareOptions {
            passive: true,
            ..Default::default()
        };
        let found = within_raw(
            timeout,
            ch.exchange_declare(
                e.name.as_str().into(),
                kind(&e.kind),
                passive,
                FieldTable::default(),
            ),
        )
        .await
        .map_err(|_| late("probing an exchange"))?;
        close_channel(&ch, timeout).await;
        let result = match found {
            Err(_) => Probe::Missing,
            Ok(()) => {
                let ch = within(timeout, "opening a channel", conn.create_channel()).await?;
                let r = within_raw(timeout, run_op(&ch, &Op::DeclareExchange(e.clone())))
                    .await
                    .map_err(|_| late("probing an exchange"))?;
                close_channel(&ch, timeout).await;
                match r {
                    Ok(()) => Probe::Same,
                    Err(err) => Probe::Differs(describe(&err)),
                }
            }
        };
        exchanges.insert(e.name.to_string(), result);
    }
    let mut queues = HashMap::new();
    for q in &want.queues {
        let result = match queue_counts(conn, &q.name, timeout).await? {
            None => (Probe::Missing, Usage::default()),
            Some((n, consumers)) => {
                let usage = Usage {
                    messages: Some(u64::from(n)),
                    unacked: None,
                    consumers: Some(u64::from(consumers)),
                };
                let ch = within(timeout, "opening a channel", conn.create_channel()).await?;
                let r = within_raw(timeout, run_op(&ch, &Op::DeclareQueue(q.clone())))
                    .await
                    .map_err(|_| late("probing a queue"))?;
                close_channel(&ch, timeout).await;
                match r {
                    Ok(()) => (Probe::Same, usage),
                    Err(err) => (Probe::Differs(describe(&err)), usage),
                }
            }
        };
        queues.insert(q.name.to_string(), result);
    }
    Ok(Probed { exchanges, queues })
}

#[cfg(test)]
mod tests {
    //! `amqps://` against `openssl s_server` on 127.0.0.1, which requires a client
    //! certificate signed by a CA made for the test, and echoes what the client sends.

    use super::super::tls::testing::{make_certificates, serve};
    use super::super::tls::{Identity, read_pem_identity};
    use super::*;

    /// One connection attempt: what `connect` gave, and s_server's output and errors.
    fn attempt(
        dir: &std::path::Path,
        rt: &tokio::runtime::Runtime,
        identity: Option<Identity>,
    ) -> (Result<(), String>, String, String) {
        let server = serve(dir, &["-naccept", "1"]);
        let endpoint = Endpoint::parse(
            "amqp",
            &format!("amqps://u:p@127.0.0.1:{}/v", server.port),
            None,
        )
        .unwrap();
        let tls = Tls {
            ca_pem: Some(std::fs::read_to_string(dir.join("ca.pem")).unwrap()),
            identity,
        };
        let result = rt
            .block_on(connect(&endpoint, &tls, Duration::from_secs(2)))
            .map(|_| ());
        let (out, err) = server.finish();
        (result, out, err)
    }

    #[test]
    fn amqps_presents_the_pem_client_identity() {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let rt = tokio::runtime::Runtime::new().unwrap();
        const HEADER: &str = "AMQP\0\0\x09\x01";

        // The identity as env.php gives it (certificate and key in two files): the handshake
        // completes, s_server sees the client certificate, and the AMQP protocol header
        // arrives (s_server does not answer it: no broker there).
        let pem = read_pem_identity(
            &dir.path().join("client.pem"),
            Some(&dir.path().join("client.key")),
            false,
        )
        .unwrap();
        let (result, out, err) = attempt(dir.path(), &rt, Some(pem));
        let e = result.unwrap_err();
        assert!(e.contains("no answer within 2s"), "{e}");
        assert!(out.contains("Client certificate"), "{out}\n{err}");
        assert!(out.contains("subject=CN = client"), "{out}\n{err}");
        assert!(out.contains(HEADER), "{out}\n{err}");

        // Without it: s_server refuses the handshake; nothing of AMQP arrives.
        let (result, out, err) = attempt(dir.path(), &rt, None);
        assert!(result.is_err());
        assert!(!out.contains("Client certificate"), "{out}\n{err}");
        assert!(!out.contains(HEADER), "{out}\n{err}");
        assert!(err.contains("certificate"), "{err}");
    }
}
