//! Diagnostics: what every stage reports about the files, with a stable code, a severity
//! and labelled spans. Stages only build them; renderers in `render` print them.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::source::Span;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

macro_rules! codes {
    ($($variant:ident => $code:literal, $desc:literal;)*) => {
        /// Stable, kebab-case codes. Documented in `docs/diagnostics.md`; never renamed.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $desc,)* }
            }
        }
    };
}

codes! {
    Unreadable => "unreadable", "a file could not be read";
    NoFiles => "no-topology-files", "no queue_topology.xml was found under the given paths";
    Encoding => "xml-encoding", "the file is not valid in its encoding, or declares an encoding this tool does not read";
    Syntax => "xml-syntax", "the file is not well-formed XML";
    Doctype => "xml-doctype", "a DOCTYPE declaration: entities are never expanded nor fetched";
    Entity => "xml-entity", "a reference to an entity other than XML's five predefined ones";
    TooDeep => "xml-too-deep", "elements nested deeper than the format allows";
    WrongRoot => "wrong-root", "the root element is not <config>";
    UnknownElement => "unknown-element", "an element the format does not define";
    UnknownAttribute => "unknown-attribute", "an attribute the format does not define";
    MissingAttribute => "missing-attribute", "a required attribute is missing";
    DuplicateId => "duplicate-id", "the same id, name or key twice in one file";
    InvalidBoolean => "invalid-boolean", "a boolean that is not true, false, 1 or 0";
    MissingType => "missing-type", "an <argument> or <item> without xsi:type";
    InvalidType => "invalid-type", "an xsi:type other than string, number, boolean or array";
    InvalidNumber => "invalid-number", "an xsi:type=\"number\" whose text is not a number";
    InvalidValue => "invalid-value", "an attribute value outside its allowed set";
    BindingCollapsed => "binding-collapsed", "two bindings with the same destination and topic: the later wins";
    InferredQueueArguments => "inferred-queue-arguments", "bindings infer one queue with different arguments: the last wins";
    TwoConnections => "queue-in-two-connections", "the same queue name on two connections";
    MagentoInstall => "magento-install", "something in a Magento install that cannot be read the way Magento reads it without running PHP";
    ArgumentsReplaced => "arguments-replaced", "a second <arguments> block in one element: Magento keeps only the last";
    ExchangeReplaced => "exchange-replaced", "a later <exchange> replaces an earlier one's attributes, bindings or arguments, as Magento's converter does (an element without `connection` is not merged with another)";
    StringAsInteger => "string-as-integer", "a numeric argument value (a string, or a number with a fraction) that Magento sends as PHP's (int) of it";
    ArgumentType => "argument-type", "an argument of the wrong AMQP type";
    ArgumentRange => "argument-range", "an integer argument out of RabbitMQ's range";
    ArgumentValue => "argument-value", "an argument value RabbitMQ does not accept";
    ArgumentNotApplicable => "argument-not-applicable", "an argument that does not apply to the queue type";
    UnknownArgument => "unknown-argument", "an x- argument RabbitMQ does not know";
    DeadLetterRoutingKey => "dead-letter-routing-key-without-exchange", "x-dead-letter-routing-key without x-dead-letter-exchange";
    QueueTypeProperty => "queue-type-property", "a quorum or stream queue that is not durable, or is auto-delete";
    ExchangeType => "exchange-type", "an exchange type RabbitMQ does not know";
    ExchangePlugin => "exchange-plugin", "an x- exchange type that only a plugin registers: RabbitMQ closes the connection unless it is enabled";
    DefaultExchange => "default-exchange", "the default exchange \"\" declared, or bound from or to";
    BuiltinExchange => "builtin-exchange", "a built-in amq.* exchange declared with properties other than its own";
    MagentoExchangeType => "magento-exchange-type", "an exchange type other than topic, which Magento refuses (Magento dialect)";
    MagentoDestinationType => "magento-destination-type", "a binding to an exchange, which Magento refuses (Magento dialect)";
    MagentoBindingTopic => "magento-binding-topic", "a binding of a topic exchange without a topic, which Magento refuses (Magento dialect)";
    ReservedName => "reserved-name", "a name starting with amq., reserved by RabbitMQ";
    NameTooLong => "name-too-long", "a name, argument name or routing key longer than 255 bytes";
    UndeclaredExchange => "undeclared-exchange", "an exchange that the topology never declares";
    CrossConnection => "cross-connection", "a binding to an entity on another connection";
    QueueNameCase => "queue-name-case", "queue names that differ only in case";
    VersionDependent => "version-dependent", "accepted by some RabbitMQ versions, refused by others";
}

/// A labelled place in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    /// Mostly a fixed text (`not part of the format`): a million labels cost no allocation.
    pub text: std::borrow::Cow<'static, str>,
}

