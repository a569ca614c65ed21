//! Schema stage: a [`Document`] → the declarations of one file ([`FileDecl`]).
//!
//! Takes: the element tree of one `queue_topology.xml`. Gives: its `<exchange>`s (with their
//! `<binding>`s) and first-class `<queue>`s, attributes still optional (merging decides what
//! a missing attribute means), argument values typed by `xsi:type`. Reports what the XSD in
//! `schemas/topology.xsd` forbids: wrong root, unknown elements and attributes (with a "did
//! you mean"), missing required attributes, duplicates inside the file, bad booleans and
//! numbers, missing or unknown `xsi:type`.

use rustc_hash::FxHashMap as HashMap;

use crate::arguments::{Argument, Arguments, Value};
use crate::diagnostic::{Code, Diagnostic, suggest};
use crate::source::{Span, Spanned};
use crate::syntax::{Attr, Document, Element};

/// A name in the model (of an exchange, a queue, a connection; a binding's id, topic and
/// destination; an exchange's type): 16 bytes, held inline up to 15 bytes, shared rather
/// than copied when cloned (an inferred queue shares its binding's destination). A topology
/// of 100,000 bindings holds half a million of them.
pub type Name = ecow::EcoString;

/// What a binding's destination is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DestinationType {
    Queue,
    Exchange,
}

impl DestinationType {
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationType::Queue => "queue",
            DestinationType::Exchange => "exchange",
        }
    }
}

/// An `<exchange>` as one file wrote it.
#[derive(Clone, Debug)]
pub struct ExchangeDecl {
    pub name: Spanned<Name>,
    pub connection: Option<Spanned<Name>>,
    pub kind: Option<Spanned<Name>>,
    pub durable: Option<Spanned<bool>>,
    pub auto_delete: Option<Spanned<bool>>,
    pub internal: Option<Spanned<bool>>,
    pub arguments: Arguments,
    pub bindings: Vec<BindingDecl>,
    pub span: Span,
}

/// A `<binding>` as one file wrote it.
#[derive(Clone, Debug)]
pub struct BindingDecl {
    pub id: Spanned<Name>,
    pub destination_type: Option<Spanned<DestinationType>>,
    pub destination: Option<Spanned<Name>>,
    pub topic: Option<Spanned<Name>>,
    pub disabled: Option<Spanned<bool>>,
    pub arguments: Arguments,
    pub span: Span,
}

/// A first-class `<queue>` as one file wrote it.
#[derive(Clone, Debug)]
pub struct QueueDecl {
    pub name: Spanned<Name>,
    pub connection: Option<Spanned<Name>>,
    pub durable: Option<Spanned<bool>>,
    pub auto_delete: Option<Spanned<bool>>,
    pub arguments: Arguments,
    pub span: Span,
}

/// Everything one file declares, in document order.
#[derive(Clone, Debug, Default)]
pub struct FileDecl {
    pub exchanges: Vec<ExchangeDecl>,
    pub queues: Vec<QueueDecl>,
}

const CONFIG_CHILDREN: &[&str] = &["exchange", "queue"];
const EXCHANGE_ATTRS: &[&str] = &[
    "name",
    "type",
    "connection",
    "durable",
    "autoDelete",
    "internal",
];
const EXCHANGE_CHILDREN: &[&str] = &["arguments", "binding"];
const BINDING_ATTRS: &[&str] = &["id", "destinationType", "destination", "disabled", "topic"];
const QUEUE_ATTRS: &[&str] = &["name", "connection", "durable", "autoDelete"];
const ARGUMENTS_ATTRS: &[&str] = &[];
const ARGUMENT_ATTRS: &[&str] = &["name", "xsi:type"];
const ARG_TYPES: &[&str] = &["string", "number", "boolean", "array"];

