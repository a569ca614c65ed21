//! The management HTTP API: what a broker holds (three listings of the vhost read at once,
//! without statistics and with only the columns a plan compares, never one request per
//! entity), and the live facts apply's protocols check before they act (a queue's
//! definition, bindings, unacknowledged messages, consumers and their connections).
//!
//! Responses are read from their bytes into typed serde structs, arguments straight into
//! [`ArgMap`]; a field RabbitMQ may omit takes RabbitMQ's default (durable exchanges and
//! queues, no arguments), and statistics that are not there yet (a queue declared a moment
//! ago) are `None`, never a made-up zero.

use std::collections::HashSet;
use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

use super::endpoint::Endpoint;
use crate::model::{DestinationType, Value};
use crate::secret::Secret;
use crate::spec::{ArgMap, BindingKey, BindingSpec, ConnectionSpecs, ExchangeSpec, QueueSpec};

/// Why the management API gave nothing.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing answers at the management URL: AMQP probes may stand in.
    Unreachable(String),
    /// It answered, but refused or failed (credentials, missing vhost, …).
    Refused(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Unreachable(m) | ReadError::Refused(m) => write!(f, "{m}"),
        }
    }
}

fn yes() -> bool {
    true
}

fn topic() -> String {
    "topic".into()
}

/// An exchange as `GET /api/exchanges/{vhost}` lists it.
#[derive(Debug, Deserialize)]
pub struct ExchangeDef {
    pub name: String,
    #[serde(rename = "type", default = "topic")]
    pub kind: String,
    #[serde(default = "yes")]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default, deserialize_with = "arguments")]
    pub arguments: ArgMap,
}

impl ExchangeDef {
    /// The columns read.
    const COLUMNS: &str = "name,type,durable,auto_delete,internal,arguments";
}

/// A queue as `GET /api/queues/{vhost}` lists it or `GET /api/queues/{vhost}/{name}` shows
/// it; the statistics only in the latter, once the broker has emitted them.
#[derive(Debug, Deserialize)]
pub struct QueueDef {
    pub name: String,
    #[serde(default = "yes")]
    pub durable: bool,
    #[serde(default)]
    pub auto_delete: bool,
    /// Owned by one client connection, and gone with it.
    #[serde(default)]
    pub exclusive: bool,
    #[serde(default, deserialize_with = "arguments")]
    pub arguments: ArgMap,
    #[serde(default)]
    pub messages_ready: Option<u64>,
    #[serde(default)]
    pub messages_unacknowledged: Option<u64>,
    #[serde(default)]
    pub consumers: Option<u64>,
    /// The queue process's work counter, in the same statistics sample: a sample whose
    /// counter differs from an earlier one was taken since.
    #[serde(default)]
    pub reductions: Option<u64>,
}

impl QueueDef {
    /// The columns read when listing (no statistics).
    const COLUMNS: &str = "name,durable,auto_delete,exclusive,arguments";
}

#[derive(Debug, Deserialize)]
pub struct BindingDef {
    pub source: String,
    pub destination: String,
    #[serde(default)]
    pub destination_type: String,
    #[serde(default)]
    pub routing_key: String,
    #[serde(default, deserialize_with = "arguments")]
    pub arguments: ArgMap,
}

impl BindingDef {
    /// The columns read (not the vhost, nor the `properties_key` RabbitMQ derives).
    const COLUMNS: &str = "source,destination,destination_type,routing_key,arguments";
}

/// `GET /api/consumers/{vhost}`: only what apply reports.
#[derive(Debug, Deserialize)]
pub struct ConsumerDef {
    pub queue: NameDef,
    #[serde(default)]
    pub channel_details: Option<ChannelDef>,
}

#[derive(Debug, Deserialize)]
pub struct NameDef {
    pub name: String,
}

/// `GET /api/connections/{name}`: the name the client gave itself, if any.
#[derive(Debug, Deserialize)]
pub struct ConnectionDef {
    #[serde(default)]
    pub client_properties: Option<ClientProperties>,
}

