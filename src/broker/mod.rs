//! The real broker: where each connection lives ([`endpoint`], [`tls`]), reading what a
//! broker holds into its [`state`] (the management API's listings of the vhost,
//! [`management`]; AMQP probes when it is out of reach, [`amqp`]), and the operations that
//! apply asks of a broker ([`executor`], the seam), run over AMQP and the management API
//! ([`live`]). The recovery [`record`]s an interrupted apply leaves on a broker are read and
//! written here too.
//!
//! Takes endpoints, TLS material and entity specs (`spec`); gives [`state`] and runs
//! [`executor::Op`]s. It knows nothing of the plan, of apply's protocols or of the command
//! line: those stand above it.

pub mod amqp;
pub mod endpoint;
pub mod executor;
pub mod http;
pub mod live;
pub mod management;
pub mod mover;
pub mod record;
pub mod state;
pub mod tls;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::connection::{self, BadPair};
use crate::spec::{BindingSpec, ConnectionSpecs, QueueSpec, Usage};

pub use endpoint::Endpoint;
pub use state::{ConnectionState, PROBES_CANNOT_SEE, ReadMode, Snapshot};
pub use tls::{Identity, Tls, TlsSet};

/// The URLs of every connection that has one. Its `Debug` masks the passwords.
#[derive(Clone, Default)]
pub struct Urls {
    /// Connection name → AMQP URL(s), comma-separated for a cluster.
    pub amqp: BTreeMap<String, String>,
    /// Connection name → management API URL, when given.
    pub management: BTreeMap<String, String>,
}

impl std::fmt::Debug for Urls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked = |m: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            m.iter()
                .map(|(k, v)| (k.clone(), connection::mask(v)))
                .collect()
        };
        f.debug_struct("Urls")
            .field("amqp", &masked(&self.amqp))
            .field("management", &masked(&self.management))
            .finish()
    }
}

impl Urls {
    /// From `--connection` and `--management` pairs (`NAME=URL`), and the environment for
    /// the `names` no pair gives.
    pub fn resolve(
        connections: &[String],
        management: &[String],
        names: &[String],
    ) -> Result<Urls, BadPair> {
        let amqp = connection::parse_pairs(connections, "connection", names)?;
        let management = connection::parse_pairs(management, "management", names)?;
        Ok(Urls {
            amqp: connection::resolve(&amqp, names, "CONNECTION"),
            management: connection::resolve(&management, names, "MANAGEMENT"),
        })
    }

    /// Connection name → URL as shown to users (passwords masked).
    pub fn masked(&self) -> BTreeMap<String, String> {
        self.amqp
            .iter()
            .map(|(k, v)| (k.clone(), connection::mask(v)))
            .collect()
    }

    /// The endpoints of the connections in `names` that have a URL.
    pub fn endpoints<'a>(
        &self,
        names: impl Iterator<Item = &'a String>,
    ) -> Result<Vec<Endpoint>, endpoint::BadUrl> {
        names
            .filter_map(|n| self.amqp.get(n).map(|u| (n, u)))
            .map(|(n, u)| Endpoint::parse(n, u, self.management.get(n).map(String::as_str)))
            .collect()
    }
}

/// A broker could not be reached or refused us (exit 69).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// Reads every connection's state: `Live` (management API) or `Probed` (AMQP only) for those
/// with a URL, `NoUrl` for the rest. Each connection with its own TLS material.
pub async fn read_states(
    endpoints: &[Endpoint],
    desired: &BTreeMap<String, ConnectionSpecs>,
    tls: &TlsSet,
    timeout: Duration,
    no_management: bool,
) -> Result<Snapshot, Unavailable> {
    let mut states = BTreeMap::new();
    let mut modes = BTreeMap::new();
    for name in desired.keys() {
        states.insert(name.clone(), ConnectionState::NoUrl);
    }
    for ep in endpoints {
        let empty = ConnectionSpecs::default();
        let want = desired.get(&ep.name).unwrap_or(&empty);
        let tls = tls.for_connection(&ep.name);
        let why_not = no_management.then(|| "--no-management asks for them".to_string());
        let Reached { conn, api, listed } = connect_and_list(ep, tls, timeout, why_not).await?;
        let state = match listed {
            Ok(mut have) => {
                read_usage(&conn, &api, &mut have, want, timeout).await?;
                sort(&mut have);
                modes.insert(
                    ep.name.clone(),
                    ReadMode::Management(api.answering().to_string()),
                );
                ConnectionState::Live(have)
            }
            Err(management::ReadError::Refused(why)) => {
                amqp::close_connection(&conn, timeout).await;
                return Err(Unavailable(why));
            }
            // Only when asked, or when nothing listens at the management URL (connection
            // refused): a management API that answers late or refuses us is an error.
            Err(management::ReadError::Unreachable(why)) => {
                modes.insert(ep.name.clone(), ReadMode::Probes(why));
                let probed = amqp::probe(&conn, want, timeout)
                    .await
                    .map_err(Unavailable)?;
                ConnectionState::Probed(probed)
            }
        };
        amqp::close_connection(&conn, timeout).await;
        states.insert(ep.name.clone(), state);
    }
    Ok(Snapshot { states, modes })
}

