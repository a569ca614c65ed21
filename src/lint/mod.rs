//! Lint stage: a merged [`Topology`] → what RabbitMQ would refuse or silently mishandle.
//!
//! Takes: the topology of the `model` stage. Gives: diagnostics, each with a stable code and
//! the span of the value at fault (which survives merging, so it points at the file that gave
//! it). Pure: it reads no file and talks to no broker. Per-file checks (syntax, schema) live
//! in their own stages; this one sees the whole topology.

mod arguments;
mod broker;
mod magento;

pub use magento::Dialect;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Arguments, DestinationType, Origin, Topology, Value};
use crate::rules::BUILTIN_EXCHANGES;
use crate::source::Span;

/// Longest name or routing key AMQP carries (a short string).
pub(crate) const MAX_NAME_BYTES: usize = 255;

/// Every finding about the merged topology, in a stable order (Magento's refusals in the
/// Magento dialect, then exchanges, queues, bindings).
pub fn lint(topology: &Topology, dialect: Dialect) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let magento = dialect == Dialect::Magento;
    if magento {
        magento::check(topology, &mut out);
    }
    let declared: HashSet<(&str, &str)> = topology
        .exchanges
        .iter()
        .map(|e| (e.connection.value.as_str(), e.name.value.as_str()))
        .collect();
    let exchange_connections: HashMap<&str, Vec<&str>> =
        topology
            .exchanges
            .iter()
            .fold(HashMap::default(), |mut m, e| {
                m.entry(e.name.value.as_str())
                    .or_default()
                    .push(e.connection.value.as_str());
                m
            });
    let is_declared = |conn: &str, name: &str| {
        BUILTIN_EXCHANGES.contains(&name) || declared.contains(&(conn, name))
    };

    let mut bindings_of: HashMap<(&str, &str), usize> = HashMap::default();
    for b in &topology.bindings {
        *bindings_of
            .entry((b.connection.as_str(), b.source.as_str()))
            .or_default() += 1;
    }

    // Undeclared dead-letter and alternate exchanges, one warning per exchange, however many
    // queues or exchanges name it: (connection, exchange, role) → (owner, span) in order.
    type Users<'a> = Vec<(&'a str, Span)>;
    let mut missing: HashMap<(&str, &str, &str), Users> = HashMap::default();
    for ex in &topology.exchanges {
        let name = &ex.name.value;
        reserved(name, "exchange", ex.name.span, &mut out);
        too_long(name, "exchange name", ex.name.span, &mut out);
        let bindings = bindings_of
            .get(&(ex.connection.value.as_str(), name.as_str()))
            .copied()
            .unwrap_or(0);
        broker::check_exchange(ex, bindings, magento, &mut out);
        broker::argument_names(&ex.arguments, &mut out);
        arguments::check_exchange(ex, &mut out);
        if let Some((ae, span)) = exchange_ref(&ex.arguments, "alternate-exchange")
            && !is_declared(&ex.connection.value, ae)
        {
            let key = (ex.connection.value.as_str(), ae, "alternate exchange");
            missing.entry(key).or_default().push((name, span));
        }
    }

    // (connection, lowercased name): borrowed where lowercasing changes nothing, as for
    // nearly every name (a million queues: no copy of each).
    type Lower<'a> = (&'a str, std::borrow::Cow<'a, str>);
    let mut lower_names: HashMap<Lower, (&str, Span)> =
        HashMap::with_capacity_and_hasher(topology.queues.len(), Default::default());
    for q in &topology.queues {
        let name = &q.name.value;
        reserved(name, "queue", q.name.span, &mut out);
        too_long(name, "queue name", q.name.span, &mut out);
        arguments::check_queue(q, &mut out);
        // (An inferred queue's arguments are its binding's, checked there.)
        if q.origin == Origin::Queue {
            broker::argument_names(&q.arguments, &mut out);
        }
        if let Some((dlx, span)) = exchange_ref(&q.arguments, "x-dead-letter-exchange")
            && !is_declared(&q.connection.value, dlx)
        {
            let key = (q.connection.value.as_str(), dlx, "dead-letter exchange");
            missing.entry(key).or_default().push((name, span));
        }
        let lower = if name.chars().any(char::is_uppercase) {
            name.to_lowercase().into()
        } else {
            name.as_str().into()
        };
        let key = (q.connection.value.as_str(), lower);
        match lower_names.get(&key) {
            Some((other, span)) if *other != name.as_str() => out.push(
                Diagnostic::warning(
                    Code::QueueNameCase,
                    format!("queues `{other}` and `{name}` differ only in case"),
                )
                .with_label(q.name.span, "this queue")
                .with_label(*span, "and this one")
                .with_help("RabbitMQ treats them as two queues; a consumer of one never sees the other's messages"),
            ),
            Some(_) => {}
            None => {
                lower_names.insert(key, (name.as_str(), q.name.span));
            }
        }
    }

    let mut missing: Vec<_> = missing.into_iter().collect();
    missing.sort_by_key(|(_, users)| users.first().map(|(_, span)| (span.file, span.start)));
    for ((_, exchange, role), users) in missing {
        out.push(undeclared(exchange, role, &users));
    }

    let headers: HashSet<(&str, &str)> = topology
        .exchanges
        .iter()
        .filter(|e| e.kind.value == "headers")
        .map(|e| (e.connection.value.as_str(), e.name.value.as_str()))
        .collect();
    for b in &topology.bindings {
        too_long(
            &b.routing_key.value,
            "routing key",
            b.routing_key.span,
            &mut out,
        );
        broker::argument_names(&b.arguments, &mut out);
        broker::check_binding(b, &mut out);
        if headers.contains(&(b.connection.as_str(), b.source.as_str()))
            && let Some(arg) = b.arguments.get("x-match")
        {
            arguments::check_x_match(arg, &b.source, &mut out);
        }
        // (Magento's dialect refuses exchange destinations above.)
        if magento || b.destination_type.value != DestinationType::Exchange || b.disabled {
            continue;
        }
        let dest = &b.destination.value;
        if is_declared(&b.connection, dest) {
            continue;
        }
        match exchange_connections.get(dest.as_str()) {
            Some(conns) => out.push(
                Diagnostic::error(
                    Code::CrossConnection,
                    format!(
                        "binding `{}` on connection `{}` points at exchange `{dest}`, declared only on `{}`",
                        b.id.value,
                        b.connection,
                        conns.join("`, `")
                    ),
                )
                .with_label(b.destination.span, "not on this binding's connection")
                .with_help("a binding joins two entities of one broker: declare the exchange on the same connection"),
            ),
            None => out.push(
                Diagnostic::warning(
                    Code::UndeclaredExchange,
                    format!("binding `{}` points at exchange `{dest}`, which the topology never declares", b.id.value),
                )
                .with_label(b.destination.span, "not declared in any file")
                .with_help("RabbitMQ answers 404 NOT_FOUND to the bind unless the exchange already exists"),
            ),
        }
    }
    out
}

