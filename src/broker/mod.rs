//! Broker access: where each connection lives, and reading what a broker holds.

use std::collections::BTreeMap;

use crate::cli::BrokerArgs;
use crate::connection::{self, BadPair};
use crate::plan::ConnectionState;

/// The URLs of every connection that has one.
#[derive(Clone, Debug, Default)]
pub struct Urls {
    /// Connection name → AMQP URL(s), comma-separated for a cluster.
    pub amqp: BTreeMap<String, String>,
    /// Connection name → management API URL, when given.
    pub management: BTreeMap<String, String>,
}

impl Urls {
    pub fn resolve(args: &BrokerArgs, names: &[String]) -> Result<Urls, BadPair> {
        let amqp = connection::parse_pairs(&args.connections)?;
        let management = connection::parse_pairs(&args.management)?;
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
}

/// A broker could not be reached or refused us (exit 69).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// Reads the state of every connection: `Live` for those with a URL, `NoUrl` for the rest.
/// Also returns a fingerprint of what was read, for stale saved plans.
pub fn read_states<'a>(
    urls: &Urls,
    _args: &BrokerArgs,
    names: impl Iterator<Item = &'a String>,
) -> Result<(BTreeMap<String, ConnectionState>, String), Unavailable> {
    let mut states = BTreeMap::new();
    for name in names {
        if urls.amqp.contains_key(name) {
            return Err(Unavailable("live plans are not built yet".into()));
        }
        states.insert(name.clone(), ConnectionState::NoUrl);
    }
    Ok((states, String::new()))
}
