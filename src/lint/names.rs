//! Names RabbitMQ keeps for itself (`amq.`), and names and routing keys longer than AMQP's
//! short strings hold.

use super::{Check, Context, MAX_NAME_BYTES, Rule};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Binding, DestinationType};
use crate::rules::BUILTIN_EXCHANGES;
use crate::source::Span;

pub(super) const RESERVED_EXCHANGE: Rule = Rule {
    codes: &[Code::ReservedName],
    doc: "an exchange name starting with `amq.`, other than a built-in exchange's",
    dialect: None,
    check: Check::Exchange(|_, ex, out| reserved(&ex.name.value, "exchange", ex.name.span, out)),
    example: (
        r#"<exchange name="amq.mine"/>"#,
        r#"<exchange name="amq.topic"/>"#,
    ),
};

pub(super) const RESERVED_QUEUE: Rule = Rule {
    codes: &[Code::ReservedName],
    doc: "a queue name starting with `amq.`",
    dialect: None,
    check: Check::Queue(|_, q, out| reserved(&q.name.value, "queue", q.name.span, out)),
    example: (r#"<queue name="amq.topic"/>"#, r#"<queue name="amq"/>"#),
};

pub(super) const LONG_EXCHANGE_NAME: Rule = Rule {
    codes: &[Code::NameTooLong],
    doc: "an exchange name longer than 255 bytes",
    dialect: None,
    check: Check::Exchange(|_, ex, out| {
        too_long(&ex.name.value, "exchange name", ex.name.span, out)
    }),
    example: (r#"<exchange name="{256}"/>"#, r#"<exchange name="ex"/>"#),
};

pub(super) const LONG_QUEUE_NAME: Rule = Rule {
    codes: &[Code::NameTooLong],
    doc: "a queue name longer than 255 bytes",
    dialect: None,
    check: Check::Queue(|_, q, out| too_long(&q.name.value, "queue name", q.name.span, out)),
    example: (r#"<queue name="{256}"/>"#, r#"<queue name="q"/>"#),
};

pub(super) const LONG_ROUTING_KEY: Rule = Rule {
    codes: &[Code::NameTooLong],
    doc: "a binding's routing key (its topic) longer than 255 bytes",
    dialect: None,
    check: Check::Binding(|_, b, out| {
        too_long(&b.routing_key.value, "routing key", b.routing_key.span, out)
    }),
    example: (
        r#"<exchange name="ex"><binding id="b" topic="{256}" destination="q"/></exchange>"#,
        r#"<exchange name="ex"><binding id="b" topic="t" destination="q"/></exchange>"#,
    ),
};

pub(super) const LONG_EXCHANGE_DESTINATION: Rule = Rule {
    codes: &[Code::NameTooLong],
    doc: "the exchange a binding points at named with more than 255 bytes",
    dialect: None,
    check: Check::Binding(long_exchange_destination),
    example: (
        r#"<exchange name="ex"><binding id="b" topic="t" destinationType="exchange" destination="{256}"/></exchange>"#,
        r#"<exchange name="ex"><binding id="b" topic="t" destination="{256}"/></exchange>"#,
    ),
};

/// (A queue destination is a queue, whose name is checked as such.)
fn long_exchange_destination(_: &Context, b: &Binding, out: &mut Vec<Diagnostic>) {
    if b.destination_type.value == DestinationType::Exchange {
        let dest = &b.destination;
        too_long(&dest.value, "exchange name", dest.span, out);
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

fn too_long(name: &str, what: &str, span: Span, out: &mut Vec<Diagnostic>) {
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
