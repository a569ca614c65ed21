//! What RabbitMQ refuses about exchanges themselves, beyond their arguments: the default
//! exchange, the built-in `amq.*` exchanges redeclared with other properties, exchange types
//! that only a plugin registers, and AMQP's 255-byte limit on argument names. Each message
//! says what RabbitMQ answers (checked on 3.10.8 by `tests/it/broker_rules.rs`).

use crate::diagnostic::{Code, Diagnostic, suggest};
use crate::model::{Arguments, Binding, DestinationType, Exchange};
use crate::rules::{self, EXCHANGE_TYPES, PLUGIN_EXCHANGE_TYPES};

use super::MAX_NAME_BYTES;

/// The default exchange declared, a built-in one redeclared with other properties, and (in
/// RabbitMQ's dialect) a type RabbitMQ does not know. `bindings`: how many bindings it has.
pub fn check_exchange(ex: &Exchange, bindings: usize, magento: bool, out: &mut Vec<Diagnostic>) {
    let name = &ex.name.value;
    if name.is_empty() {
        let also = match bindings {
            0 => String::new(),
            n => format!(", and each of its {n} binding(s) too"),
        };
        out.push(
            Diagnostic::error(
                Code::DefaultExchange,
                "an exchange named \"\": the default exchange cannot be declared nor bound from",
            )
            .with_label(ex.name.span, "the default exchange")
            .with_help(format!(
                "RabbitMQ answers 403 ACCESS_REFUSED - operation not permitted on the default exchange{also}; every queue is already bound to it by its own name"
            )),
        );
    } else if let Some(builtin) = rules::builtin(name) {
        redeclared_builtin(ex, builtin, out);
    }
    if !magento {
        exchange_type(ex, out);
    }
}

/// A built-in exchange exists in every vhost: a declare is accepted only with its own
/// properties (RabbitMQ compares type, durable, auto-delete, internal and
/// `alternate-exchange`, in that order).
fn redeclared_builtin(ex: &Exchange, builtin: &rules::Builtin, out: &mut Vec<Diagnostic>) {
    let name = &ex.name.value;
    // (property, span, ours, the built-in's), as RabbitMQ shows them
    let mut differs: Vec<(&str, crate::source::Span, String, String)> = Vec::new();
    let mut field = |what, span, ours: String, theirs: String| {
        if ours != theirs {
            differs.push((what, span, ours, theirs));
        }
    };
    field(
        "type",
        ex.kind.span,
        ex.kind.value.clone(),
        builtin.kind.into(),
    );
    field(
        "durable",
        ex.durable.span,
        ex.durable.value.to_string(),
        "true".into(),
    );
    let auto_delete = ex.auto_delete.value.to_string();
    field(
        "auto_delete",
        ex.auto_delete.span,
        auto_delete,
        "false".into(),
    );
    let internal = ex.internal.value.to_string();
    field(
        "internal",
        ex.internal.span,
        internal,
        builtin.internal.to_string(),
    );
    let Some((first, span, ours, theirs)) = differs.first().cloned().or_else(|| {
        let ae = ex.arguments.get("alternate-exchange")?;
        Some((
            "alternate-exchange",
            ae.value_span,
            ae.value.to_string(),
            "none".into(),
        ))
    }) else {
        return;
    };
    let list: Vec<String> = differs
        .iter()
        .map(|(what, _, ours, theirs)| format!("{what} {ours} (built in: {theirs})"))
        .chain(
            ex.arguments
                .get("alternate-exchange")
                .map(|ae| format!("alternate-exchange {} (built in: none)", ae.value)),
        )
        .collect();
    let received = if first == "alternate-exchange" {
        format!("received the value {ours} but current is none")
    } else {
        format!("received '{ours}' but current is '{theirs}'")
    };
    out.push(
        Diagnostic::error(
            Code::BuiltinExchange,
            format!(
                "`{name}` is built into RabbitMQ, and declared here with other properties: {}",
                list.join(", ")
            ),
        )
        .with_label(span, format!("the built-in `{name}` has {first} {theirs}"))
        .with_help(format!(
            "RabbitMQ answers 406 PRECONDITION_FAILED - inequivalent arg '{first}' for exchange '{name}': {received}; declare an exchange of your own name, or leave this one out (it always exists)"
        )),
    );
}

