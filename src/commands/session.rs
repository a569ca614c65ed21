//! The brokers' side of `plan` and `apply`: a [`Session`] resolves each connection's URL,
//! TLS material and management endpoint once, from flags, environment and a Magento
//! install's env.php, reads what the brokers hold (unless offline), and plans against it.
//! Takes the command line's broker flags and the desired specs; gives the session, or the
//! [`Error`] (usage or unavailable) that stopped it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::app::err;
use crate::broker::ConnectionState;
use crate::error::Error;
use crate::plan::{self, Plan};
use crate::spec;

/// The brokers' side of a run: URLs, and what the brokers hold (None offline).
pub(crate) struct Session {
    pub urls: crate::broker::Urls,
    pub endpoints: Vec<crate::broker::Endpoint>,
    pub snapshot: Option<crate::broker::Snapshot>,
    /// Each connection's TLS material.
    pub tls: crate::broker::TlsSet,
    /// Connections that are not provisioned, with the reason: not AMQP in a Magento
    /// install's env.php (e.g. `db`, Magento's MySQL queue) and given no URL.
    pub not_amqp: BTreeMap<String, String>,
}

/// The async runtime of a command that asks a broker (two workers: the machine's cores are
/// the broker's too). Started only when a broker is asked.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

impl Session {
    /// Resolves the URLs and, unless `offline`, reads every broker (an offline run starts no
    /// async runtime, TLS stack or HTTP client).
    pub(crate) fn open(
        args: &crate::cli::BrokerArgs,
        desired: &BTreeMap<String, spec::ConnectionSpecs>,
        installs: &[crate::source::InstallReport],
        offline: bool,
    ) -> Result<Session, Error> {
        let names: Vec<String> = desired.keys().cloned().collect();
        let mut urls =
            crate::broker::Urls::resolve(&args.reach.connections, &args.reach.management, &names)
                .map_err(Error::usage)?;
        // A Magento install's env.php gives the URLs that flags and environment do not, and
        // with them the TLS settings of those connections.
        let mut from_env_php = Vec::new();
        for install in installs {
            for connection in install.brokers.iter().flat_map(|b| b.connections.iter()) {
                if !names.contains(&connection.name) || urls.amqp.contains_key(&connection.name) {
                    continue;
                }
                let url = connection.url().map_err(Error::usage)?;
                urls.amqp.insert(connection.name.clone(), url);
                from_env_php.push((install.root.as_path(), connection));
            }
        }
        let not_amqp: BTreeMap<String, String> = not_amqp(&names, installs, &urls, offline)
            .into_iter()
            .map(|(name, why)| {
                let how = format!(
                    "give --connection {name}=URL or {} to provision it anyway",
                    crate::connection::env_var("CONNECTION", &name)
                );
                (name, format!("{why} ({how})"))
            })
            .collect();
        if !offline {
            let missing: Vec<&String> = names
                .iter()
                .filter(|n| !urls.amqp.contains_key(*n) && !not_amqp.contains_key(*n))
                .collect();
            if !missing.is_empty() {
                return Err(Error::Usage(no_url(&missing)));
            }
        }
        let endpoints = urls.endpoints(names.iter()).map_err(Error::usage)?;
        let mut tls = crate::broker::TlsSet::new(
            crate::broker::tls::from_files(args.reach.tls_files()).map_err(Error::usage)?,
        );
        if offline || endpoints.is_empty() {
            return Ok(Session {
                urls,
                endpoints,
                snapshot: None,
                tls,
                not_amqp,
            });
        }
        // Only when a broker is asked: `--offline` needs none of the files env.php names.
        for (root, connection) in from_env_php {
            let (own, notes) =
                crate::broker::tls::from_env_php(connection, root, tls.default_tls())
                    .map_err(Error::usage)?;
            for note in notes {
                err(&format!("note: {note}\n"));
            }
            tls.insert(&connection.name, own);
        }
        let timeout = std::time::Duration::from_secs(args.reach.timeout.max(1));
        let snapshot = runtime()
            .block_on(crate::broker::read_states(
                &endpoints,
                desired,
                &tls,
                timeout,
                args.no_management,
            ))
            .map_err(Error::unavailable)?;
        for (name, mode) in &snapshot.modes {
            if let crate::broker::ReadMode::Probes(why) = mode {
                err(&format!(
                    "note: connection `{name}`: planned from AMQP probes ({why}); {}\n",
                    crate::broker::PROBES_CANNOT_SEE
                ));
            }
        }
        Ok(Session {
            urls,
            endpoints,
            snapshot: Some(snapshot),
            tls,
            not_amqp,
        })
    }

