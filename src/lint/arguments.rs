//! RabbitMQ's rules for queue, exchange and binding arguments (see [`crate::rules`]).
//! Each message says what RabbitMQ would answer to the declare.

use super::{Check, Context, Rule};
use crate::diagnostic::{Code, Diagnostic, suggest};
use crate::model::{Argument, Binding, Exchange, Queue, Value};
use crate::rules::{self, Kind, QueueType, valid_max_age};

pub(super) const QUEUE_TYPE_PROPERTY: Rule = Rule {
    codes: &[Code::QueueTypeProperty],
    doc: "a quorum or stream queue that is not durable, or is auto-delete",
    dialect: None,
    check: Check::Queue(queue_type_property),
    example: (
        r#"<queue name="q" durable="false" autoDelete="true"><arguments><argument name="x-queue-type" xsi:type="string">quorum</argument></arguments></queue>"#,
        r#"<queue name="q" durable="false" autoDelete="true"/>"#,
    ),
};

fn queue_type_property(_: &Context, queue: &Queue, out: &mut Vec<Diagnostic>) {
    let Some(t) = queue_type(queue).filter(|t| *t != QueueType::Classic) else {
        return;
    };
    let name = &queue.name.value;
    let refused = |reason: &str| {
        format!("RabbitMQ answers 406 PRECONDITION_FAILED - {reason} for queue '{name}'")
    };
    if !queue.durable.value {
        out.push(
            Diagnostic::error(
                Code::QueueTypeProperty,
                format!("{} queue `{name}` is not durable", t.as_str()),
            )
            .with_label(queue.durable.span, "durable=\"false\"")
            .with_help(format!(
                "{} queues are always durable; {}",
                t.as_str(),
                refused("invalid property 'non-durable'")
            )),
        );
    }
    if queue.auto_delete.value {
        out.push(
            Diagnostic::error(
                Code::QueueTypeProperty,
                format!("{} queue `{name}` is auto-delete", t.as_str()),
            )
            .with_label(queue.auto_delete.span, "autoDelete=\"true\"")
            .with_help(format!(
                "{} queues cannot be auto-delete; {}",
                t.as_str(),
                refused("invalid property 'auto-delete'")
            )),
        );
    }
}

/// The queue's `x-queue-type`: classic when it has none, `None` when it is not a type.
fn queue_type(queue: &Queue) -> Option<QueueType> {
    match queue.arguments.get("x-queue-type").map(|a| &a.value) {
        Some(Value::Str(s)) => QueueType::parse(s),
        _ => Some(QueueType::Classic),
    }
}

pub(super) const QUEUE_ARGUMENTS: Rule = Rule {
    codes: &[
        Code::UnknownArgument,
        Code::ArgumentRange,
        Code::ArgumentType,
        Code::ArgumentValue,
        Code::ArgumentNotApplicable,
        Code::VersionDependent,
    ],
    doc: "a queue argument RabbitMQ does not know, or of the wrong type, out of range, with a value it refuses, or not of the queue's type (argument by argument)",
    dialect: None,
    check: Check::Queue(|_, queue, out| {
        let queue_type = queue_type(queue);
        for arg in queue.arguments.iter() {
            check_queue_argument(queue, arg, queue_type, out);
        }
    }),
    example: (
        r#"<queue name="q"><arguments>
            <argument name="x-queue-type" xsi:type="string">quorum</argument>
            <argument name="x-max-priority" xsi:type="number">10</argument>
            <argument name="x-overflow" xsi:type="string">reject-publish-dlx</argument>
            <argument name="x-delivery-limit" xsi:type="number">-1</argument>
            <argument name="x-dead-letter-strategy" xsi:type="string">at-most-twice</argument>
            <argument name="x-single-active-consumer" xsi:type="string">yes</argument>
            <argument name="x-bogus" xsi:type="string">v</argument>
        </arguments></queue>"#,
        r#"<queue name="q"><arguments>
            <argument name="x-queue-type" xsi:type="string">quorum</argument>
            <argument name="x-overflow" xsi:type="string">reject-publish</argument>
            <argument name="x-delivery-limit" xsi:type="number">1</argument>
            <argument name="x-single-active-consumer" xsi:type="boolean">true</argument>
            <argument name="bogus" xsi:type="string">v</argument>
        </arguments></queue>"#,
    ),
};

pub(super) const DEAD_LETTER_ROUTING_KEY: Rule = Rule {
    codes: &[Code::DeadLetterRoutingKey],
    doc: "x-dead-letter-routing-key without x-dead-letter-exchange",
    dialect: None,
    check: Check::Queue(dead_letter_routing_key),
    example: (
        r#"<queue name="q"><arguments><argument name="x-dead-letter-routing-key" xsi:type="string">k</argument></arguments></queue>"#,
        r#"<queue name="q"><arguments><argument name="x-dead-letter-routing-key" xsi:type="string">k</argument><argument name="x-dead-letter-exchange" xsi:type="string"></argument></arguments></queue>"#,
    ),
};