/// A connection's broker, reached: its AMQP connection, its management API, and what that
/// API listed of the vhost.
struct Reached {
    conn: lapin::Connection,
    api: management::Api,
    listed: Result<ConnectionSpecs, management::ReadError>,
}

/// Connects to `endpoint` over AMQP and lists its vhost through the management API (unless
/// `why_not` says why it is not asked). AMQP proves the credentials and the vhost: its error
/// comes first, and then the listings are not awaited; they are read while AMQP connects.
async fn connect_and_list(
    endpoint: &Endpoint,
    tls: &Tls,
    timeout: Duration,
    why_not: Option<String>,
) -> Result<Reached, Unavailable> {
    let api = management::Api::new(
        endpoint,
        http::client(endpoint, tls, timeout).map_err(Unavailable)?,
    );
    let (conn, listed) = tokio::try_join!(
        async {
            amqp::connect(endpoint, tls, timeout)
                .await
                .map_err(Unavailable)
        },
        async {
            Ok(match why_not {
                Some(why) => Err(management::ReadError::Unreachable(why)),
                None => api.entities().await,
            })
        },
    )?;
    Ok(Reached { conn, api, listed })
}

/// What one connection's vhost holds, read from the management API's listings (`import`),
/// with an AMQP connection that proves the credentials and the vhost, as [`read_states`]
/// does, so that both say the same when the broker refuses us. A management API that does
/// not answer is an error here: AMQP cannot list what a vhost holds.
pub async fn read_vhost(
    endpoint: &Endpoint,
    tls: &Tls,
    timeout: Duration,
) -> Result<ConnectionSpecs, Unavailable> {
    let reached = connect_and_list(endpoint, tls, timeout, None).await?;
    amqp::close_connection(&reached.conn, timeout).await;
    match reached.listed {
        Ok(mut specs) => {
            sort(&mut specs);
            Ok(specs)
        }
        Err(management::ReadError::Refused(why)) => Err(Unavailable(why)),
        Err(management::ReadError::Unreachable(why)) => Err(Unavailable(format!(
            "connection `{}`: {why}; import reads the vhost through the management API (--management {}=URL if it listens elsewhere)",
            endpoint.name, endpoint.name
        ))),
    }
}

fn sort(specs: &mut ConnectionSpecs) {
    specs.exchanges.sort_by(|a, b| a.name.cmp(&b.name));
    specs.queues.sort_by(|a, b| a.name.cmp(&b.name));
    specs.bindings.sort_by_cached_key(BindingSpec::signature);
}

/// The usage of the queues a plan may delete or replace: those the files do not declare,
/// those whose definition differs from ours, and this tool's own (holding queues and
/// records). Ready messages and consumers by passive declare (exact); unacknowledged
/// messages from the management API's statistics (one request for all).
async fn read_usage(
    conn: &lapin::Connection,
    api: &management::Api,
    have: &mut ConnectionSpecs,
    want: &ConnectionSpecs,
    timeout: Duration,
) -> Result<(), Unavailable> {
    let ours: HashMap<&str, &QueueSpec> =
        want.queues.iter().map(|q| (q.name.as_str(), q)).collect();
    let candidates: Vec<usize> = have
        .queues
        .iter()
        .enumerate()
        .filter(|(_, q)| match ours.get(q.name.as_str()) {
            Some(o) => !o.same_definition(q),
            None => true,
        })
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return Ok(());
    }
    let unacked: HashMap<String, Option<u64>> = api
        .queues_usage()
        .await
        .map_err(|e| Unavailable(e.to_string()))?
        .into_iter()
        .map(|q| (q.name, q.messages_unacknowledged))
        .collect();
    for i in candidates {
        let q = &mut have.queues[i];
        if let Some((ready, consumers)) = amqp::queue_counts(conn, &q.name, timeout)
            .await
            .map_err(Unavailable)?
        {
            q.usage = Usage {
                messages: Some(u64::from(ready)),
                unacked: unacked.get(q.name.as_str()).copied().flatten(),
                consumers: Some(u64::from(consumers)),
            };
        }
    }
    Ok(())
}
