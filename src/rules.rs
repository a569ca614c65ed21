//! RabbitMQ's own rules for queue arguments, as a table.
//!
//! Each entry was checked against a real broker (RabbitMQ 3.10.8; see
//! `tests/it/broker_rules.rs`, which declares every case and asserts the broker's answer).
//! Used by the model (to send integer arguments given as strings as integers, as Magento
//! does) and by lint (to report what the broker would refuse, before it sees it).

/// The queue types of `x-queue-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueType {
    Classic,
    Quorum,
    Stream,
}

impl QueueType {
    pub fn parse(s: &str) -> Option<QueueType> {
        match s {
            "classic" => Some(QueueType::Classic),
            "quorum" => Some(QueueType::Quorum),
            "stream" => Some(QueueType::Stream),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QueueType::Classic => "classic",
            QueueType::Quorum => "quorum",
            QueueType::Stream => "stream",
        }
    }

    /// The module name RabbitMQ puts in its "not applicable" errors.
    pub fn module(self) -> &'static str {
        match self {
            QueueType::Classic => "rabbit_classic_queue",
            QueueType::Quorum => "rabbit_quorum_queue",
            QueueType::Stream => "rabbit_stream_queue",
        }
    }
}

/// What values an argument takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// An AMQP integer in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    Str,
    Bool,
    /// A string from a fixed set.
    Enum(&'static [&'static str]),
    /// `x-max-age`: digits then one of Y M D h m s.
    MaxAge,
}

/// One known queue argument.
#[derive(Clone, Copy, Debug)]
pub struct ArgSpec {
    pub name: &'static str,
    pub kind: Kind,
    /// Queue types that accept it.
    pub types: &'static [QueueType],
}

use QueueType::{Classic as C, Quorum as Q, Stream as S};

/// RabbitMQ's largest expiry timer: TTLs and `x-expires` above it are refused.
pub const MAX_EXPIRY: i64 = 4_294_967_295;

/// Integers from 0, and from 1, up to AMQP's largest.
const COUNT: Kind = int(0, i64::MAX);
const POSITIVE: Kind = int(1, i64::MAX);

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

const fn arg(name: &'static str, kind: Kind, types: &'static [QueueType]) -> ArgSpec {
    ArgSpec { name, kind, types }
}

/// Every queue argument RabbitMQ knows: name, values, the queue types that accept it.
pub const QUEUE_ARGS: &[ArgSpec] = &[
    arg("x-message-ttl", int(0, MAX_EXPIRY), &[C, Q]),
    arg("x-expires", int(1, MAX_EXPIRY), &[C, Q]),
    arg("x-max-length", COUNT, &[C, Q]),
    arg("x-max-length-bytes", COUNT, &[C, Q, S]),
    arg("x-max-priority", int(0, 255), &[C]),
    arg(
        "x-overflow",
        Kind::Enum(&["drop-head", "reject-publish", "reject-publish-dlx"]),
        &[C, Q],
    ),
    arg("x-dead-letter-exchange", Kind::Str, &[C, Q]),
    arg("x-dead-letter-routing-key", Kind::Str, &[C, Q]),
    arg(
        "x-dead-letter-strategy",
        Kind::Enum(&["at-most-once", "at-least-once"]),
        &[Q],
    ),
    arg("x-single-active-consumer", Kind::Bool, &[C, Q]),
    arg(
        "x-queue-type",
        Kind::Enum(&["classic", "quorum", "stream"]),
        &[C, Q, S],
    ),
    arg("x-queue-mode", Kind::Enum(&["default", "lazy"]), &[C]),
    arg("x-queue-version", int(1, 2), &[C]),
    arg(
        "x-queue-master-locator",
        Kind::Enum(&["min-masters", "client-local", "random"]),
        &[C],
    ),
    arg(
        "x-queue-leader-locator",
        Kind::Enum(&["client-local", "balanced", "random", "least-leaders"]),
        &[Q, S],
    ),
    arg("x-delivery-limit", COUNT, &[Q]),
    arg("x-quorum-initial-group-size", POSITIVE, &[Q]),
    arg("x-max-in-memory-length", COUNT, &[Q]),
    arg("x-max-in-memory-bytes", COUNT, &[Q]),
    arg("x-max-age", Kind::MaxAge, &[S]),
    arg("x-stream-max-segment-size-bytes", COUNT, &[S]),
    arg("x-initial-cluster-size", POSITIVE, &[S]),
];

