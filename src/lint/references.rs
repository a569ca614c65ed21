//! What names another entity: exchanges the topology never declares (or declares on another
//! connection), and queues that RabbitMQ tells apart but a reader does not.

use rustc_hash::FxHashMap as HashMap;

use super::{Check, Context, Dialect, Rule, lowercase};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Arguments, Binding, DestinationType, Queue, Value};
use crate::source::Span;

pub(super) const QUEUE_NAME_CASE: Rule = Rule {
    codes: &[Code::QueueNameCase],
    doc: "a queue whose name differs only in case from an earlier one's on its connection",
    dialect: None,
    check: Check::Queue(queue_name_case),
    example: (
        r#"<queue name="Orders"/><queue name="orders"/>"#,
        r#"<queue name="Orders"/><queue name="orders" connection="db"/>"#,
    ),
};

fn queue_name_case(cx: &Context, q: &Queue, out: &mut Vec<Diagnostic>) {
    if cx.first_by_case.is_empty() {
        return;
    }
    let name = q.name.value.as_str();
    let key = (q.connection.value.as_str(), lowercase(name));
    if let Some(first) = cx.first_by_case.get(&key)
        && first.value != name
    {
        let (first, span) = (&first.value, first.span);
        out.push(
            Diagnostic::warning(
                Code::QueueNameCase,
                format!("queues `{first}` and `{name}` differ only in case"),
            )
            .with_label(q.name.span, "this queue")
            .with_label(span, "and this one")
            .with_help("RabbitMQ treats them as two queues; a consumer of one never sees the other's messages"),
        );
    }
}

pub(super) const UNDECLARED_ARGUMENT_EXCHANGE: Rule = Rule {
    codes: &[Code::UndeclaredExchange],
    doc: "a dead-letter or alternate exchange the topology never declares on the connection of the queue or exchange naming it (once per exchange)",
    dialect: None,
    check: Check::Topology(undeclared_argument_exchanges),
    example: (
        r#"<exchange name="ex"><arguments><argument name="alternate-exchange" xsi:type="string">ae</argument></arguments></exchange>
           <queue name="q"><arguments><argument name="x-dead-letter-exchange" xsi:type="string">dlx</argument></arguments></queue>"#,
        r#"<exchange name="ae"/><exchange name="ex"><arguments><argument name="alternate-exchange" xsi:type="string">ae</argument></arguments></exchange>
           <queue name="q"><arguments><argument name="x-dead-letter-exchange" xsi:type="string">amq.direct</argument></arguments></queue>"#,
    ),
};

/// One warning per exchange, however many queues or exchanges name it, in the order of
/// the first to name it.
fn undeclared_argument_exchanges(cx: &Context, out: &mut Vec<Diagnostic>) {
    // (connection, exchange, role) → who names it (owner, span), in declaration order
    type Users<'a> = Vec<(&'a str, Span)>;
    let mut missing: HashMap<(&str, &str, &str), Users> = HashMap::default();
    let t = cx.topology;
    let exchanges = t.exchanges.iter().map(|e| {
        let role = ("alternate-exchange", "alternate exchange");
        (&e.connection.value, &e.name.value, &e.arguments, role)
    });
    let queues = t.queues.iter().map(|q| {
        let role = ("x-dead-letter-exchange", "dead-letter exchange");
        (&q.connection.value, &q.name.value, &q.arguments, role)
    });
    for (connection, owner, arguments, (key, role)) in exchanges.chain(queues) {
        if let Some((exchange, span)) = exchange_ref(arguments, key)
            && !cx.is_declared(connection, exchange)
        {
            let users = missing.entry((connection, exchange, role)).or_default();
            users.push((owner, span));
        }
    }
    let mut missing: Vec<_> = missing.into_iter().collect();
    missing.sort_by_key(|(_, users)| users.first().map(|(_, span)| (span.file, span.start)));
    for ((_, exchange, role), users) in missing {
        out.push(undeclared(exchange, role, &users));
    }
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

/// `users`: who names the exchange, in declaration order (never empty).
fn undeclared(exchange: &str, role: &str, users: &[(&str, Span)]) -> Diagnostic {
    let (owner, span) = users[0];
    let others = match users.len() - 1 {
        0 => String::new(),
        1 => format!(" (also named by `{}`)", users[1].0),
        n => format!(" (also named by {} more)", crate::text::thousands(n as u64)),
    };
    Diagnostic::warning(
        Code::UndeclaredExchange,
        format!("{role} `{exchange}` of `{owner}` is not declared by the topology{others}"),
    )
    .with_label(span, "never declared")
    .with_help("RabbitMQ accepts it, but messages sent there are dropped until the exchange exists")
}

pub(super) const UNDECLARED_DESTINATION: Rule = Rule {
    codes: &[Code::CrossConnection, Code::UndeclaredExchange],
    doc: "a binding to an exchange declared only on another connection, or nowhere",
    dialect: Some(Dialect::Rabbitmq),
    check: Check::Binding(undeclared_destination),
    example: (
        r#"<exchange name="ex"><binding id="a" topic="t" destinationType="exchange" destination="other"/>
           <binding id="b" topic="t" destinationType="exchange" destination="nowhere"/></exchange>
           <exchange name="other" connection="db"/>"#,
        r#"<exchange name="ex"><binding id="a" topic="t" destinationType="exchange" destination="other"/>
           <binding id="b" topic="t" destinationType="exchange" destination="amq.fanout"/>
           <binding id="c" topic="t" destinationType="exchange" destination="nowhere" disabled="true"/></exchange>
           <exchange name="other"/>"#,
    ),
};

fn undeclared_destination(cx: &Context, b: &Binding, out: &mut Vec<Diagnostic>) {
    if b.destination_type.value != DestinationType::Exchange || b.disabled {
        return;
    }
    let dest = &b.destination.value;
    if cx.is_declared(&b.connection, dest) {
        return;
    }
    match cx.connections_of.get(dest.as_str()) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    /// Counts of users read like every other count (a thousands separator).
    #[test]
    fn many_users_are_counted_with_a_separator() {
        let users: Vec<(&str, Span)> = (0..1_235)
            .map(|_| ("q", Span::new(FileId(0), 0, 1)))
            .collect();
        let d = undeclared("dlx", "dead-letter exchange", &users);
        assert!(
            d.message.ends_with("(also named by 1,234 more)"),
            "{}",
            d.message
        );
    }
}