/// Types RabbitMQ knows without plugins pass; a plugin's type is a warning naming the
/// plugin (RabbitMQ closes the whole connection when it is not enabled); `x-` alone and
/// anything else is an error. An `x-` type this tool does not know is only a warning: a
/// plugin of one's own may register it.
fn exchange_type(ex: &Exchange, out: &mut Vec<Diagnostic>) {
    let (name, kind) = (&ex.name.value, ex.kind.value.as_str());
    if EXCHANGE_TYPES.contains(&kind) {
        return;
    }
    let refused = format!(
        "RabbitMQ answers 503 COMMAND_INVALID - unknown exchange type '{kind}', and closes the whole connection"
    );
    if let Some(plugin) = rules::exchange_plugin(kind) {
        out.push(
            Diagnostic::warning(
                Code::ExchangePlugin,
                format!("exchange `{name}` has type \"{kind}\", which the {plugin} plugin registers"),
            )
            .with_label(ex.kind.span, format!("needs {plugin}"))
            .with_help(format!(
                "enable it on the broker first (rabbitmq-plugins enable {plugin}): without it {refused}"
            )),
        );
        return;
    }
    let plugin_types: Vec<&str> = PLUGIN_EXCHANGE_TYPES.iter().map(|(t, _)| *t).collect();
    let guess = suggest(kind, &plugin_types)
        .or_else(|| suggest(kind, EXCHANGE_TYPES))
        .map(|s| format!("did you mean \"{s}\"? "))
        .unwrap_or_default();
    if kind.len() > 2 && kind.starts_with("x-") {
        out.push(
            Diagnostic::warning(
                Code::ExchangePlugin,
                format!(
                    "exchange `{name}` has type \"{kind}\", which no plugin this tool knows registers"
                ),
            )
            .with_label(ex.kind.span, "needs a plugin")
            .with_help(format!(
                "{guess}unless a plugin that registers it is enabled, {refused}"
            )),
        );
        return;
    }
    let what = if kind == "x-" {
        "a plugin type needs a name after `x-`"
    } else {
        "direct, fanout, topic, headers or an x- plugin type"
    };
    out.push(
        Diagnostic::error(
            Code::ExchangeType,
            format!("exchange `{name}` has unknown type \"{kind}\""),
        )
        .with_label(ex.kind.span, what)
        .with_help(format!("{guess}{refused}")),
    );
}

/// A binding to the default exchange, and an exchange destination longer than AMQP allows.
pub fn check_binding(b: &Binding, out: &mut Vec<Diagnostic>) {
    if b.destination_type.value != DestinationType::Exchange {
        return;
    }
    let dest = &b.destination.value;
    if dest.is_empty() {
        out.push(
            Diagnostic::error(
                Code::DefaultExchange,
                format!(
                    "binding `{}` of exchange `{}` binds to the default exchange \"\"",
                    b.id.value, b.source
                ),
            )
            .with_label(b.destination.span, "the default exchange")
            .with_help("RabbitMQ answers 403 ACCESS_REFUSED - operation not permitted on the default exchange"),
        );
    }
    super::too_long(dest, "exchange name", b.destination.span, out);
}

/// Argument names are AMQP short strings: at most 255 bytes.
pub fn argument_names(args: &Arguments, out: &mut Vec<Diagnostic>) {
    for arg in args.iter() {
        let name = &arg.name.value;
        if name.len() > MAX_NAME_BYTES {
            out.push(
                Diagnostic::error(
                    Code::NameTooLong,
                    format!(
                        "argument name is {} bytes long, more than AMQP's {MAX_NAME_BYTES}",
                        name.len()
                    ),
                )
                .with_label(arg.name.span, "too long")
                .with_help("a field table's keys are short strings: no AMQP client can send it"),
            );
        }
    }
}
