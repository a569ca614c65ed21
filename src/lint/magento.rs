//! What Magento refuses when it loads a topology (`--dialect magento`, the default).
//!
//! Takes: the merged topology. Gives: one error per element Magento's topology validators
//! (MessageQueue/Topology/Config/Validator: `FieldsTypes`, `DependentFields`, `Format`) throw
//! a `LogicException` for. Magento throws on the first one and refuses the whole topology
//! (setup:upgrade logs it and declares nothing), so each of these breaks a store, not just
//! the entity at fault. `--dialect rabbitmq` skips this stage for files that Magento never
//! reads.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{DestinationType, Topology};
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

/// Magento's validators over `topology`, in declaration order.
pub fn check(topology: &Topology, out: &mut Vec<Diagnostic>) {
    for ex in &topology.exchanges {
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
    let topic_exchanges: rustc_hash::FxHashSet<(&str, &str)> = topology
        .exchanges
        .iter()
        .filter(|e| e.kind.value == "topic")
        .map(|e| (e.connection.value.as_str(), e.name.value.as_str()))
        .collect();
    for b in &topology.bindings {
        // (made only for a refusal: a million bindings are fine)
        let key = || format!("{}--{}", b.source, b.connection);
        if b.destination_type.value == DestinationType::Exchange {
            out.push(refusal(
                Code::MagentoDestinationType,
                format!(
                    "binding `{}` of exchange `{}` binds to an exchange: Magento accepts only destinationType=\"queue\"",
                    b.id.value, b.source
                ),
                (b.destination_type.span, "Magento refuses this destination type"),
                format!(
                    "Value of 'destinationType' field specified in configuration of '{}' exchange is invalid. Given 'exchange', 'queue' was expected.",
                    key()
                ),
                "bind the queues to this exchange directly",
            ));
        }
        if !b.topic_given && topic_exchanges.contains(&(b.connection.as_str(), b.source.as_str())) {
            out.push(refusal(
                Code::MagentoBindingTopic,
                format!(
                    "binding `{}` of topic exchange `{}` has no topic",
                    b.id.value, b.source
                ),
                (b.id.span, "this binding needs a `topic` attribute"),
                format!("Topic name is required for topic based exchange: {}", key()),
                "add topic=\"...\" (`#` matches every routing key)",
            ));
        }
    }
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