/// Decodes one topology document. Returns every problem, not only the first.
pub fn decode(doc: &Document) -> (FileDecl, Vec<Diagnostic>) {
    let mut cx = Decoder {
        diagnostics: Vec::new(),
        helps: HashMap::default(),
        help_key: String::new(),
    };
    let mut decl = FileDecl::default();
    let Some(root) = &doc.root else {
        return (decl, cx.diagnostics);
    };
    if root.name != "config" {
        cx.diagnostics.push(
            Diagnostic::error(
                Code::WrongRoot,
                format!("the root element is <{}>, expected <config>", root.name),
            )
            .with_label(root.name_span, "expected <config>")
            .with_help("a queue_topology.xml starts with <config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" …>"),
        );
        return (decl, cx.diagnostics);
    }
    // Another of Magento's message-queue files, given by mistake: one error that says which,
    // not one per element.
    if let Some(other) = other_magento_file(root) {
        cx.diagnostics.push(other);
        return (decl, cx.diagnostics);
    }
    cx.check_attrs(root, &[]);
    let mut exchange_keys: HashMap<(Name, Option<Name>), Span> = HashMap::default();
    let mut queue_keys: HashMap<(Name, Option<Name>), Span> = HashMap::default();
    for child in &root.children {
        match child.name {
            "exchange" => {
                if let Some(ex) = cx.exchange(child) {
                    // Magento's schema keys exchanges on name and connection, and an element
                    // without `connection` falls outside the key: it may repeat.
                    if let Some(c) = &ex.connection {
                        let key = (ex.name.value.clone(), Some(c.value.clone()));
                        if cx.duplicate(&mut exchange_keys, key, ex.name.span, "exchange") {
                            continue;
                        }
                    }
                    decl.exchanges.push(ex);
                }
            }
            "queue" => {
                if let Some(q) = cx.queue(child) {
                    let key = (
                        q.name.value.clone(),
                        q.connection.as_ref().map(|c| c.value.clone()),
                    );
                    if cx.duplicate(&mut queue_keys, key, q.name.span, "queue") {
                        continue;
                    }
                    decl.queues.push(q);
                }
            }
            _ => cx.unknown_element(child, "config", CONFIG_CHILDREN),
        }
    }
    (decl, cx.diagnostics)
}

/// Magento's other message-queue configuration files, known by the elements their `<config>`
/// holds (and none of this format's): which file it is, and what to do.
const OTHER_FILES: &[(&str, &str, &str)] = &[
    (
        "topic",
        "a communication.xml (its <config> holds <topic> elements)",
        "give the queue_topology.xml files: the communication.xml beside each one is read for synchronous topics",
    ),
    (
        "broker",
        "a queue.xml in Magento's deprecated <broker> format",
        "this tool reads queue_topology.xml only; move its bindings to a queue_topology.xml",
    ),
    (
        "publisher",
        "a queue_publisher.xml",
        "publishers are not provisioned: give the queue_topology.xml files",
    ),
    (
        "consumer",
        "a queue_consumer.xml",
        "consumers are not provisioned: give the queue_topology.xml files",
    ),
];

fn other_magento_file(root: &Element) -> Option<Diagnostic> {
    if root
        .children
        .iter()
        .any(|c| CONFIG_CHILDREN.contains(&c.name))
    {
        return None;
    }
    let first = root.children.first()?;
    let (_, what, help) = OTHER_FILES.iter().find(|(el, _, _)| *el == first.name)?;
    Some(
        Diagnostic::error(
            Code::WrongRoot,
            format!("this is not a queue topology file: it is {what}"),
        )
        .with_label(first.name_span, "not an element of queue_topology.xml")
        .with_help(*help),
    )
}

struct Decoder {
    diagnostics: Vec<Diagnostic>,
    /// The help of an unknown element or attribute, by (what, name, where) joined with NULs:
    /// a file of a million unknown `<x/>` computes its did-you-mean once, not a million
    /// times.
    helps: HashMap<String, Option<std::sync::Arc<str>>>,
    /// The key being looked up in `helps`, kept to spare an allocation a lookup.
    help_key: String,
}

impl Decoder {
    /// `make`'s answer for this key, made once per file.
    fn help(
        &mut self,
        key: [&str; 3],
        make: impl FnOnce() -> Option<String>,
    ) -> Option<std::sync::Arc<str>> {
        self.help_key.clear();
        for part in key {
            self.help_key.push_str(part);
            self.help_key.push('\0');
        }
        if let Some(help) = self.helps.get(self.help_key.as_str()) {
            return help.clone();
        }
        let help: Option<std::sync::Arc<str>> = make().map(Into::into);
        self.helps.insert(self.help_key.clone(), help.clone());
        help
    }

    fn duplicate<K: std::hash::Hash + Eq>(
        &mut self,
        seen: &mut HashMap<K, Span>,
        key: K,
        span: Span,
        what: &str,
    ) -> bool {
        if let Some(first) = seen.get(&key) {
            self.diagnostics.push(
                Diagnostic::error(Code::DuplicateId, format!("this {what} is declared twice in one file"))
                    .with_label(span, "declared again here")
                    .with_label(*first, "first declared here")
                    .with_help("Magento's schema requires it to be unique in a file; merge the two declarations"),
            );
            return true;
        }
        seen.insert(key, span);
        false
    }

    fn unknown_element(&mut self, el: &Element, parent: &str, allowed: &[&str]) {
        let d = Diagnostic::error(
            Code::UnknownElement,
            format!("unknown element <{}> in <{parent}>", el.name),
        )
        .with_label(el.name_span, "not part of the format");
        let help = self.help(["element", el.name, parent], || {
            Some(match suggest(el.name, allowed) {
                Some(s) => format!("did you mean <{s}>?"),
                None if allowed.is_empty() => format!("<{parent}> has no child elements"),
                None => format!("<{parent}> may contain: <{}>", allowed.join(">, <")),
            })
        });
        self.diagnostics.push(match help {
            Some(help) => d.with_help(help),
            None => d,
        });
    }

    /// Reports attributes not in `allowed` (namespace declarations and `xsi:` are allowed).
    fn check_attrs(&mut self, el: &Element, allowed: &[&str]) {
        for attr in &el.attrs {
            let name = attr.name;
            if allowed.contains(&name)
                || name == "xmlns"
                || name.starts_with("xmlns:")
                || (el.name == "config" && name.starts_with("xsi:"))
            {
                continue;
            }
            let mut d = Diagnostic::error(
                Code::UnknownAttribute,
                format!("unknown attribute `{name}` on <{}>", el.name),
            )
            .with_label(attr.name_span, "not part of the format");
            let help = self.help(["attribute", name, el.name], || {
                match suggest(name, allowed) {
                    Some(s) => Some(format!("did you mean `{s}`?")),
                    None if !allowed.is_empty() => {
                        Some(format!("<{}> takes: {}", el.name, allowed.join(", ")))
                    }
                    None => None,
                }
            });
            if let Some(help) = help {
                d = d.with_help(help);
            }
            self.diagnostics.push(d);
        }
    }

    /// The attribute's value (a [`Name`], or a `String`), or a `missing-attribute` error.
    fn required<T: for<'t> From<&'t str>>(
        &mut self,
        el: &Element,
        name: &str,
    ) -> Option<Spanned<T>> {
        match el.attr(name) {
            Some(a) => Some(Spanned::new(T::from(&a.value), a.value_span)),
            None => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::MissingAttribute,
                        format!("<{}> needs the `{name}` attribute", el.name),
                    )
                    .with_label(el.name_span, format!("no `{name}` here")),
                );
                None
            }
        }
    }

    fn optional<T: for<'t> From<&'t str>>(&self, el: &Element, name: &str) -> Option<Spanned<T>> {
        el.attr(name)
            .map(|a| Spanned::new(T::from(&a.value), a.value_span))
    }

    fn boolean(&mut self, el: &Element, name: &str) -> Option<Spanned<bool>> {
        let attr = el.attr(name)?;
        match parse_bool(&attr.value) {
            Some(b) => Some(Spanned::new(b, attr.value_span)),
            None => {
                self.bad_bool(attr);
                None
            }
        }
    }

    fn bad_bool(&mut self, attr: &Attr<'_>) {
        self.diagnostics.push(
            Diagnostic::error(
                Code::InvalidBoolean,
                format!("`{}` is not a boolean: {:?}", attr.name, attr.value),
            )
            .with_label(attr.value_span, "expected true, false, 1 or 0"),
        );
    }

    fn exchange(&mut self, el: &Element) -> Option<ExchangeDecl> {
        self.check_attrs(el, EXCHANGE_ATTRS);
        let name = self.required(el, "name");
        let durable = self.boolean(el, "durable");
        let auto_delete = self.boolean(el, "autoDelete");
        let internal = self.boolean(el, "internal");
        let mut arguments = Arguments::default();
        let mut arguments_at = None;
        let mut bindings: Vec<BindingDecl> = Vec::new();
        let mut ids: HashMap<Name, Span> = HashMap::default();
        for child in &el.children {
            match child.name {
                "arguments" => self.arguments(child, &mut arguments, &mut arguments_at),
                "binding" => {
                    if let Some(b) = self.binding(child)
                        && !self.duplicate(&mut ids, b.id.value.clone(), b.id.span, "binding id")
                    {
                        bindings.push(b);
                    }
                }
                _ => self.unknown_element(child, "exchange", EXCHANGE_CHILDREN),
            }
        }
        Some(ExchangeDecl {
            name: name?,
            connection: self.optional(el, "connection"),
            kind: self.optional(el, "type"),
            durable,
            auto_delete,
            internal,
            arguments,
            bindings,
            span: el.name_span,
        })
    }

    fn binding(&mut self, el: &Element) -> Option<BindingDecl> {
        self.check_attrs(el, BINDING_ATTRS);
        let id = self.required(el, "id");
        let disabled = self.boolean(el, "disabled");
        let destination_type = match el.attr("destinationType") {
            None => None,
            Some(a) => match a.value.as_ref() {
                "queue" => Some(Spanned::new(DestinationType::Queue, a.value_span)),
                "exchange" => Some(Spanned::new(DestinationType::Exchange, a.value_span)),
                other => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            format!("destinationType must be `queue` or `exchange`, not {other:?}"),
                        )
                        .with_label(a.value_span, "unknown destination type"),
                    );
                    None
                }
            },
        };
        let mut arguments = Arguments::default();
        let mut arguments_at = None;
        for child in &el.children {
            match child.name {
                "arguments" => self.arguments(child, &mut arguments, &mut arguments_at),
                _ => self.unknown_element(child, "binding", &["arguments"]),
            }
        }
        Some(BindingDecl {
            id: id?,
            destination_type,
            destination: self.optional(el, "destination"),
            topic: self.optional(el, "topic"),
            disabled,
            arguments,
            span: el.name_span,
        })
    }

    fn queue(&mut self, el: &Element) -> Option<QueueDecl> {
        self.check_attrs(el, QUEUE_ATTRS);
        let name = self.required(el, "name");
        let durable = self.boolean(el, "durable");
        let auto_delete = self.boolean(el, "autoDelete");
        let mut arguments = Arguments::default();
        let mut arguments_at = None;
        for child in &el.children {
            match child.name {
                "arguments" => self.arguments(child, &mut arguments, &mut arguments_at),
                _ => self.unknown_element(child, "queue", &["arguments"]),
            }
        }
        Some(QueueDecl {
            name: name?,
            connection: self.optional(el, "connection"),
            durable,
            auto_delete,
            arguments,
            span: el.name_span,
        })
    }

    /// An `<arguments>` block. A second block in one element replaces the first, as
    /// Magento's converter reads them (each block is read anew).
    fn arguments(&mut self, el: &Element, out: &mut Arguments, earlier: &mut Option<Span>) {
        if let Some(first) = earlier.replace(el.name_span) {
            self.diagnostics.push(
                Diagnostic::warning(
                    Code::ArgumentsReplaced,
                    "a second <arguments> block: Magento keeps only the last one",
                )
                .with_label(el.name_span, "this block replaces the earlier one")
                .with_label(first, "these arguments are dropped")
                .with_help("put every argument in one <arguments> block"),
            );
            *out = Arguments::default();
        }
        self.check_attrs(el, ARGUMENTS_ATTRS);
        let mut seen: HashMap<String, Span> = HashMap::default();
        for child in &el.children {
            if child.name != "argument" {
                self.unknown_element(child, "arguments", &["argument"]);
                continue;
            }
            self.check_attrs(child, ARGUMENT_ATTRS);
            let Some(name) = self.required::<String>(child, "name") else {
                continue;
            };
            if self.duplicate(&mut seen, name.value.clone(), name.span, "argument") {
                continue;
            }
            if let Some(value) = self.value(child) {
                out.upsert(Argument {
                    name,
                    value,
                    value_span: child.text_span.unwrap_or(child.name_span),
                });
            }
        }
    }

    /// The typed value of an `<argument>` or `<item>`.
    fn value(&mut self, el: &Element) -> Option<Value> {
        let Some(ty) = el.attr("xsi:type") else {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::MissingType,
                    format!("<{}> needs an `xsi:type` attribute", el.name),
                )
                .with_label(el.name_span, "no xsi:type here")
                .with_help("use xsi:type=\"string\", \"number\", \"boolean\" or \"array\""),
            );
            return None;
        };
        let text_span = el.text_span.unwrap_or(el.name_span);
        let text = el.text.trim();
        if ty.value != "array"
            && let Some(child) = el.children.first()
        {
            self.unknown_element(child, el.name, &[]);
        }
        match ty.value.as_ref() {
            "string" => Some(Value::Str(text.to_string())),
            "boolean" => match parse_bool(text) {
                Some(b) => Some(Value::Bool(b)),
                None => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::InvalidBoolean,
                            format!("{text:?} is not a boolean"),
                        )
                        .with_label(text_span, "expected true, false, 1 or 0"),
                    );
                    None
                }
            },
            "number" => match parse_number(text) {
                Some(v) => Some(v),
                None => {
                    self.diagnostics.push(
                        Diagnostic::error(Code::InvalidNumber, format!("{text:?} is not a number"))
                            .with_label(text_span, "xsi:type=\"number\" needs a number"),
                    );
                    None
                }
            },
            "array" => {
                let mut items = Vec::new();
                let mut seen: HashMap<String, Span> = HashMap::default();
                for child in &el.children {
                    if child.name != "item" {
                        self.unknown_element(child, el.name, &["item"]);
                        continue;
                    }
                    self.check_attrs(child, ARGUMENT_ATTRS);
                    if let Some(name) = self.required::<String>(child, "name")
                        && self.duplicate(&mut seen, name.value.clone(), name.span, "item")
                    {
                        continue;
                    }
                    if let Some(v) = self.value(child) {
                        items.push(v);
                    }
                }
                Some(Value::Array(items))
            }
            other => {
                let mut d = Diagnostic::error(
                    Code::InvalidType,
                    format!("xsi:type {other:?} is not an argument type of this format"),
                )
                .with_label(ty.value_span, "unknown type");
                d = match suggest(other, ARG_TYPES) {
                    Some(s) => d.with_help(format!("did you mean \"{s}\"?")),
                    None => d.with_help("use string, number, boolean or array"),
                };
                self.diagnostics.push(d);
                None
            }
        }
    }
}

