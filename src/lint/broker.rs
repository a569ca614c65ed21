//! What RabbitMQ refuses about exchanges themselves, beyond their arguments: the default
//! exchange, the built-in `amq.*` exchanges redeclared with other properties, exchange types
//! that only a plugin registers, and AMQP's 255-byte limit on argument names. Each message
//! says what RabbitMQ answers (checked on 3.10.8 by `tests/it/broker_rules.rs`).

use super::{Check, Context, Dialect, MAX_NAME_BYTES, Rule};
use crate::diagnostic::{Code, Diagnostic, suggest};
use crate::model::{Arguments, Binding, DestinationType, Exchange, Origin};
use crate::rules::{self, EXCHANGE_TYPES, PLUGIN_EXCHANGE_TYPES};

pub(super) const DEFAULT_EXCHANGE: Rule = Rule {
    codes: &[Code::DefaultExchange],
    doc: "the default exchange `\"\"` declared",
    dialect: None,
    check: Check::Exchange(default_exchange),
    example: (r#"<exchange name=""/>"#, r#"<exchange name="d"/>"#),
};

fn default_exchange(cx: &Context, ex: &Exchange, out: &mut Vec<Diagnostic>) {
    if !ex.name.value.is_empty() {
        return;
    }
    let bindings = cx
        .default_exchange_bindings
        .get(ex.connection.value.as_str());
    let also = match bindings {
        None => String::new(),
        Some(n) => format!(", and each of its {n} binding(s) too"),
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
}

pub(super) const BUILTIN_EXCHANGE: Rule = Rule {
    codes: &[Code::BuiltinExchange],
    doc: "a built-in `amq.*` exchange declared with properties other than its own",
    dialect: None,
    check: Check::Exchange(|_, ex, out| {
        if let Some(builtin) = rules::builtin(&ex.name.value) {
            redeclared_builtin(ex, builtin, out);
        }
    }),
    example: (
        r#"<exchange name="amq.direct" type="topic"/>"#,
        r#"<exchange name="amq.direct" type="direct"/>"#,
    ),
};

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
        ex.kind.value.to_string(),
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

pub(super) const EXCHANGE_TYPE: Rule = Rule {
    codes: &[Code::ExchangeType, Code::ExchangePlugin],
    doc: "an exchange type RabbitMQ does not know, or that only a plugin registers",
    dialect: Some(Dialect::Rabbitmq),
    check: Check::Exchange(exchange_type),
    example: (
        r#"<exchange name="a" type="bogus"/><exchange name="b" type="x-delayed-message"/>"#,
        r#"<exchange name="a" type="headers"/>"#,
    ),
};

/// Types RabbitMQ knows without plugins pass; a plugin's type is a warning naming the
/// plugin (RabbitMQ closes the whole connection when it is not enabled); `x-` alone and
/// anything else is an error. An `x-` type this tool does not know is only a warning: a
/// plugin of one's own may register it.
fn exchange_type(_: &Context, ex: &Exchange, out: &mut Vec<Diagnostic>) {
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

pub(super) const DEFAULT_EXCHANGE_DESTINATION: Rule = Rule {
    codes: &[Code::DefaultExchange],
    doc: "a binding to the default exchange `\"\"`",
    dialect: None,
    check: Check::Binding(default_exchange_destination),
    example: (
        r#"<exchange name="ex"><binding id="b" topic="t" destinationType="exchange" destination=""/></exchange>"#,
        r#"<exchange name="ex"><binding id="b" topic="t" destinationType="exchange" destination="d"/></exchange>"#,
    ),
};

fn default_exchange_destination(_: &Context, b: &Binding, out: &mut Vec<Diagnostic>) {
    if b.destination_type.value == DestinationType::Exchange && b.destination.value.is_empty() {
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
}

pub(super) const EXCHANGE_ARGUMENT_NAMES: Rule = Rule {
    codes: &[Code::NameTooLong],
    doc: "an exchange's argument name longer than 255 bytes",
    dialect: None,
    check: Check::Exchange(|_, ex, out| argument_names(&ex.arguments, out)),
    example: (
        r#"<exchange name="ex"><arguments><argument name="{256}" xsi:type="string">v</argument></arguments></exchange>"#,
        r#"<exchange name="ex"><arguments><argument name="a" xsi:type="string">v</argument></arguments></exchange>"#,
    ),
};

pub(super) const QUEUE_ARGUMENT_NAMES: Rule = Rule {
    codes: &[Code::NameTooLong],
    doc: "a `<queue>`'s argument name longer than 255 bytes (an inferred queue's arguments are its binding's, checked there)",
    dialect: None,
    check: Check::Queue(|_, q, out| {
        if q.origin == Origin::Queue {
            argument_names(&q.arguments, out);
        }
    }),
    example: (
        r#"<queue name="q"><arguments><argument name="{256}" xsi:type="string">v</argument></arguments></queue>"#,
        r#"<exchange name="ex"><binding id="b" topic="t" destination="q"><arguments><argument name="{256}" xsi:type="string">v</argument></arguments></binding></exchange>"#,
    ),
};

pub(super) const BINDING_ARGUMENT_NAMES: Rule = Rule {
    codes: &[Code::NameTooLong],
    doc: "a binding's argument name longer than 255 bytes",
    dialect: None,
    check: Check::Binding(|_, b, out| argument_names(&b.arguments, out)),
    example: (
        r#"<exchange name="ex"><binding id="b" topic="t" destination="q"><arguments><argument name="{256}" xsi:type="string">v</argument></arguments></binding></exchange>"#,
        r#"<queue name="q"><arguments><argument name="{256}" xsi:type="string">v</argument></arguments></queue>"#,
    ),
};

/// Argument names are AMQP short strings: at most 255 bytes.
fn argument_names(args: &Arguments, out: &mut Vec<Diagnostic>) {
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