fn dead_letter_routing_key(_: &Context, queue: &Queue, out: &mut Vec<Diagnostic>) {
    let Some(arg) = queue.arguments.get("x-dead-letter-routing-key") else {
        return;
    };
    if queue.arguments.get("x-dead-letter-exchange").is_some() {
        return;
    }
    let name = &queue.name.value;
    out.push(
        Diagnostic::error(
            Code::DeadLetterRoutingKey,
            format!("queue `{name}` has x-dead-letter-routing-key but no x-dead-letter-exchange"),
        )
        .with_label(arg.name.span, "routing key without an exchange")
        .with_help(format!(
            "add x-dead-letter-exchange (\"\" is the default exchange); RabbitMQ answers 406 PRECONDITION_FAILED - invalid arg 'x-dead-letter-routing-key': routing_key_but_no_dlx_defined for queue '{name}'"
        )),
    );
}

fn check_queue_argument(
    queue: &Queue,
    arg: &Argument,
    queue_type: Option<QueueType>,
    out: &mut Vec<Diagnostic>,
) {
    let qname = &queue.name.value;
    let aname = &arg.name.value;
    let refused = |reason: String| {
        format!(
            "RabbitMQ answers 406 PRECONDITION_FAILED - invalid arg '{aname}' for queue '{qname}': {reason}"
        )
    };
    let Some(spec) = rules::queue_arg(aname) else {
        if aname.starts_with("x-") {
            let names = rules::queue_arg_names();
            let mut d = Diagnostic::warning(
                Code::UnknownArgument,
                format!(
                    "`{aname}` is not a queue argument RabbitMQ knows: it is stored and ignored"
                ),
            )
            .with_label(arg.name.span, "unknown x- argument");
            if let Some(s) = suggest(aname, &names) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            out.push(d);
        }
        return;
    };
    match (spec.kind, &arg.value) {
        (Kind::Int { min, max }, Value::Int(i)) => {
            if *i < min || *i > max {
                let (what, reason) = if *i < 0 {
                    (
                        "must not be negative".to_string(),
                        format!("{{value_negative,{i}}}"),
                    )
                } else if *i == 0 && min == 1 {
                    (
                        "must be greater than 0".to_string(),
                        format!("{{value_zero,{i}}}"),
                    )
                } else if aname == "x-max-priority" {
                    (
                        format!("must be at most {max}"),
                        format!("{{max_value_exceeded,{i}}}"),
                    )
                } else if *i > max {
                    (
                        format!("must be at most {max}"),
                        format!("{{value_too_large,{i}}}"),
                    )
                } else {
                    (
                        format!("must be at least {min}"),
                        format!("{{value_too_small,{i}}}"),
                    )
                };
                out.push(
                    Diagnostic::error(
                        Code::ArgumentRange,
                        format!("`{aname}` of queue `{qname}` {what}, got {i}"),
                    )
                    .with_label(arg.value_span, format!("allowed: {min}..={max}"))
                    .with_help(refused(reason)),
                );
            }
        }
        (Kind::Int { .. }, other) => out.push(
            Diagnostic::error(
                Code::ArgumentType,
                format!("`{aname}` of queue `{qname}` must be an integer, got {other}"),
            )
            .with_label(arg.value_span, format!("a {} here", other.amqp_type()))
            .with_help(refused(format!(
                "expected integer, got {}; use xsi:type=\"number\" with an integer",
                other.amqp_type()
            ))),
        ),
        (Kind::Str, Value::Str(_)) => {}
        (Kind::Bool, Value::Bool(_)) => {}
        (Kind::Enum(allowed), Value::Str(s)) => {
            if !allowed.contains(&s.as_str()) {
                let mut d = Diagnostic::error(
                    Code::ArgumentValue,
                    format!("`{aname}` of queue `{qname}` cannot be \"{s}\""),
                )
                .with_label(arg.value_span, format!("one of: {}", allowed.join(", ")))
                .with_help(refused(match aname.as_str() {
                    "x-queue-type" => format!("unsupported queue type '{s}'"),
                    "x-overflow" => "invalid_overflow".to_string(),
                    _ => format!("invalid value \"{s}\""),
                }));
                if let Some(s) = suggest(s, allowed) {
                    let help = d.help.take().unwrap_or_default();
                    d = d.with_help(format!("did you mean \"{s}\"? {help}"));
                }
                out.push(d);
            }
        }
        (Kind::MaxAge, Value::Str(s)) => {
            if !valid_max_age(s) {
                out.push(
                    Diagnostic::error(
                        Code::ArgumentValue,
                        format!("`x-max-age` of queue `{qname}` is not a duration: \"{s}\""),
                    )
                    .with_label(
                        arg.value_span,
                        "expected digits then Y, M, D, h, m or s, e.g. 7D",
                    )
                    .with_help(refused("invalid_max_age".to_string())),
                );
            }
        }
        (kind, other) => {
            let want = match kind {
                Kind::Bool => "a boolean",
                _ => "a string",
            };
            out.push(
                Diagnostic::error(
                    Code::ArgumentType,
                    format!("`{aname}` of queue `{qname}` must be {want}, got {other}"),
                )
                .with_label(arg.value_span, format!("a {} here", other.amqp_type()))
                .with_help(match kind {
                    Kind::Bool => refused(format!("{{unacceptable_type,{}}}", other.amqp_type())),
                    _ => format!(
                        "RabbitMQ answers 406 PRECONDITION_FAILED - invalid type '{}' for arg '{aname}'",
                        amqp_erlang_type(other)
                    ),
                }),
            );
        }
    }
    if let Some(t) = queue_type {
        if !spec.types.contains(&t) {
            // Verified on 3.10: every queue type refuses the others' arguments, classic too.
            let d = Diagnostic::error(
                Code::ArgumentNotApplicable,
                format!("`{aname}` does not apply to {} queue `{qname}`", t.as_str()),
            )
            .with_help(refused(format!("of queue type {}", t.module())));
            out.push(d.with_label(
                arg.name.span,
                format!(
                "applies to: {}",
                spec.types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
            ),
            ));
        } else if t == QueueType::Quorum
            && aname == "x-overflow"
            && arg.value == Value::Str("reject-publish-dlx".into())
        {
            out.push(
                Diagnostic::warning(
                    Code::VersionDependent,
                    format!("quorum queue `{qname}` uses x-overflow \"reject-publish-dlx\""),
                )
                .with_label(arg.value_span, "accepted by RabbitMQ 3.x, refused by 4.x")
                .with_help("use \"reject-publish\" or \"drop-head\" for quorum queues"),
            );
        }
    }
}

