//! `topology import`: what a broker's vhost holds, written as a `queue_topology.xml` that
//! `lint`, `plan` and `apply` (and Magento, where it can) read back unchanged.
//!
//! Takes the connections (`--connection NAME=URL` or `TOPOLOGY_CONNECTION_<NAME>`, the URL
//! handled as `plan` handles it: TLS, `--management`, `--timeout`); reads what each vhost
//! holds through the management API ([`crate::broker::read_vhost`]); chooses
//! what to write ([`select`]: what RabbitMQ or an interrupted apply owns is left out and
//! counted, queues that their bindings would not infer exactly get a `<queue>` element); and
//! writes the file ([`crate::render::topology_xml`]) to stdout or `--out`. Notes on what was
//! left out, and on the dialect the file needs, go to stderr as well as into the file.

use std::collections::{BTreeMap, HashSet};

use super::session::runtime;
use crate::app::{err, out};
use crate::arguments::php::{PhpInt, is_php_numeric, php_int};
use crate::broker::{TlsSet, Urls, read_vhost, record, tls};
use crate::cli::{Cli, ImportArgs};
use crate::error::{Error, Outcome};
use crate::model::{DestinationType, Value};
use crate::render::topology_xml::{self, Import, ImportedConnection, xml_can_carry};
use crate::spec::{ArgMap, BindingSpec, ConnectionSpecs};

/// Runs `import` (a usage error, or a broker that cannot be read, stops it).
pub fn run(cli: &Cli, args: &ImportArgs) -> Result<Outcome, Error> {
    let names = connection_names(cli, &args.reach.connections);
    let urls = Urls::resolve(&args.reach.connections, &args.reach.management, &names)
        .map_err(Error::usage)?;
    let missing: Vec<String> = names
        .iter()
        .filter(|n| !urls.amqp.contains_key(*n))
        .map(|n| {
            format!(
                "--connection {n}=URL or {}",
                crate::connection::env_var("CONNECTION", n)
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "import reads a broker: give its URL with {}",
            missing.join("; ")
        )));
    }
    let endpoints = urls.endpoints(names.iter()).map_err(Error::usage)?;
    let tls = TlsSet::new(tls::from_files(args.reach.tls_files()).map_err(Error::usage)?);
    let timeout = std::time::Duration::from_secs(args.reach.timeout.max(1));
    let runtime = runtime();
    let mut import = Import::default();
    for endpoint in &endpoints {
        let spinner = reading(cli, &endpoint.name);
        let read = runtime.block_on(read_vhost(
            endpoint,
            tls.for_connection(&endpoint.name),
            timeout,
        ));
        spinner.finish_and_clear();
        let specs = read.map_err(Error::unavailable)?;
        import.connections.push(select(&endpoint.name, specs));
    }
    let xml = topology_xml::render(&import);
    if !cli.quiet {
        for note in topology_xml::notes(&import) {
            err(&format!("note: {note}\n"));
        }
    }
    match &args.out {
        Some(path) => std::fs::write(path, &xml)
            .map_err(|e| Error::Usage(format!("cannot write `{}`: {e}", path.display())))?,
        None => out(&xml),
    }
    Ok(Outcome::Done)
}

