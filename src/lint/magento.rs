//! What Magento refuses when it loads a topology (`--dialect magento`, the default).
//!
//! Takes: the merged topology. Gives: one error per element Magento's topology validators
//! (MessageQueue/Topology/Config/Validator: `FieldsTypes`, `DependentFields`, `Format`) throw
//! a `LogicException` for. Magento throws on the first one and refuses the whole topology
//! (setup:upgrade logs it and declares nothing), so each of these breaks a store, not just
//! the entity at fault. `--dialect rabbitmq` skips this stage for files that Magento never
//! reads.

use super::{Check, Context, Rule};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Binding, DestinationType, Exchange};
use crate::source::Span;

/// Which rules the files follow.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    // Magento's: what Magento refuses when it loads the topology is an error. (Plain
    // comments: doc comments would turn `--help` into its long form.)
    #[default]
    Magento,
    // RabbitMQ's: every exchange type, exchange-to-exchange bindings.
    Rabbitmq,
}

const DIALECT_HELP: &str = "if Magento never reads this file, lint it with --dialect rabbitmq (or TOPOLOGY_DIALECT=rabbitmq)";

pub(super) const EXCHANGE_TYPE: Rule = Rule {
    codes: &[Code::MagentoExchangeType],
    doc: "an exchange type other than topic (Magento's `FieldsTypes` validator)",
    dialect: Some(Dialect::Magento),
    check: Check::Exchange(exchange_type),
    example: (
        r#"<exchange name="ex" type="direct"/>"#,
        r#"<exchange name="ex" type="topic"/>"#,
    ),
};

fn exchange_type(_: &Context, ex: &Exchange, out: &mut Vec<Diagnostic>) {
    let kind = &ex.kind.value;
    if kind != "topic" {
        out.push(refusal(
            Code::MagentoExchangeType,
            format!(
                "exchange `{}` has type \"{kind}\": Magento accepts only topic exchanges",
                ex.name.value
            ),
            (ex.kind.span, "Magento refuses this type"),
            format!(
                "Value of 'type' field specified in configuration of '{}--{}' exchange is invalid. Given '{kind}', 'topic' was expected.",
                ex.name.value, ex.connection.value
            ),
            "use type=\"topic\" (a binding whose topic is the exact routing key routes as direct does, `#` as fanout does)",
        ));
    }
}

pub(super) const DESTINATION_TYPE: Rule = Rule {
    codes: &[Code::MagentoDestinationType],
    doc: "a binding to an exchange (Magento's `FieldsTypes` validator)",
    dialect: Some(Dialect::Magento),
    check: Check::Binding(destination_type),
    example: (
        r#"<exchange name="ex"><binding id="b" topic="t" destinationType="exchange" destination="ex2"/></exchange>"#,
        r#"<exchange name="ex"><binding id="b" topic="t" destinationType="queue" destination="ex2"/></exchange>"#,
    ),
};

fn destination_type(_: &Context, b: &Binding, out: &mut Vec<Diagnostic>) {
    if b.destination_type.value == DestinationType::Exchange {
        out.push(binding_refusal(
            b,
            Code::MagentoDestinationType,
            format!("of exchange `{}` binds to an exchange: Magento accepts only destinationType=\"queue\"", b.source),
            (b.destination_type.span, "Magento refuses this destination type"),
            ("Value of 'destinationType' field specified in configuration of '", "' exchange is invalid. Given 'exchange', 'queue' was expected."),
            "bind the queues to this exchange directly",
        ));
    }
}

pub(super) const BINDING_TOPIC: Rule = Rule {
    codes: &[Code::MagentoBindingTopic],
    doc: "a binding of a topic exchange without a topic (Magento's `DependentFields` validator)",
    dialect: Some(Dialect::Magento),
    check: Check::Binding(binding_topic),
    example: (
        r#"<exchange name="ex"><binding id="b" destination="q"/></exchange>"#,
        r#"<exchange name="ex"><binding id="b" topic="" destination="q"/></exchange>"#,
    ),
};

fn binding_topic(cx: &Context, b: &Binding, out: &mut Vec<Diagnostic>) {
    if !b.topic_given
        && cx
            .topics
            .contains(&(b.connection.as_str(), b.source.as_str()))
    {
        out.push(binding_refusal(
            b,
            Code::MagentoBindingTopic,
            format!("of topic exchange `{}` has no topic", b.source),
            (b.id.span, "this binding needs a `topic` attribute"),
            ("Topic name is required for topic based exchange: ", ""),
            "add topic=\"...\" (`#` matches every routing key)",
        ));
    }
}

/// [`refusal`] of binding `b`: `what` follows the binding's name in the message, and the
/// exchange's key (`source--connection`) stands between the two halves of `thrown` (made
/// only for a refusal: a million bindings are fine).
fn binding_refusal(
    b: &Binding,
    code: Code,
    what: String,
    label: (Span, &str),
    thrown: (&str, &str),
    fix: &str,
) -> Diagnostic {
    let thrown = format!("{}{}--{}{}", thrown.0, b.source, b.connection, thrown.1);
    refusal(
        code,
        format!("binding `{}` {what}", b.id.value),
        label,
        thrown,
        fix,
    )
}
/// An error at `label` for what Magento refuses with the LogicException text `thrown`.
fn refusal(
    code: Code,
    message: String,
    (span, label): (Span, &str),
    thrown: String,
    fix: &str,
) -> Diagnostic {
    Diagnostic::error(code, message)
        .with_label(span, label.to_string())
        .with_help(format!(
            "Magento refuses the whole topology (\"{thrown}\"), so it declares nothing; {fix}; {DIALECT_HELP}"
        ))
}