/// One finding. The first label is the primary location (`file`, `line`, `column` in JSON).
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Nearly always one: held inline.
    pub labels: SmallVec<[Label; 1]>,
    /// Shared: the same help on a million diagnostics is one text.
    pub help: Option<Arc<str>>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: SmallVec::new(),
            help: None,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn with_label(
        mut self,
        span: Span,
        text: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Diagnostic {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    /// This diagnostic with its code's general fix as help, when it has no help of its own.
    pub fn or_default_help(mut self) -> Diagnostic {
        if self.help.is_none() {
            self.help = Some(self.code.fix().into());
        }
        self
    }

    pub fn with_help(mut self, help: impl Into<Arc<str>>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn primary(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
}

impl Code {
    /// How to fix what this code reports, in general (a diagnostic says more where it can).
    pub fn fix(self) -> &'static str {
        use Code::*;
        match self {
            Unreadable => {
                "make the file readable (permissions, size), or leave it out of the paths"
            }
            NoFiles => "give the files, or directories holding them (searched recursively)",
            Encoding => "save the file as UTF-8",
            Syntax => {
                "fix the XML so that it is well-formed (every element closed, in order; attribute values quoted): Magento refuses a file that is not"
            }
            Doctype => "remove the DOCTYPE",
            Entity => {
                "write `&amp;` for a literal `&`; only XML's five entities (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;`) and character references exist"
            }
            TooDeep => {
                "flatten the file: the format nests <config>, <exchange>, <binding>, <arguments>, <argument> and <item>"
            }
            WrongRoot => "a queue_topology.xml has <config> as its root element",
            UnknownElement => "remove the element, or fix its name",
            UnknownAttribute => "remove the attribute, or fix its name",
            MissingAttribute => "add the attribute",
            DuplicateId => "declare it once per file, or give the second one another id or name",
            InvalidBoolean => "write true or false (or 1 or 0)",
            MissingType => "add xsi:type=\"string\", \"number\", \"boolean\" or \"array\"",
            InvalidType => "use xsi:type=\"string\", \"number\", \"boolean\" or \"array\"",
            InvalidNumber => "write an integer, or use xsi:type=\"string\"",
            InvalidValue => "use one of the values the attribute allows",
            BindingCollapsed => {
                "remove one of the two bindings, or give them different destinations or topics"
            }
            InferredQueueArguments => {
                "declare the queue with a first-class <queue> element to say which arguments it has"
            }
            TwoConnections => "if they should be one queue, declare it on one connection",
            MagentoInstall => {
                "register the module with `__DIR__` in its registration.php, or give its etc/ directory as a PATH"
            }
            ArgumentsReplaced => "put every argument in one <arguments> block",
            ExchangeReplaced => {
                "add the same `connection` attribute to both <exchange> elements, so that Magento merges them attribute by attribute"
            }
            StringAsInteger => "write the integer RabbitMQ should get, with xsi:type=\"number\"",
            ArgumentType => "give the argument the type RabbitMQ expects",
            ArgumentRange => "use a value within RabbitMQ's range",
            ArgumentValue => "use a value RabbitMQ accepts",
            ArgumentNotApplicable => "remove the argument, or change the queue type",
            UnknownArgument => "remove the argument, or fix its name",
            DeadLetterRoutingKey => {
                "add x-dead-letter-exchange, or remove x-dead-letter-routing-key"
            }
            QueueTypeProperty => "make the queue durable and not auto-delete",
            ExchangeType => {
                "use direct, fanout, topic, headers, or an x- type of an enabled plugin"
            }
            MagentoExchangeType => {
                "use type=\"topic\", or --dialect rabbitmq if Magento never reads the file"
            }
            MagentoDestinationType => {
                "bind queues only, or --dialect rabbitmq if Magento never reads the file"
            }
            MagentoBindingTopic => "add topic=\"...\" (`#` matches every routing key)",
            ReservedName => "choose a name that does not start with `amq.`",
            NameTooLong => "shorten it to 255 bytes or fewer",
            UndeclaredExchange => "declare the exchange in a topology file, or fix the name",
            CrossConnection => "declare both ends on the same connection",
            QueueNameCase => "use one spelling for the queue",
            VersionDependent => "use a form every RabbitMQ version accepts",
            ExchangePlugin => {
                "enable the plugin that registers this exchange type on every node before applying"
            }
            DefaultExchange => {
                "name a declared exchange: the default exchange `\"\"` routes to every queue by its name and cannot be declared or bound"
            }
            BuiltinExchange => {
                "declare it with the built-in properties, or use an exchange of your own name"
            }
        }
    }
}

/// Counts of a diagnostic list, for exit codes and summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
}

impl Tally {
    pub fn of(diagnostics: &[Diagnostic]) -> Tally {
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        Tally {
            errors,
            warnings: diagnostics.len() - errors,
        }
    }
}

/// "Did you mean" helper: the candidate closest to `word`, if close enough to be a typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
            );
            assert!(!code.description().is_empty());
        }
    }

    #[test]
    fn suggests_near_misses_only() {
        let attrs = ["name", "autoDelete", "durable", "connection"];
        assert_eq!(suggest("autodelete", &attrs), Some("autoDelete"));
        assert_eq!(suggest("durabel", &attrs), Some("durable"));
        assert_eq!(suggest("colour", &attrs), None);
    }
}