/// Names of every known queue argument, for "did you mean".
pub fn queue_arg_names() -> Vec<&'static str> {
    QUEUE_ARGS.iter().map(|a| a.name).collect()
}

pub fn queue_arg(name: &str) -> Option<&'static ArgSpec> {
    QUEUE_ARGS.iter().find(|a| a.name == name)
}

/// True when RabbitMQ requires the queue argument `name` to be an integer.
pub fn is_integer_queue_arg(name: &str) -> bool {
    matches!(
        queue_arg(name),
        Some(ArgSpec {
            kind: Kind::Int { .. },
            ..
        })
    )
}

/// `x-max-age` syntax: one or more digits, then a unit among Y M D h m s.
pub fn valid_max_age(s: &str) -> bool {
    let Some(unit) = s.chars().last() else {
        return false;
    };
    let digits = &s[..s.len() - unit.len_utf8()];
    "YMDhms".contains(unit) && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Exchange types RabbitMQ knows without plugins; `x-…` types come from plugins.
pub const EXCHANGE_TYPES: &[&str] = &["direct", "fanout", "topic", "headers"];

/// Exchange types of RabbitMQ's plugins, with the plugin that registers each: declaring one
/// while its plugin is not enabled gets 503 COMMAND_INVALID, which closes the connection.
pub const PLUGIN_EXCHANGE_TYPES: &[(&str, &str)] = &[
    ("x-delayed-message", "rabbitmq_delayed_message_exchange"),
    ("x-consistent-hash", "rabbitmq_consistent_hash_exchange"),
    ("x-random", "rabbitmq_random_exchange"),
    ("x-modulus-hash", "rabbitmq_sharding"),
    ("x-recent-history", "rabbitmq_recent_history_exchange"),
    ("x-jms-topic", "rabbitmq_jms_topic_exchange"),
    ("x-lvc", "rabbitmq_lvc_exchange"),
];

/// The plugin that registers exchange type `kind`, if RabbitMQ's own plugins have it.
pub fn exchange_plugin(kind: &str) -> Option<&'static str> {
    PLUGIN_EXCHANGE_TYPES
        .iter()
        .find(|(t, _)| *t == kind)
        .map(|(_, plugin)| *plugin)
}

/// One exchange every vhost has, as RabbitMQ declares it: durable, not auto-delete, no
/// arguments. Checked against 3.10.8 by `tests/it/broker_rules.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Builtin {
    pub name: &'static str,
    pub kind: &'static str,
    pub internal: bool,
}

/// The named built-in exchanges (the default exchange `""` aside: nothing may declare it,
/// nor bind from or to it).
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "amq.direct",
        kind: "direct",
        internal: false,
    },
    Builtin {
        name: "amq.fanout",
        kind: "fanout",
        internal: false,
    },
    Builtin {
        name: "amq.topic",
        kind: "topic",
        internal: false,
    },
    Builtin {
        name: "amq.headers",
        kind: "headers",
        internal: false,
    },
    Builtin {
        name: "amq.match",
        kind: "headers",
        internal: false,
    },
    Builtin {
        name: "amq.rabbitmq.trace",
        kind: "topic",
        internal: true,
    },
];

pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// Exchanges every vhost has: they count as declared.
pub const BUILTIN_EXCHANGES: &[&str] = &[
    "",
    "amq.direct",
    "amq.fanout",
    "amq.topic",
    "amq.headers",
    "amq.match",
    "amq.rabbitmq.trace",
];

/// `x-match` values of a headers binding.
pub const X_MATCH: &[&str] = &["all", "any", "all-with-x", "any-with-x"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_syntax() {
        for ok in ["1D", "30m", "7Y", "100s", "12h", "3M"] {
            assert!(valid_max_age(ok), "{ok}");
        }
        for bad in ["5X", "D", "", "1.5h", "-1D", "10"] {
            assert!(!valid_max_age(bad), "{bad}");
        }
    }

    #[test]
    fn every_named_builtin_counts_as_declared() {
        for b in BUILTINS {
            assert!(BUILTIN_EXCHANGES.contains(&b.name), "{}", b.name);
        }
        assert_eq!(
            BUILTIN_EXCHANGES.len(),
            BUILTINS.len() + 1,
            "and the default one"
        );
    }

    #[test]
    fn integer_arguments() {
        assert!(is_integer_queue_arg("x-message-ttl"));
        assert!(is_integer_queue_arg("x-max-priority"));
        assert!(!is_integer_queue_arg("x-dead-letter-exchange"));
        assert!(!is_integer_queue_arg("custom"));
    }
}