/// A spinner on a terminal while a broker is read (hidden elsewhere, and with `--quiet`).
fn reading(cli: &Cli, connection: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if cli.quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let spinner = indicatif::ProgressBar::new_spinner()
        .with_message(format!("reading `{connection}` through its management API"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    spinner
}

/// The connections to read: those `--connection` names, else the default connection
/// (`--default-connection`, else `amqp`), whose URL may come from the environment.
fn connection_names(cli: &Cli, pairs: &[String]) -> Vec<String> {
    let mut names: Vec<String> = pairs
        .iter()
        .filter_map(|p| p.split_once('='))
        .map(|(name, _)| name.to_string())
        .filter(|name| !name.is_empty() && !name.contains("://"))
        .collect();
    names.dedup();
    if names.is_empty() {
        names.push(
            cli.default_connection
                .clone()
                .unwrap_or_else(|| crate::load::DEFAULT_CONNECTION.to_string()),
        );
    }
    names
}

/// Chooses what of one connection's `specs` (as the broker holds them, sorted) to write.
pub fn select(connection: &str, specs: ConnectionSpecs) -> ImportedConnection {
    let mut c = ImportedConnection {
        name: connection.to_string(),
        ..Default::default()
    };
    let left = &mut c.left_out;
    for e in specs.exchanges {
        if e.name.is_empty() || e.name.starts_with("amq.") {
            left.builtin_exchanges += 1;
        } else if record::is_own(&e.arguments) {
            left.own += 1;
        } else if !xml_can_carry(&e.name) || !carried(&e.arguments) {
            left.unwritable += 1;
        } else {
            c.specs.exchanges.push(e);
        }
    }
    let mut queues = Vec::new();
    for q in specs.queues {
        if q.name.starts_with("amq.") {
            left.server_named_queues += 1;
        } else if record::is_own(&q.arguments) {
            left.own += 1;
        } else if !xml_can_carry(&q.name) || !carried(&q.arguments) {
            left.unwritable += 1;
        } else {
            queues.push(q);
        }
    }
    let exchanges: HashSet<&str> = c.specs.exchanges.iter().map(|e| e.name.as_str()).collect();
    let queue_names: HashSet<&str> = queues.iter().map(|q| q.name.as_str()).collect();
    let mut bindings: Vec<BindingSpec> = Vec::new();
    for b in specs.bindings {
        let k = &b.key;
        // The default exchange's bindings are implicit, one per queue: never written.
        if k.source.is_empty() {
            continue;
        }
        let destination_kept = match k.destination_type {
            DestinationType::Queue => queue_names.contains(k.destination.as_str()),
            DestinationType::Exchange => exchanges.contains(k.destination.as_str()),
        };
        if !exchanges.contains(k.source.as_str()) || !destination_kept {
            left.bindings_of_left_out += 1;
        } else if !xml_can_carry(&k.routing_key) || !carried(&b.arguments) {
            left.unwritable += 1;
        } else if bindings.iter().any(|w| w.key == b.key) {
            left.same_key_bindings += 1;
        } else {
            bindings.push(b);
        }
    }
    c.exchange_bindings = bindings
        .iter()
        .filter(|b| b.key.destination_type == DestinationType::Exchange)
        .count();
    let mut non_topic: BTreeMap<String, usize> = BTreeMap::new();
    for e in c.specs.exchanges.iter().filter(|e| e.kind != "topic") {
        *non_topic.entry(e.kind.to_string()).or_default() += 1;
    }
    c.non_topic = non_topic;
    // A queue is inferred from a binding to it (durable, not auto-delete, with the binding's
    // arguments); the others need a <queue> element to come back as they are.
    let bound_plainly = |name: &str| {
        let to_it = || {
            bindings.iter().filter(|b| {
                b.key.destination_type == DestinationType::Queue && b.key.destination == name
            })
        };
        to_it().next().is_some() && to_it().all(|b| b.arguments.is_empty())
    };
    c.specs.queues = queues
        .into_iter()
        .filter(|q| {
            !q.durable || q.auto_delete || !q.arguments.is_empty() || !bound_plainly(&q.name)
        })
        .collect();
    let mut inexact = Vec::new();
    for e in &c.specs.exchanges {
        inexact_values(
            &format!("exchange `{}`", e.name),
            &e.arguments,
            &mut inexact,
        );
    }
    for q in &c.specs.queues {
        inexact_values(&format!("queue `{}`", q.name), &q.arguments, &mut inexact);
    }
    for b in &bindings {
        inexact_values(
            &format!("binding `{}`", b.display_name()),
            &b.arguments,
            &mut inexact,
        );
    }
    c.inexact = inexact;
    c.specs.bindings = bindings;
    c
}

/// Whether every argument name and string value can be written in XML.
fn carried(args: &ArgMap) -> bool {
    fn value(v: &Value) -> bool {
        match v {
            Value::Str(s) => xml_can_carry(s),
            Value::Array(items) => items.iter().all(value),
            _ => true,
        }
    }
    args.iter().all(|(k, v)| xml_can_carry(k) && value(v))
}

/// Arguments the file cannot give back as the broker holds them: a reader sends every
/// numeric value as PHP's `(int)` of it, as Magento does (a numeric string, a fraction), and
/// reads a value's text without its surrounding whitespace.
fn inexact_values(owner: &str, args: &ArgMap, out: &mut Vec<String>) {
    for (name, v) in args {
        let why = match v {
            Value::Str(s) if is_php_numeric(s) => {
                format!("is the string \"{s}\", which will be sent as an integer")
            }
            Value::Float(f) => match php_int(&f.to_string()) {
                PhpInt::Int { value, .. } => format!("is {f}, which will be sent as {value}"),
                _ => format!("is {f}, which cannot be sent as an integer"),
            },
            Value::Str(s) if s.trim() != s => {
                format!("is \"{s}\", whose surrounding whitespace will be dropped")
            }
            _ => continue,
        };
        out.push(format!("Argument `{name}` of {owner} {why}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{BindingKey, ExchangeSpec, QueueSpec};

    fn exchange(name: &str, kind: &str) -> ExchangeSpec {
        ExchangeSpec::of_kind(name, kind)
    }

    fn queue(name: &str, arguments: &[(&str, Value)]) -> QueueSpec {
        QueueSpec::with(name, arguments)
    }

    fn binding(source: &str, destination: &str, key: &str, args: &[(&str, Value)]) -> BindingSpec {
        BindingSpec {
            key: BindingKey {
                source: source.into(),
                destination: destination.into(),
                destination_type: DestinationType::Queue,
                routing_key: key.into(),
            },
            arguments: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    /// RabbitMQ's own entities and bindings to them are left out and counted; a queue comes
    /// as a <queue> element only when its bindings would not infer it exactly.
    #[test]
    fn leaves_out_what_rabbitmq_owns_and_writes_queues_only_where_needed() {
        let specs = ConnectionSpecs {
            exchanges: vec![
                exchange("", "direct"),
                exchange("amq.topic", "topic"),
                exchange("orders", "topic"),
                exchange("fan", "fanout"),
            ],
            queues: vec![
                queue("amq.gen-abc", &[]),
                queue("plain", &[]),
                queue("ttl", &[("x-message-ttl", Value::Int(5))]),
                queue("alone", &[]),
                queue("headers-bound", &[]),
            ],
            bindings: vec![
                binding("", "plain", "plain", &[]),
                binding("amq.topic", "plain", "mqtt.#", &[]),
                binding("orders", "amq.gen-abc", "x", &[]),
                binding("orders", "plain", "a.#", &[]),
                binding("orders", "ttl", "b", &[]),
                binding(
                    "fan",
                    "headers-bound",
                    "",
                    &[("x-match", Value::Str("all".into()))],
                ),
                binding(
                    "fan",
                    "headers-bound",
                    "",
                    &[("x-match", Value::Str("any".into()))],
                ),
            ],
        };
        let c = select("amqp", specs);
        let names = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            c.specs
                .exchanges
                .iter()
                .map(|e| e.name.clone())
                .collect::<Vec<_>>(),
            names(vec!["orders", "fan"])
        );
        assert_eq!(
            c.specs
                .queues
                .iter()
                .map(|q| q.name.clone())
                .collect::<Vec<_>>(),
            names(vec!["ttl", "alone", "headers-bound"]),
            "plain is inferred from its binding"
        );
        assert_eq!(c.specs.bindings.len(), 3, "{:?}", c.specs.bindings);
        assert_eq!(c.left_out.builtin_exchanges, 2);
        assert_eq!(c.left_out.server_named_queues, 1);
        assert_eq!(c.left_out.bindings_of_left_out, 2);
        assert_eq!(c.left_out.same_key_bindings, 1);
        assert_eq!(c.non_topic, BTreeMap::from([("fanout".to_string(), 1)]));
    }

    #[test]
    fn values_a_reader_would_change_are_noted() {
        let specs = ConnectionSpecs {
            queues: vec![queue(
                "q",
                &[
                    ("x-a", Value::Str("25".into())),
                    ("x-b", Value::Float(1.5)),
                    ("x-c", Value::Str(" pad".into())),
                    ("x-d", Value::Str("fine".into())),
                ],
            )],
            ..Default::default()
        };
        let c = select("amqp", specs);
        assert_eq!(
            c.inexact,
            [
                "Argument `x-a` of queue `q` is the string \"25\", which will be sent as an integer",
                "Argument `x-b` of queue `q` is 1.5, which will be sent as 1",
                "Argument `x-c` of queue `q` is \" pad\", whose surrounding whitespace will be dropped",
            ]
        );
    }
}