/// `xs:boolean`: true, false, 1, 0 (surrounding whitespace allowed).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// A number: an integer literal is an integer, a decimal is a float.
pub fn parse_number(s: &str) -> Option<Value> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::Int(i));
    }
    let looks_numeric = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    match s.parse::<f64>() {
        Ok(f) if looks_numeric && f.is_finite() => Some(Value::Float(f)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Source, SourceKind};

    fn decode_str(text: &str) -> (FileDecl, Vec<Diagnostic>) {
        let source = Source::new("t.xml".into(), text.into(), SourceKind::Topology);
        let (doc, d) = crate::syntax::parse(FileId(0), &source);
        assert!(d.is_empty(), "{d:?}");
        decode(&doc)
    }

    fn codes(d: &[Diagnostic]) -> Vec<&'static str> {
        d.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn numbers_and_booleans() {
        assert_eq!(parse_number("5000"), Some(Value::Int(5000)));
        assert_eq!(parse_number(" -1 "), Some(Value::Int(-1)));
        assert_eq!(parse_number("1.5"), Some(Value::Float(1.5)));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn unknown_attribute_suggests_the_near_miss() {
        let (_, d) = decode_str(r#"<config><exchange name="e" autodelete="true"/></config>"#);
        assert_eq!(codes(&d), ["unknown-attribute"]);
        assert_eq!(d[0].help.as_deref(), Some("did you mean `autoDelete`?"));
    }

    #[test]
    fn reports_every_problem_of_a_file() {
        let (decl, d) = decode_str(
            r#"<config>
                <exchange name="e" durable="yes">
                  <binding destination="q"/>
                  <binding id="b"/><binding id="b"/>
                  <bindng id="x"/>
                </exchange>
                <queue name="q"><arguments><argument name="a">1</argument>
                  <argument name="b" xsi:type="float">1</argument></arguments></queue>
              </config>"#,
        );
        assert_eq!(
            codes(&d),
            [
                "invalid-boolean",
                "missing-attribute",
                "duplicate-id",
                "unknown-element",
                "missing-type",
                "invalid-type"
            ]
        );
        assert_eq!(decl.exchanges[0].bindings.len(), 1);
        assert_eq!(decl.queues.len(), 1);
    }

    #[test]
    fn wrong_root() {
        let (_, d) = decode_str("<topology/>");
        assert_eq!(codes(&d), ["wrong-root"]);
    }

    #[test]
    fn arrays_keep_item_order() {
        let (decl, d) = decode_str(
            r#"<config><exchange name="e"><arguments><argument name="a" xsi:type="array">
               <item name="2" xsi:type="number">2</item><item name="1" xsi:type="string">x</item>
               </argument></arguments></exchange></config>"#,
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            decl.exchanges[0].arguments.get("a").unwrap().value,
            Value::Array(vec![Value::Int(2), Value::Str("x".into())])
        );
    }
}
