//! What a broker holds, as read: each connection's [`ConnectionState`] (its vhost's
//! entities from the management API, or what AMQP probes could tell, or why it was not
//! asked), and how it was read ([`ReadMode`]). Plain data over `spec`'s entity specs: the
//! reading (`broker`'s other files) gives it, the plan takes it.

use std::collections::{BTreeMap, HashMap};

use crate::spec::{ConnectionSpecs, Usage};

/// What an AMQP probe learnt of one exchange or queue (when the management API is out of
/// reach).
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    Missing,
    /// Present, and a redeclare with our properties is accepted.
    Same,
    /// Present, and the broker refuses our properties: its answer.
    Differs(String),
}

/// Probe results by name; queues with their usage (ready messages and consumers: a passive
/// declare cannot see unacknowledged messages).
#[derive(Clone, Debug, Default)]
pub struct Probed {
    pub exchanges: HashMap<String, Probe>,
    pub queues: HashMap<String, (Probe, Usage)>,
}

/// What is known of one connection's broker.
#[derive(Clone, Debug)]
pub enum ConnectionState {
    /// No broker is asked: everything would be created.
    Offline,
    /// The connection has no URL: it is not provisioned.
    NoUrl,
    /// Not provisioned, for the reason given (a Magento install's env.php does not make it an
    /// AMQP connection: Magento never declares it on RabbitMQ).
    NotProvisioned(String),
    /// What the broker holds.
    Live(ConnectionSpecs),
    /// Probe mode: only what passive declares and equivalence redeclares tell.
    Probed(Probed),
}

/// What was read from the brokers.
pub struct Snapshot {
    pub states: BTreeMap<String, ConnectionState>,
    /// How each connection's state was read, and why.
    pub modes: BTreeMap<String, ReadMode>,
}

/// What AMQP probes cannot see, said wherever probe mode is used.
pub const PROBES_CANNOT_SEE: &str = "AMQP probes cannot see bindings (shown as `unverified`: apply binds them again), entities the files do not declare, nor arguments RabbitMQ does not compare on redeclare (custom keys, exchange arguments other than alternate-exchange)";

/// How a connection's state was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// From the management API at this base URL.
    Management(String),
    /// From AMQP probes, for this reason: bindings and entities the files do not declare
    /// are not seen.
    Probes(String),
}
