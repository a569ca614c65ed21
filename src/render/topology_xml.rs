//! A broker's entities written as a `queue_topology.xml` (`import`), in the format this tool
//! and Magento read: `<exchange>` with its `<arguments>` and `<binding>`s, first-class
//! `<queue>` elements, `xsi:type` on every argument.
//!
//! Takes what `import` chose to write ([`Import`]: per connection, the specs to write and
//! counts of what was left out and why); gives the file's text, a comment at its top saying
//! what was left out and what a reader must know ([`notes`]). Every name and value is
//! escaped for XML (attribute values keep tabs and line breaks as character references).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use crate::model::{DestinationType, Value};
use crate::spec::{ArgMap, BindingSpec, ConnectionSpecs};
use crate::text::count;

/// What `import` writes: one entry per connection.
#[derive(Clone, Debug, Default)]
pub struct Import {
    pub connections: Vec<ImportedConnection>,
}

/// One connection's entities to write, and what was left out.
#[derive(Clone, Debug, Default)]
pub struct ImportedConnection {
    /// The connection name every exchange and queue is written with.
    pub name: String,
    /// Exchanges and bindings to write; `queues` holds only those that need a `<queue>`
    /// element (the others are inferred from their bindings, as Magento infers them).
    pub specs: ConnectionSpecs,
    pub left_out: LeftOut,
    /// Exchange type → how many exchanges of that type other than `topic` (Magento refuses
    /// them).
    pub non_topic: BTreeMap<String, usize>,
    /// Exchange-to-exchange bindings written (Magento refuses them).
    pub exchange_bindings: usize,
    /// Argument values that a reader of the file will not send as the broker holds them.
    pub inexact: Vec<String>,
}

/// What was not written, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// The default exchange and the `amq.*` exchanges, which RabbitMQ owns.
    pub builtin_exchanges: usize,
    /// Server-named queues (`amq.gen-*`, any `amq.*`), which only RabbitMQ may name.
    pub server_named_queues: usize,
    /// Holding queues, records and scratch entities an interrupted `topology apply` left.
    pub own: usize,
    /// Entities whose name or arguments hold a character XML cannot carry.
    pub unwritable: usize,
    /// Bindings from or to an entity left out.
    pub bindings_of_left_out: usize,
    /// Bindings that share exchange, destination and routing key with a written one but
    /// have other arguments: the format holds one binding per exchange, destination and topic.
    pub same_key_bindings: usize,
}

/// What a reader of the file must know, one sentence each: what was left out, and why
/// the file needs `--dialect rabbitmq`. Also printed on stderr by `import`.
pub fn notes(import: &Import) -> Vec<String> {
    let mut notes = Vec::new();
    for c in &import.connections {
        let on = if import.connections.len() > 1 {
            format!(" (connection `{}`)", c.name)
        } else {
            String::new()
        };
        let l = c.left_out;
        let mut out: Vec<String> = Vec::new();
        let mut say = |n: usize, what: &str, why: &str| {
            if n > 0 {
                out.push(format!("{} {why}", count(n as u64, what)));
            }
        };
        say(
            l.builtin_exchanges,
            "exchange",
            "that RabbitMQ owns (the default exchange, amq.*)",
        );
        say(
            l.server_named_queues,
            "queue",
            "named by the server (amq.*)",
        );
        say(
            l.own,
            "entity",
            "left by an interrupted topology apply (the next apply finishes it)",
        );
        say(
            l.unwritable,
            "entity",
            "whose name or arguments hold characters XML cannot carry",
        );
        say(
            l.bindings_of_left_out,
            "binding",
            "from or to an entity left out",
        );
        if !out.is_empty() {
            notes.push(format!("Not written{on}: {}.", out.join("; ")));
        }
        if l.same_key_bindings > 0 {
            notes.push(format!(
                "Not written{on}: {} sharing exchange, destination and routing key with another binding that has other arguments (a headers exchange?): this format holds one binding per exchange, destination and topic, and `topology apply` of this file would remove the others.",
                count(l.same_key_bindings as u64, "binding")
            ));
        }
        let mut refused: Vec<String> = c
            .non_topic
            .iter()
            .map(|(kind, n)| format!("{} of type {kind}", count(*n as u64, "exchange")))
            .collect();
        if c.exchange_bindings > 0 {
            refused.push(format!(
                "{} to an exchange",
                count(c.exchange_bindings as u64, "binding")
            ));
        }
        if !refused.is_empty() {
            notes.push(format!(
                "Magento reads only topic exchanges and bindings to queues, and this file has {}{on}: read it with {DIALECT}.",
                and_list(&refused)
            ));
        }
        for inexact in &c.inexact {
            notes.push(format!("{inexact}{on}."));
        }
    }
    notes
}