#[derive(Debug, Deserialize)]
pub struct ClientProperties {
    #[serde(default)]
    pub connection_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ChannelDef {
    #[serde(default)]
    pub connection_name: String,
    #[serde(default)]
    pub user: Option<String>,
}

/// An `arguments` object read straight into an [`ArgMap`], as [`Value::from_json`] reads
/// one: integers stay integers; `null` and objects are no argument value (left out). A
/// `null` in place of the object is no arguments.
fn arguments<'de, D: Deserializer<'de>>(d: D) -> Result<ArgMap, D::Error> {
    Ok(Option::<Arguments>::deserialize(d)?
        .map(|a| a.0)
        .unwrap_or_default())
}

struct Arguments(ArgMap);

impl<'de> Deserialize<'de> for Arguments {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = ArgMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of arguments")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ArgMap, A::Error> {
                let mut out = ArgMap::new();
                while let Some((k, v)) = map.next_entry::<String, Argument>()? {
                    if let Some(v) = v.0 {
                        out.insert(k, v);
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(Object).map(Arguments)
    }
}

/// One argument value; `None` for `null` and objects.
struct Argument(Option<Value>);

impl<'de> Deserialize<'de> for Argument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = Option<Value>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an argument value")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Option<Value>, E> {
                Ok(Some(Value::Bool(b)))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Option<Value>, E> {
                Ok(Some(Value::Int(i)))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Option<Value>, E> {
                Ok(Some(match i64::try_from(u) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Float(u as f64),
                }))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Option<Value>, E> {
                Ok(Some(Value::Float(f)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Option<Value>, E> {
                Ok(Some(Value::Str(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Option<Value>, E> {
                Ok(Some(Value::Str(s)))
            }
            fn visit_unit<E>(self) -> Result<Option<Value>, E> {
                Ok(None)
            }
            fn visit_none<E>(self) -> Result<Option<Value>, E> {
                Ok(None)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Argument>()? {
                    items.extend(item.0);
                }
                Ok(Some(Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(None)
            }
        }
        d.deserialize_any(Any).map(Argument)
    }
}

impl ExchangeDef {
    pub fn into_spec(self) -> ExchangeSpec {
        ExchangeSpec {
            name: self.name.into(),
            kind: self.kind.into(),
            durable: self.durable,
            auto_delete: self.auto_delete,
            internal: self.internal,
            arguments: self.arguments,
        }
    }
}

impl QueueDef {
    pub fn into_spec(self) -> QueueSpec {
        QueueSpec {
            name: self.name.into(),
            durable: self.durable,
            auto_delete: self.auto_delete,
            arguments: self.arguments,
            usage: Default::default(),
        }
    }
}

impl BindingDef {
    pub fn into_spec(self) -> BindingSpec {
        BindingSpec {
            key: BindingKey {
                source: self.source.into(),
                destination: self.destination.into(),
                destination_type: if self.destination_type == "exchange" {
                    DestinationType::Exchange
                } else {
                    DestinationType::Queue
                },
                routing_key: self.routing_key.into(),
            },
            arguments: self.arguments,
        }
    }
}

/// What a vhost holds, from its three listings, as RabbitMQ's definitions export gives it
/// (and a definitions import can make): without the default exchange and the `amq.*` ones
/// RabbitMQ declares itself, without exclusive queues (a client connection's, gone with
/// it) and their bindings, and without the default exchange's implicit bindings.
fn vhost_entities(
    exchanges: Vec<ExchangeDef>,
    queues: Vec<QueueDef>,
    bindings: Vec<BindingDef>,
) -> ConnectionSpecs {
    let exclusive: HashSet<String> = queues
        .iter()
        .filter(|q| q.exclusive)
        .map(|q| q.name.clone())
        .collect();
    ConnectionSpecs {
        exchanges: exchanges
            .into_iter()
            .filter(|x| !x.name.is_empty() && !x.name.starts_with("amq."))
            .map(ExchangeDef::into_spec)
            .collect(),
        queues: queues
            .into_iter()
            .filter(|q| !q.exclusive)
            .map(QueueDef::into_spec)
            .collect(),
        bindings: bindings
            .into_iter()
            .filter(|b| !b.source.is_empty())
            .filter(|b| b.destination_type == "exchange" || !exclusive.contains(&b.destination))
            .map(BindingDef::into_spec)
            .collect(),
    }
}

/// Path segments are encoded whole (`/` in a vhost or queue name included).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Requests in flight at once for a vhost's bindings, one exchange each.
const IN_FLIGHT: usize = 4;

/// Up to how many exchanges a vhost's bindings are read one exchange at a time. A request
/// costs the broker about what a dozen bindings do (RabbitMQ 3.10: 0.4 ms against 20-30 µs
/// a binding), and the one listing of the vhost's bindings also holds an implicit binding
/// per queue: one request per exchange is cheaper but where exchanges have a few bindings
/// each, and its cost is bounded here.
const PER_EXCHANGE_UP_TO: usize = 1000;

/// A management API client for one connection's vhost.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    /// One base URL per node, tried in order from `current` (the last one that answered).
    bases: Vec<String>,
    current: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    username: String,
    password: Secret,
    vhost: String,
}

impl Api {
    /// `http`: a client with the connection's TLS settings and deadlines
    /// ([`super::http::client`]).
    pub fn new(endpoint: &Endpoint, http: reqwest::Client) -> Api {
        Api {
            http,
            bases: endpoint
                .management
                .iter()
                .map(|b| b.trim_end_matches('/').to_string())
                .collect(),
            current: Default::default(),
            username: endpoint.username.clone(),
            password: endpoint.password.clone(),
            vhost: endpoint.vhost.clone(),
        }
    }

    /// The base URL of the node that answered last (the first one before any).
    pub fn answering(&self) -> &str {
        self.base()
    }

    fn base(&self) -> &str {
        let at = self.current.load(std::sync::atomic::Ordering::Relaxed);
        self.bases.get(at).map(String::as_str).unwrap_or_default()
    }

    /// GET `path` (under `/api`), as `T`; `Ok(None)` on 404. A node that does not answer
    /// (connection refused) is skipped for the next one, as AMQP fails over; a node that
    /// answers late, or refuses us, is an error.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, ReadError> {
        use std::sync::atomic::Ordering;
        let n = self.bases.len().max(1);
        let start = self.current.load(Ordering::Relaxed);
        let mut unreachable = Vec::new();
        for i in 0..n {
            let at = (start + i) % n;
            let Some(base) = self.bases.get(at) else {
                break;
            };
            match self.get_from(base, path).await {
                Err(ReadError::Unreachable(why)) => unreachable.push(why),
                answer => {
                    self.current.store(at, Ordering::Relaxed);
                    return answer;
                }
            }
        }
        Err(ReadError::Unreachable(unreachable.join("; ")))
    }

    async fn get_from<T: DeserializeOwned>(
        &self,
        base: &str,
        path: &str,
    ) -> Result<Option<T>, ReadError> {
        let at = format!("management API {base}");
        let response = self
            .http
            .get(format!("{base}{path}"))
            .basic_auth(&self.username, Some(self.password.expose()))
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    return ReadError::Refused(format!(
                        "{at} did not answer within the deadline (--timeout)"
                    ));
                }
                let (said, tls) = without_url(&e);
                if e.is_connect() && !tls {
                    // (A TLS handshake that fails is a connect error too, but something
                    // listens there: that is said, never planned around with probes.)
                    ReadError::Unreachable(format!("nothing listens at the management API {base}"))
                } else {
                    ReadError::Refused(format!("{at}: {said}"))
                }
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(ReadError::Refused(format!(
                "{at} refused the credentials of user `{}`",
                self.username
            )));
        }
        if !status.is_success() {
            return Err(ReadError::Refused(format!("{at} answered {status}")));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| ReadError::Refused(format!("{at}: {}", without_url(&e).0)))?;
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| ReadError::Refused(format!("{at} answered something unexpected: {e}")))
    }

    /// What the vhost holds, as a plan compares it: its exchanges, queues and bindings,
    /// without statistics and with only the columns read, the queues listed while the
    /// exchanges and then their bindings are; see [`vhost_entities`] for what is left out.
    pub async fn entities(&self) -> Result<ConnectionSpecs, ReadError> {
        let vhost = seg(&self.vhost);
        let queues = self.list::<QueueDef>(format!(
            "/queues/{vhost}?disable_stats=true&columns={}",
            QueueDef::COLUMNS
        ));
        let exchanges_and_bindings = async {
            let exchanges = self
                .list::<ExchangeDef>(format!(
                    "/exchanges/{vhost}?disable_stats=true&columns={}",
                    ExchangeDef::COLUMNS
                ))
                .await?;
            let bindings = self.bindings(&exchanges).await?;
            Ok((exchanges, bindings))
        };
        let (queues, (exchanges, bindings)) = tokio::try_join!(queues, exchanges_and_bindings)?;
        Ok(vhost_entities(exchanges, queues, bindings))
    }

    /// The vhost's bindings but the default exchange's (bindings have no statistics to
    /// leave out): those of each exchange as a source, [`IN_FLIGHT`] requests at a time (the
    /// broker answers each request on one core); with more than [`PER_EXCHANGE_UP_TO`]
    /// exchanges, the one listing of the vhost's bindings.
    async fn bindings(&self, exchanges: &[ExchangeDef]) -> Result<Vec<BindingDef>, ReadError> {
        let vhost = seg(&self.vhost);
        let sources: Vec<&str> = exchanges
            .iter()
            .map(|x| x.name.as_str())
            .filter(|n| !n.is_empty())
            .collect();
        if sources.len() > PER_EXCHANGE_UP_TO {
            return self
                .list(format!("/bindings/{vhost}?columns={}", BindingDef::COLUMNS))
                .await;
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let worker = async || {
            let mut out: Vec<BindingDef> = Vec::new();
            loop {
                let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(source) = sources.get(at) else {
                    return Ok::<_, ReadError>(out);
                };
                let path = format!(
                    "/exchanges/{vhost}/{}/bindings/source?columns={}",
                    seg(source),
                    BindingDef::COLUMNS
                );
                // An exchange deleted since it was listed has no bindings left.
                out.extend(
                    self.get::<Vec<BindingDef>>(&path)
                        .await?
                        .unwrap_or_default(),
                );
            }
        };
        let workers = (0..IN_FLIGHT).map(|_| worker());
        let lists = futures_util::future::try_join_all(workers).await?;
        Ok(lists.into_iter().flatten().collect())
    }

    /// GET a listing of the vhost; a vhost that does not exist is an error.
    async fn list<T: DeserializeOwned>(&self, path: String) -> Result<Vec<T>, ReadError> {
        self.get(&path).await?.ok_or_else(|| {
            ReadError::Refused(format!(
                "vhost `{}` does not exist on management API {}",
                self.vhost,
                self.base()
            ))
        })
    }

    /// One queue with its statistics; `None` when it does not exist.
    pub async fn queue(&self, name: &str) -> Result<Option<QueueDef>, ReadError> {
        self.get(&format!("/queues/{}/{}", seg(&self.vhost), seg(name)))
            .await
    }

    /// Every queue of the vhost with its unacknowledged messages (the one statistic that
    /// AMQP cannot count; only these columns are sent).
    pub async fn queues_usage(&self) -> Result<Vec<QueueDef>, ReadError> {
        let path = format!(
            "/queues/{}?disable_stats=false&columns=name,messages_unacknowledged",
            seg(&self.vhost)
        );
        Ok(self.get(&path).await?.unwrap_or_default())
    }

    /// Bindings whose destination is the queue (the default exchange's aside).
    pub async fn queue_bindings(&self, name: &str) -> Result<Vec<BindingSpec>, ReadError> {
        let list: Vec<BindingDef> = self
            .get(&format!(
                "/queues/{}/{}/bindings",
                seg(&self.vhost),
                seg(name)
            ))
            .await?
            .unwrap_or_default();
        Ok(list
            .into_iter()
            .filter(|b| !b.source.is_empty())
            .map(BindingDef::into_spec)
            .collect())
    }

    /// Bindings whose source or destination is the exchange.
    pub async fn exchange_bindings(&self, name: &str) -> Result<Vec<BindingSpec>, ReadError> {
        let mut out = Vec::new();
        for side in ["source", "destination"] {
            let list: Vec<BindingDef> = self
                .get(&format!(
                    "/exchanges/{}/{}/bindings/{side}",
                    seg(&self.vhost),
                    seg(name)
                ))
                .await?
                .unwrap_or_default();
            for b in list {
                let spec = b.into_spec();
                if !out.contains(&spec) {
                    out.push(spec);
                }
            }
        }
        Ok(out)
    }

    /// The connections that consume from `queue`, as the management API names them (with
    /// the name the client gave itself, when it gave one).
    pub async fn consumer_connections(&self, queue: &str) -> Result<Vec<String>, ReadError> {
        let list: Vec<ConsumerDef> = self
            .get(&format!("/consumers/{}", seg(&self.vhost)))
            .await?
            .unwrap_or_default();
        let mut channels: Vec<ChannelDef> = list
            .into_iter()
            .filter(|c| c.queue.name == queue)
            .filter_map(|c| c.channel_details)
            // Details of a channel just opened may not be known yet (an empty list).
            .filter(|ch| !ch.connection_name.is_empty())
            .collect();
        channels.sort_by(|a, b| a.connection_name.cmp(&b.connection_name));
        channels.dedup_by(|a, b| a.connection_name == b.connection_name);
        let mut out = Vec::new();
        for ch in channels {
            let given = self
                .get::<ConnectionDef>(&format!("/connections/{}", seg(&ch.connection_name)))
                .await?
                .and_then(|c| c.client_properties)
                .and_then(|p| p.connection_name)
                .filter(|n| !n.is_empty());
            let mut detail = Vec::new();
            if given.is_some() {
                detail.push(ch.connection_name.clone());
            }
            if let Some(user) = ch.user.filter(|u| !u.is_empty()) {
                detail.push(format!("user {user}"));
            }
            let label = given.unwrap_or(ch.connection_name);
            out.push(if detail.is_empty() {
                format!("`{label}`")
            } else {
                format!("`{label}` ({})", detail.join(", "))
            });
        }
        Ok(out)
    }
}

/// A reqwest error without the URL it carries (which could hold credentials), with its
/// causes (reqwest's own text says only that the request failed) and, for a TLS failure,
/// what to do about it; and whether it is one.
fn without_url(e: &reqwest::Error) -> (String, bool) {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = c.source();
    }
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({})", url.as_str()), "");
        text = text.replace(url.as_str(), "");
    }
    match super::tls::explain(&text) {
        Some(explained) => (explained, true),
        None => (text, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three listings as the management API sends them, read from their bytes.
    fn read(exchanges: &str, queues: &str, bindings: &str) -> ConnectionSpecs {
        vhost_entities(
            serde_json::from_slice(exchanges.as_bytes()).unwrap(),
            serde_json::from_slice(queues.as_bytes()).unwrap(),
            serde_json::from_slice(bindings.as_bytes()).unwrap(),
        )
    }

    #[test]
    fn integers_stay_integers_and_missing_fields_take_rabbitmq_defaults() {
        let specs = read(
            r#"[{"name": "e"}]"#,
            r#"[{"name": "q", "auto_delete": false,
                 "arguments": {"x-message-ttl": 5000, "x": 1.5, "y": ["a", 1, null],
                               "big": 18446744073709551615, "gone": null, "obj": {"a": 1}}}]"#,
            r#"[{"source": "e", "destination": "q", "destination_type": "queue",
                 "routing_key": "k"}]"#,
        );
        let a = &specs.queues[0].arguments;
        assert_eq!(a.get("x-message-ttl").cloned().unwrap(), Value::Int(5000));
        assert_eq!(a.get("x").cloned().unwrap(), Value::Float(1.5));
        assert_eq!(
            a.get("y").cloned().unwrap(),
            Value::Array(vec![Value::Str("a".into()), Value::Int(1)])
        );
        assert_eq!(
            a.get("big").cloned().unwrap(),
            Value::Float(u64::MAX as f64)
        );
        assert!(!a.contains_key("gone") && !a.contains_key("obj"), "{a:?}");
        assert!(specs.queues[0].durable, "durable unless said otherwise");
        assert_eq!(specs.exchanges[0].kind, "topic");
        assert!(specs.bindings[0].arguments.is_empty());
    }