fn amqp_erlang_type(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "long",
        Value::Float(_) => "double",
        Value::Str(_) => "longstr",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
    }
}

pub(super) const ALTERNATE_EXCHANGE_TYPE: Rule = Rule {
    codes: &[Code::ArgumentType],
    doc: "an exchange's `alternate-exchange` that is not a string",
    dialect: None,
    check: Check::Exchange(alternate_exchange_type),
    example: (
        r#"<exchange name="ex"><arguments><argument name="alternate-exchange" xsi:type="number">1</argument></arguments></exchange>"#,
        r#"<exchange name="ex"><arguments><argument name="alternate-exchange" xsi:type="string">ae</argument></arguments></exchange>"#,
    ),
};

fn alternate_exchange_type(_: &Context, exchange: &Exchange, out: &mut Vec<Diagnostic>) {
    if let Some(arg) = exchange.arguments.get("alternate-exchange")
        && !matches!(arg.value, Value::Str(_))
    {
        out.push(
                Diagnostic::error(
                    Code::ArgumentType,
                    format!(
                        "`alternate-exchange` of exchange `{}` must be a string, got {}",
                        exchange.name.value, arg.value
                    ),
                )
                .with_label(arg.value_span, format!("a {} here", arg.value.amqp_type()))
                .with_help("RabbitMQ answers 406 PRECONDITION_FAILED - invalid type for arg 'alternate-exchange'"),
            );
    }
}

pub(super) const X_MATCH: Rule = Rule {
    codes: &[Code::ArgumentValue],
    doc: "a binding of a headers exchange whose `x-match` is not all, any, all-with-x or any-with-x",
    dialect: None,
    check: Check::Binding(x_match),
    example: (
        r#"<exchange name="h" type="headers"><binding id="b" topic="t" destination="q"><arguments><argument name="x-match" xsi:type="string">some</argument></arguments></binding></exchange>"#,
        r#"<exchange name="h" type="headers"><binding id="b" topic="t" destination="q"><arguments><argument name="x-match" xsi:type="string">any</argument></arguments></binding></exchange>"#,
    ),
};

fn x_match(cx: &Context, b: &Binding, out: &mut Vec<Diagnostic>) {
    let Some(arg) = b.arguments.get("x-match") else {
        return;
    };
    if !cx
        .headers
        .contains(&(b.connection.as_str(), b.source.as_str()))
    {
        return;
    }
    let exchange = &b.source;
    let ok = matches!(&arg.value, Value::Str(s) if rules::X_MATCH.contains(&s.as_str()));
    if !ok {
        out.push(
            Diagnostic::error(
                Code::ArgumentValue,
                format!(
                    "`x-match` of a binding on headers exchange `{exchange}` cannot be {}",
                    arg.value
                ),
            )
            .with_label(
                arg.value_span,
                format!("one of: {}", rules::X_MATCH.join(", ")),
            )
            .with_help("RabbitMQ answers 406 PRECONDITION_FAILED - invalid x-match field"),
        );
    }
}