/// How to read a file in RabbitMQ's dialect, in a note.
const DIALECT: &str = "--dialect rabbitmq (or TOPOLOGY_DIALECT=rabbitmq)";

/// The same in an XML comment, which cannot hold two dashes in a row.
const DIALECT_IN_COMMENT: &str =
    "RabbitMQ's dialect (TOPOLOGY_DIALECT=rabbitmq, or the dialect option of the command line)";

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// The file's text.
pub fn render(import: &Import) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<!--\n");
    for c in &import.connections {
        let s = &c.specs;
        let _ = writeln!(
            out,
            "  {}",
            comment(&format!(
                "Imported by `topology import` from connection `{}`: {}, {} and {} (a queue that its bindings declare, as Magento infers it, has no <queue> element).",
                c.name,
                count(s.exchanges.len() as u64, "exchange"),
                count(s.bindings.len() as u64, "binding"),
                count(s.queues.len() as u64, "queue element"),
            ))
        );
    }
    out.push_str("  The default exchange and its implicit bindings, the amq.* exchanges and server-named queues belong to RabbitMQ: they are never written.\n");
    for note in notes(import) {
        let _ = writeln!(
            out,
            "  {}",
            comment(&note.replace(DIALECT, DIALECT_IN_COMMENT))
        );
    }
    out.push_str("-->\n");
    out.push_str(
        "<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"urn:magento:framework-message-queue:etc/topology.xsd\">\n",
    );
    for c in &import.connections {
        connection(&mut out, c);
    }
    out.push_str("</config>\n");
    out
}

fn connection(out: &mut String, c: &ImportedConnection) {
    let connection = attr(&c.name);
    for e in &c.specs.exchanges {
        let _ = write!(
            out,
            "    <exchange name=\"{}\" type=\"{}\" connection=\"{connection}\" durable=\"{}\" autoDelete=\"{}\" internal=\"{}\"",
            attr(&e.name),
            attr(&e.kind),
            e.durable,
            e.auto_delete,
            e.internal
        );
        let bindings: Vec<&BindingSpec> = c
            .specs
            .bindings
            .iter()
            .filter(|b| b.key.source == e.name)
            .collect();
        if e.arguments.is_empty() && bindings.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        arguments(out, &e.arguments, 2);
        let mut ids = HashSet::new();
        for b in bindings {
            binding(out, b, &mut ids);
        }
        out.push_str("    </exchange>\n");
    }
    for q in &c.specs.queues {
        let _ = write!(
            out,
            "    <queue name=\"{}\" connection=\"{connection}\" durable=\"{}\" autoDelete=\"{}\"",
            attr(&q.name),
            q.durable,
            q.auto_delete
        );
        if q.arguments.is_empty() {
            out.push_str("/>\n");
        } else {
            out.push_str(">\n");
            arguments(out, &q.arguments, 2);
            out.push_str("    </queue>\n");
        }
    }
}

/// A `<binding>`; its id made from its destination and routing key (unique in its exchange:
/// a clash gets `#2`, `#3`, …), so that importing the same broker twice gives the same ids.
fn binding(out: &mut String, b: &BindingSpec, ids: &mut HashSet<String>) {
    let k = &b.key;
    let kind = match k.destination_type {
        DestinationType::Queue => "queue",
        DestinationType::Exchange => "exchange",
    };
    let base = format!("{kind}:{}:{}", k.destination, k.routing_key);
    let mut id = base.clone();
    let mut n = 1;
    while !ids.insert(id.clone()) {
        n += 1;
        id = format!("{base}#{n}");
    }
    let _ = write!(
        out,
        "        <binding id=\"{}\" destinationType=\"{kind}\" destination=\"{}\" topic=\"{}\"",
        attr(&id),
        attr(&k.destination),
        attr(&k.routing_key)
    );
    if b.arguments.is_empty() {
        out.push_str("/>\n");
    } else {
        out.push_str(">\n");
        arguments(out, &b.arguments, 3);
        out.push_str("        </binding>\n");
    }
}

fn arguments(out: &mut String, args: &ArgMap, depth: usize) {
    if args.is_empty() {
        return;
    }
    let pad = "    ".repeat(depth);
    let _ = writeln!(out, "{pad}<arguments>");
    for (name, value) in args {
        typed(out, "argument", name, value, depth + 1);
    }
    let _ = writeln!(out, "{pad}</arguments>");
}