    /// Plans from what was read (or everything `create` offline).
    pub(crate) fn plan(
        &self,
        desired: BTreeMap<String, spec::ConnectionSpecs>,
        prune: bool,
    ) -> Plan {
        // What was read, borrowed: copied only to add the connections left out.
        let mut states: Cow<BTreeMap<String, ConnectionState>> = match &self.snapshot {
            Some(s) => Cow::Borrowed(&s.states),
            None => Cow::Owned(
                desired
                    .keys()
                    .map(|c| (c.clone(), ConnectionState::Offline))
                    .collect(),
            ),
        };
        for (connection, why) in &self.not_amqp {
            states.to_mut().insert(
                connection.clone(),
                ConnectionState::NotProvisioned(why.clone()),
            );
        }
        plan::plan(desired, &states, prune)
    }

    /// A plan made against nothing ([`plan::Offline::plan`]), the connections that are
    /// not AMQP skipped with the reason, as [`Session::plan`] skips them.
    pub(crate) fn skip_not_amqp(&self, mut plan: Plan) -> Plan {
        if !self.not_amqp.is_empty() {
            for c in &mut plan.changes {
                if let Some(why) = self.not_amqp.get(&*c.connection) {
                    c.action = plan::Action::Skip;
                    c.reason = Some(why.clone());
                }
            }
        }
        plan
    }
}

/// Why connections that have entities cannot be planned against a broker.
fn no_url(missing: &[&String]) -> String {
    let how: Vec<String> = missing
        .iter()
        .map(|n| {
            format!(
                "--connection {n}=URL or {}",
                crate::connection::env_var("CONNECTION", n)
            )
        })
        .collect();
    let names: Vec<String> = missing.iter().map(|n| format!("`{n}`")).collect();
    let (which, has) = if missing.len() == 1 {
        ("connection", "has")
    } else {
        ("connections", "have")
    };
    format!(
        "{which} {} {has} entities but no broker URL: give {} (or plan --offline, which asks no broker)",
        names.join(", "),
        how.join("; ")
    )
}

/// The connections of `names` that `plan` and `apply` do not provision (not AMQP), with
/// the reason, when given no `--connection` flag: what `export` leaves out of definitions
/// and greys out in pictures.
pub(crate) fn not_provisioned(
    names: &[String],
    installs: &[crate::source::InstallReport],
) -> BTreeMap<String, String> {
    let urls = crate::broker::Urls {
        amqp: crate::connection::resolve(&BTreeMap::new(), names, "CONNECTION"),
        management: BTreeMap::new(),
    };
    not_amqp(names, installs, &urls, false)
}

/// Magento's connection names that are not RabbitMQ: `db` (its MySQL queue) and `stomp`
/// (ActiveMQ Artemis, Magento 2.4.8+).
const NOT_RABBITMQ: &[(&str, &str)] = &[
    ("db", "Magento's `db` connection is its MySQL queue"),
    (
        "stomp",
        "Magento's `stomp` connection is ActiveMQ Artemis (STOMP)",
    ),
];

/// The connections of `names` that are not provisioned, with the reason (how to provision
/// them anyway is the caller's to say), unless a flag or variable gives them a URL: in a
/// Magento install, those that env.php does not make AMQP ones
/// (Amqp/ConnectionTypeResolver: `amqp` when `queue/amqp` is set, and the keys of
/// `queue/connections`), since Magento never declares their entities on RabbitMQ;
/// elsewhere, Magento's `db` and `stomp`, except offline (where the contract shows every
/// entity of a plain directory as `create`).
fn not_amqp(
    names: &[String],
    installs: &[crate::source::InstallReport],
    urls: &crate::broker::Urls,
    offline: bool,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if installs.is_empty() && !offline {
        for name in names.iter().filter(|n| !urls.amqp.contains_key(*n)) {
            if let Some((_, what)) = NOT_RABBITMQ.iter().find(|(n, _)| n == name) {
                out.insert(
                    name.clone(),
                    format!("{what}, not RabbitMQ: not provisioned"),
                );
            }
        }
    }
    for install in installs.iter().filter(|i| i.provisions) {
        let amqp: Vec<&str> = install
            .brokers
            .iter()
            .flat_map(|b| b.connections.iter().map(|c| c.name.as_str()))
            .collect();
        for name in names {
            if amqp.contains(&name.as_str()) || urls.amqp.contains_key(name) {
                continue;
            }
            let db = NOT_RABBITMQ
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, what)| format!(" ({what})"))
                .unwrap_or_default();
            out.entry(name.clone()).or_insert_with(|| {
                format!(
                    "connection `{name}` is not an AMQP connection in {}{db}: Magento does not declare it on RabbitMQ",
                    install.root.join("app/etc/env.php").display(),
                )
            });
        }
    }
    out
}