/// The exchange a string argument names (`alternate-exchange`, `x-dead-letter-exchange`),
/// with the span of its value.
fn exchange_ref<'a>(args: &'a Arguments, key: &str) -> Option<(&'a str, Span)> {
    let arg = args.get(key)?;
    match &arg.value {
        Value::Str(name) => Some((name.as_str(), arg.value_span)),
        _ => None,
    }
}

/// A name RabbitMQ keeps for itself: any queue whose name starts with `amq.`, and an
/// exchange's unless it is one of the built-in ones (a redeclare of those is compared
/// with their properties instead).
fn reserved(name: &str, what: &str, span: Span, out: &mut Vec<Diagnostic>) {
    let builtin = what == "exchange" && BUILTIN_EXCHANGES.contains(&name);
    if name.starts_with("amq.") && !builtin {
        out.push(
            Diagnostic::error(
                Code::ReservedName,
                format!("{what} name `{name}` starts with the reserved prefix `amq.`"),
            )
            .with_label(span, "reserved by RabbitMQ")
            .with_help(format!(
                "RabbitMQ answers 403 ACCESS_REFUSED - {what} name '{name}' contains reserved prefix 'amq.*'"
            )),
        );
    }
}

pub(crate) fn too_long(name: &str, what: &str, span: Span, out: &mut Vec<Diagnostic>) {
    if name.len() > MAX_NAME_BYTES {
        out.push(
            Diagnostic::error(
                Code::NameTooLong,
                format!(
                    "{what} is {} bytes long, more than AMQP's {MAX_NAME_BYTES}",
                    name.len()
                ),
            )
            .with_label(span, "too long"),
        );
    }
}

/// `users`: who names the exchange, in declaration order (never empty).
fn undeclared(exchange: &str, role: &str, users: &[(&str, Span)]) -> Diagnostic {
    let (owner, span) = users[0];
    let others = match users.len() - 1 {
        0 => String::new(),
        1 => format!(" (also named by `{}`)", users[1].0),
        n => format!(" (also named by {n} more)"),
    };
    Diagnostic::warning(
        Code::UndeclaredExchange,
        format!("{role} `{exchange}` of `{owner}` is not declared by the topology{others}"),
    )
    .with_label(span, "never declared")
    .with_help("RabbitMQ accepts it, but messages sent there are dropped until the exchange exists")
}