/// An `<argument>` or `<item>` with its `xsi:type`: an integer or a float is a `number`, an
/// array's items are `<item>`s named by their position.
fn typed(out: &mut String, element: &str, name: &str, value: &Value, depth: usize) {
    let pad = "    ".repeat(depth);
    let (kind, text) = match value {
        Value::Int(i) => ("number", i.to_string()),
        Value::Float(f) => ("number", f.to_string()),
        Value::Bool(b) => ("boolean", b.to_string()),
        Value::Str(s) => ("string", text(s)),
        Value::Array(items) => {
            let _ = writeln!(
                out,
                "{pad}<{element} name=\"{}\" xsi:type=\"array\">",
                attr(name)
            );
            for (i, item) in items.iter().enumerate() {
                typed(out, "item", &i.to_string(), item, depth + 1);
            }
            let _ = writeln!(out, "{pad}</{element}>");
            return;
        }
    };
    let _ = writeln!(
        out,
        "{pad}<{element} name=\"{}\" xsi:type=\"{kind}\">{text}</{element}>",
        attr(name)
    );
}

/// Whether XML 1.0 can carry `s` at all (not even as a character reference: C0 controls
/// other than tab and line breaks, U+FFFE, U+FFFF).
pub fn xml_can_carry(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
    })
}

/// Element text: `&`, `<`, `>` escaped; a carriage return as a reference (a parser would turn
/// it into a line feed).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// An attribute value (in double quotes): as [`text`], plus `"`, and tabs and line breaks as
/// references (a parser normalizes them to spaces otherwise).
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push_str(&text(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out
}

/// Text inside `<!-- -->`: no `--` (which would end or break the comment) and no control
/// character.
fn comment(s: &str) -> String {
    let mut out = crate::render::escape_controls(s, false).into_owned();
    while out.contains("--") {
        out = out.replace("--", "- -");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{BindingKey, ExchangeSpec, QueueSpec};

    #[test]
    fn names_and_values_are_escaped_and_typed() {
        let args = ArgMap::from_iter([
            ("x-int".to_string(), Value::Int(5)),
            ("x-str".to_string(), Value::Str("a<b>&\"c\"".into())),
            ("x-bool".to_string(), Value::Bool(true)),
            (
                "x-list".to_string(),
                Value::Array(vec![Value::Str("q".into()), Value::Int(2)]),
            ),
        ]);
        let import = Import {
            connections: vec![ImportedConnection {
                name: "amqp".into(),
                specs: ConnectionSpecs {
                    exchanges: vec![ExchangeSpec::of_kind("e\"&<x>\n", "topic")],
                    queues: vec![QueueSpec {
                        arguments: args,
                        ..QueueSpec::with("q", &[])
                    }],
                    bindings: vec![BindingSpec {
                        key: BindingKey {
                            source: "e\"&<x>\n".into(),
                            destination: "q".into(),
                            destination_type: DestinationType::Queue,
                            routing_key: "a.#".into(),
                        },
                        arguments: ArgMap::new(),
                    }],
                },
                ..Default::default()
            }],
        };
        let xml = render(&import);
        assert!(
            xml.contains(r#"<exchange name="e&quot;&amp;&lt;x&gt;&#10;" type="topic""#),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<binding id="queue:q:a.#" destinationType="queue" destination="q" topic="a.#"/>"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<argument name="x-str" xsi:type="string">a&lt;b&gt;&amp;"c"</argument>"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<argument name="x-int" xsi:type="number">5</argument>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<argument name="x-bool" xsi:type="boolean">true</argument>"#),
            "{xml}"
        );
        assert!(
            xml.contains("<argument name=\"x-list\" xsi:type=\"array\">\n                <item name=\"0\" xsi:type=\"string\">q</item>\n                <item name=\"1\" xsi:type=\"number\">2</item>\n            </argument>"),
            "{xml}"
        );
        assert!(
            xml.starts_with("<?xml version=\"1.0\"?>\n<!--\n  Imported by `topology import` from connection `amqp`: 1 exchange, 1 binding and 1 queue element"),
            "{xml}"
        );
        assert!(!xml.contains("Not written"), "nothing left out: {xml}");
    }

    #[test]
    fn a_comment_cannot_be_closed_by_what_it_quotes() {
        assert_eq!(comment("a-->b --x"), "a- ->b - -x");
        assert_eq!(comment("a---b"), "a- - -b");
        assert!(!xml_can_carry("a\u{1}b"));
        assert!(xml_can_carry("a\tb\nc"));
    }
}