    /// What the definitions export leaves out is left out: the default and `amq.*`
    /// exchanges, exclusive queues and their bindings, the default exchange's bindings. A
    /// binding from an `amq.*` exchange, or to an exchange, stays.
    #[test]
    fn the_listings_read_as_the_definitions_export() {
        let specs = read(
            r#"[{"name": "", "type": "direct"}, {"name": "amq.topic", "type": "topic"},
                {"name": "e", "type": "headers", "arguments": {"alternate-exchange": "ae"}}]"#,
            r#"[{"name": "q", "exclusive": false}, {"name": "mine", "exclusive": true},
                {"name": "qq", "arguments": {"x-queue-type": "quorum"}}]"#,
            r#"[{"source": "", "destination": "q", "destination_type": "queue", "routing_key": "q"},
                {"source": "e", "destination": "mine", "destination_type": "queue", "routing_key": "k"},
                {"source": "amq.topic", "destination": "q", "destination_type": "queue", "routing_key": "k"},
                {"source": "e", "destination": "mine", "destination_type": "exchange", "routing_key": "",
                 "arguments": {"x-match": "all", "a": 1}}]"#,
        );
        let names = |v: Vec<String>| v.join(",");
        assert_eq!(
            names(specs.exchanges.iter().map(|x| x.name.to_string()).collect()),
            "e"
        );
        assert_eq!(
            names(specs.queues.iter().map(|q| q.name.to_string()).collect()),
            "q,qq"
        );
        assert_eq!(specs.queues[1].queue_type(), crate::spec::QueueType::Quorum);
        assert_eq!(
            names(
                specs
                    .bindings
                    .iter()
                    .map(BindingSpec::display_name)
                    .collect()
            ),
            "amq.topic -> q [k],e -> mine []"
        );
        let to_exchange = &specs.bindings[1];
        assert_eq!(to_exchange.key.destination_type, DestinationType::Exchange);
        assert_eq!(
            to_exchange.arguments.get("a").cloned().unwrap(),
            Value::Int(1)
        );
    }

    #[test]
    fn statistics_not_yet_emitted_are_unknown_not_zero() {
        let q: QueueDef = serde_json::from_value(serde_json::json!({"name": "q"})).unwrap();
        assert_eq!(q.messages_unacknowledged, None);
        let q: QueueDef =
            serde_json::from_value(serde_json::json!({"name": "q", "messages_unacknowledged": 5}))
                .unwrap();
        assert_eq!(q.messages_unacknowledged, Some(5));
    }

    #[test]
    fn path_segments_are_encoded_whole() {
        assert_eq!(seg("/"), "%2F");
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
        assert_eq!(seg("orders.retry"), "orders.retry");
    }
}
