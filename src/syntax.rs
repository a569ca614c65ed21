//! Syntax stage: one file's text → a [`Document`], a plain element tree with byte spans.
//!
//! Takes: a [`Source`](crate::source::Source). Gives: the tree and the syntax diagnostics
//! (well-formedness, encoding, DOCTYPE, entities, nesting depth). It never panics, never
//! expands an entity other than XML's five predefined ones and character references, and
//! never fetches anything: a DOCTYPE is reported and skipped. Elements nested deeper than
//! [`MAX_DEPTH`] are reported once and left out of the tree, so the tree stays shallow.
//!
//! It knows nothing of the topology format: which elements and attributes are allowed is
//! the `schema` stage's business.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use rustc_hash::FxHashSet as HashSet;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Source, Span};

/// Deepest element nesting kept in the tree. The format itself needs six levels.
pub const MAX_DEPTH: usize = 32;

/// An attribute, with the span of its name and of its value (inside the quotes).
#[derive(Clone, Debug, PartialEq)]
pub struct Attr<'a> {
    pub name: &'a str,
    pub name_span: Span,
    pub value: Cow<'a, str>,
    pub value_span: Span,
}

/// An element. `span` covers the start tag; `name_span` the tag name.
#[derive(Clone, Debug, PartialEq)]
pub struct Element<'a> {
    pub name: &'a str,
    pub name_span: Span,
    pub span: Span,
    pub attrs: Vec<Attr<'a>>,
    pub children: Vec<Element<'a>>,
    /// Character data directly inside the element (entities resolved), untrimmed.
    pub text: Cow<'a, str>,
    /// Span of the character data, when there is some.
    pub text_span: Option<Span>,
}

impl<'a> Element<'a> {
    pub fn attr(&self, name: &str) -> Option<&Attr<'a>> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// A parsed file: its root element, if the file got that far.
#[derive(Debug)]
pub struct Document<'a> {
    pub file: FileId,
    pub root: Option<Element<'a>>,
}

/// Parses one source. Returns every syntax problem found; after a well-formedness error the
/// rest of the file is not read (the tree holds what came before it).
pub fn parse(file: FileId, source: &Source) -> (Document<'_>, Vec<Diagnostic>) {
    let mut parser = Parser {
        file,
        text: &source.text,
        diagnostics: Vec::new(),
        stack: Vec::new(),
        root: None,
        overflow: 0,
    };
    if let Some(e) = &source.encoding_error {
        parser.diagnostics.push(
            Diagnostic::error(Code::Encoding, e.message.clone())
                .with_label(Span::new(file, e.start, e.end), e.label.clone())
                .with_help("save the file as UTF-8, the encoding Magento reads"),
        );
        return (Document { file, root: None }, parser.diagnostics);
    }
    if let Some(d) = forbidden_characters(file, &source.text) {
        parser.diagnostics.push(d);
        return (Document { file, root: None }, parser.diagnostics);
    }
    if source.text.trim().is_empty() {
        parser.diagnostics.push(
            Diagnostic::error(Code::Syntax, "the file is empty")
                .with_label(Span::new(file, 0, 0), "expected a <config> element")
                .with_help("a queue_topology.xml holds one <config> element"),
        );
        return (Document { file, root: None }, parser.diagnostics);
    }
    parser.run();
    let root = parser.root.take();
    (Document { file, root }, parser.diagnostics)
}

struct Parser<'a> {
    file: FileId,
    text: &'a str,
    diagnostics: Vec<Diagnostic>,
    stack: Vec<Element<'a>>,
    root: Option<Element<'a>>,
    /// Depth of elements being skipped below MAX_DEPTH.
    overflow: usize,
}

impl<'a> Parser<'a> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(
            self.file,
            start.min(self.text.len()),
            end.min(self.text.len()),
        )
    }

    /// Byte offset of `part`, a slice of `self.text`, or None when it is not one.
    fn offset_of(&self, part: &str) -> Option<usize> {
        let base = self.text.as_ptr() as usize;
        let p = part.as_ptr() as usize;
        (p >= base && p + part.len() <= base + self.text.len()).then(|| p - base)
    }

    fn run(&mut self) {
        let bom = if self.text.starts_with('\u{feff}') {
            3
        } else {
            0
        };
        let body: &'a str = &self.text[bom..];
        let mut reader = Reader::from_str(body);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.trim_text(false);
        loop {
            let before = reader.buffer_position() as usize + bom;
            let event = reader.read_event();
            let after = reader.buffer_position() as usize + bom;
            match event {
                Ok(Event::Start(e)) => self.start(&e, before, after, false),
                Ok(Event::Empty(e)) => self.start(&e, before, after, true),
                Ok(Event::End(_)) => self.end(after),
                Ok(Event::Text(t)) => {
                    let raw: &'a str = match t.into_inner() {
                        Cow::Borrowed(s) => s,
                        Cow::Owned(_) => "",
                    };
                    let start = self.offset_of(raw).unwrap_or(before);
                    let end = start + raw.len();
                    self.text_data(Cow::Borrowed(raw), start, end);
                }
                Ok(Event::CData(t)) => {
                    let raw: &'a str = match t.into_inner() {
                        Cow::Borrowed(s) => s,
                        Cow::Owned(_) => "",
                    };
                    let start = self.offset_of(raw).unwrap_or(before);
                    self.text_data(Cow::Borrowed(raw), start, start + raw.len());
                }
                Ok(Event::GeneralRef(r)) => {
                    let name: &str = &r;
                    let resolved = if r.is_char_ref() {
                        r.resolve_char_ref().ok().flatten()
                    } else {
                        predefined(name)
                    };
                    match resolved {
                        Some(c) if !xml_char(c) => {
                            let d = forbidden_reference(self.span(before, after), name, c);
                            self.diagnostics.push(d);
                        }
                        Some(c) => self.text_data(Cow::Owned(c.to_string()), before, after),
                        None => self.diagnostics.push(
                            Diagnostic::error(
                                Code::Entity,
                                format!("the entity `&{name};` is not defined"),
                            )
                            .with_label(self.span(before, after), "undefined entity")
                            .with_help(
                                "only &amp; &lt; &gt; &apos; &quot; and character references \
                                 are read; entities are never expanded",
                            ),
                        ),
                    }
                }
                Ok(Event::DocType(_)) => self.diagnostics.push(
                    Diagnostic::error(Code::Doctype, "DOCTYPE declarations are not allowed")
                        .with_label(self.span(before, after), "this DOCTYPE is ignored")
                        .with_help(
                            "entities are never expanded and external DTDs never fetched; \
                             remove the DOCTYPE",
                        ),
                ),
                Ok(Event::Decl(_) | Event::PI(_) | Event::Comment(_)) => {}
                Ok(Event::Eof) => {
                    self.eof();
                    break;
                }
                Err(e) => {
                    let at = reader.error_position() as usize + bom;
                    let message = error_message(&e);
                    let code = if matches!(e, quick_xml::Error::Escape(_)) {
                        Code::Entity
                    } else {
                        Code::Syntax
                    };
                    self.diagnostics.push(
                        Diagnostic::error(code, format!("malformed XML: {message}"))
                            .with_label(self.span(at, at + 1), "here"),
                    );
                    break;
                }
            }
        }
        // Attach whatever is still open, so the tree holds what was read.
        while let Some(element) = self.stack.pop() {
            self.attach(element);
        }
    }

    fn start(&mut self, e: &BytesStart<'a>, before: usize, after: usize, empty: bool) {
        if self.overflow > 0 || self.stack.len() >= MAX_DEPTH {
            if self.overflow == 0 {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::TooDeep,
                        format!("elements are nested more than {MAX_DEPTH} levels deep"),
                    )
                    .with_label(
                        self.span(before, after),
                        "this element and its content are ignored",
                    ),
                );
            }
            if !empty {
                self.overflow += 1;
            }
            return;
        }
        if self.stack.is_empty() && self.root.is_some() {
            self.diagnostics.push(
                Diagnostic::error(Code::Syntax, "malformed XML: more than one root element")
                    .with_label(self.span(before, after), "second root element"),
            );
        }
        let content: &str = e;
        let start = self
            .offset_of(content)
            .map(|o| o.saturating_sub(1))
            .unwrap_or(before);
        let name_len = e.name().as_ref().len();
        let name_start = start + 1;
        let name: &'a str = self
            .text
            .get(name_start..name_start + name_len)
            .unwrap_or("");
        let mut element = Element {
            name_span: self.span(name_start, name_start + name_len),
            name,
            span: self.span(start, after),
            attrs: Vec::new(),
            children: Vec::new(),
            text: Cow::Borrowed(""),
            text_span: None,
        };
        // Attribute names are checked for duplicates here, against the element's own list,
        // rather than by quick-xml (which allocates a list of its own for every tag).
        let mut many_names: Option<HashSet<&'a str>> = None;
        for attr in e.attributes().with_checks(false) {
            match attr {
                Ok(attr) => {
                    let key = attr.key.as_ref();
                    let Some(key_at) = self.offset_of(key) else {
                        continue;
                    };
                    let key: &'a str = &self.text[key_at..key_at + key.len()];
                    let name_span = self.span(key_at, key_at + key.len());
                    if repeated_name(&element.attrs, &mut many_names, key) {
                        self.diagnostics.push(
                            Diagnostic::error(
                                Code::Syntax,
                                format!("malformed attribute: {ATTRIBUTE_TWICE}"),
                            )
                            .with_label(element.span, "in this tag"),
                        );
                        break;
                    }
                    let raw: &str = &attr.value;
                    let raw_at = self.offset_of(raw);
                    let value_span = raw_at
                        .map(|o| self.span(o, o + raw.len()))
                        .unwrap_or(name_span);
                    let borrowed: Option<&'a str> = raw_at.map(|o| &self.text[o..o + raw.len()]);
                    let value = match attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                        Ok(Cow::Borrowed(_)) if borrowed.is_some() => {
                            Cow::Borrowed(borrowed.expect("checked by the guard"))
                        }
                        Ok(v) => Cow::Owned(v.into_owned()),
                        Err(err) => {
                            self.diagnostics.push(
                                Diagnostic::error(
                                    Code::Entity,
                                    format!("in attribute `{key}`: {}", error_message(&err)),
                                )
                                .with_label(value_span, "entities are never expanded"),
                            );
                            Cow::Owned(raw.to_string())
                        }
                    };
                    if !value.chars().all(xml_char) {
                        let d = match char_reference(raw, |c| !xml_char(c)) {
                            Some((at, reference, c)) => {
                                let start = raw_at.map(|o| o + at);
                                let span = start
                                    .map(|o| self.span(o, o + reference.len()))
                                    .unwrap_or(value_span);
                                forbidden_reference(span, &reference[1..reference.len() - 1], c)
                            }
                            None => Diagnostic::error(
                                Code::Syntax,
                                format!(
                                    "malformed XML: attribute `{key}` holds a character XML forbids"
                                ),
                            )
                            .with_label(value_span, "here"),
                        };
                        self.diagnostics.push(d);
                    }
                    element.attrs.push(Attr {
                        name: key,
                        name_span,
                        value,
                        value_span,
                    });
                }
                Err(err) => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::Syntax,
                            format!("malformed attribute: {}", attr_message(&err)),
                        )
                        .with_label(element.span, "in this tag"),
                    );
                    break;
                }
            }
        }
        if empty {
            self.attach(element);
        } else {
            self.stack.push(element);
        }
    }

    fn end(&mut self, _after: usize) {
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        if let Some(element) = self.stack.pop() {
            self.attach(element);
        }
    }

    fn attach(&mut self, element: Element<'a>) {
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(element),
            None => {
                if self.root.is_none() {
                    self.root = Some(element);
                }
            }
        }
    }

    fn text_data(&mut self, text: Cow<'a, str>, start: usize, end: usize) {
        if self.overflow > 0 {
            return;
        }
        let span = self.span(start, end);
        match self.stack.last_mut() {
            Some(top) => {
                if top.text.is_empty() {
                    top.text = text;
                } else if !text.is_empty() {
                    top.text.to_mut().push_str(&text);
                }
                top.text_span = Some(match top.text_span {
                    Some(s) => Span::new(s.file, s.start as usize, end),
                    None => span,
                });
            }
            None if !text.trim().is_empty() => self.diagnostics.push(
                Diagnostic::error(Code::Syntax, "malformed XML: text outside the root element")
                    .with_label(span, "unexpected text"),
            ),
            None => {}
        }
    }

    fn eof(&mut self) {
        if let Some(open) = self.stack.last() {
            let d = Diagnostic::error(
                Code::Syntax,
                format!("malformed XML: the element <{}> is never closed", open.name),
            )
            .with_label(open.span, "opened here");
            self.diagnostics.push(d);
        } else if self.root.is_none() && self.overflow == 0 {
            let end = self.text.len();
            self.diagnostics.push(
                Diagnostic::error(Code::Syntax, "malformed XML: no root element")
                    .with_label(self.span(end, end), "expected a <config> element"),
            );
        }
    }
}

/// Whether XML 1.0 allows `c` in a document (its `Char` production): tab, line feed,
/// carriage return and everything from U+0020 except U+FFFE and U+FFFF (surrogates are no
/// `char`). libxml2 refuses a file holding another one, raw or as a character reference.
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{fffd}' | '\u{10000}'..)
}

/// `U+001B (ESC)`: a code point, with the name of a C0 control.
fn describe(c: char) -> String {
    const C0: [&str; 32] = [
        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
        "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB",
        "ESC", "FS", "GS", "RS", "US",
    ];
    match C0.get(c as usize) {
        Some(name) => format!("U+{:04X} ({name})", c as u32),
        None => format!("U+{:04X}", c as u32),
    }
}

/// The first character of `text` that XML forbids, as an error that counts the others.
fn forbidden_characters(file: FileId, text: &str) -> Option<Diagnostic> {
    let mut bad = text.char_indices().filter(|(_, c)| !xml_char(*c));
    let (at, c) = bad.next()?;
    let more = bad.count();
    let others = match more {
        0 => String::new(),
        1 => " (and 1 more in the file)".to_string(),
        n => format!(" (and {n} more in the file)"),
    };
    Some(
        Diagnostic::error(
            Code::Syntax,
            format!(
                "malformed XML: the character {} is not allowed in XML{others}",
                describe(c)
            ),
        )
        .with_label(Span::new(file, at, at + c.len_utf8()), "not allowed in XML")
        .with_help(
            "XML 1.0 allows no control character other than tab, line feed and carriage \
             return; libxml2, which Magento uses, refuses the whole file",
        ),
    )
}

/// The error for a character reference to a character XML forbids; `reference` is what
/// is between `&` and `;`.
fn forbidden_reference(span: Span, reference: &str, c: char) -> Diagnostic {
    Diagnostic::error(
        Code::Syntax,
        format!(
            "malformed XML: the character reference `&{reference};` names {}, a character XML forbids",
            describe(c)
        ),
    )
    .with_label(span, "not allowed in XML")
    .with_help(
        "XML 1.0 allows no control character other than tab, line feed and carriage return, \
         not even as a character reference; libxml2, which Magento uses, refuses the whole file",
    )
}

/// The first character reference in `raw` (`&#65;`, `&#x41;`) whose character `pick`
/// selects: its byte offset in `raw`, its text and its character.
fn char_reference(raw: &str, pick: impl Fn(char) -> bool) -> Option<(usize, &str, char)> {
    let mut from = 0;
    while let Some(found) = raw.get(from..)?.find("&#") {
        let at = from + found;
        from = at + 2;
        let Some(len) = raw[at..].find(';') else {
            break;
        };
        let reference = &raw[at..at + len + 1];
        let digits = &reference[2..reference.len() - 1];
        let code = match digits.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => digits.parse(),
        };
        if let Some(c) = code.ok().and_then(char::from_u32)
            && pick(c)
        {
            return Some((at, reference, c));
        }
    }
    None
}

fn predefined(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// A parser error in the user's terms.
fn error_message(e: &quick_xml::Error) -> String {
    use quick_xml::errors::IllFormedError;
    match e {
        quick_xml::Error::Escape(esc) => escape_message(esc),
        quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => {
            "an `&` that starts no reference: write `&amp;` for a literal `&`".to_string()
        }
        quick_xml::Error::IllFormed(IllFormedError::DoubleHyphenInComment) => {
            "`--` inside a comment, which XML does not allow".to_string()
        }
        quick_xml::Error::IllFormed(ill) => ill.to_string(),
        quick_xml::Error::Syntax(syntax) => syntax.to_string(),
        other => other.to_string(),
    }
}

/// Whether the attribute `name` is already among `attrs` (a tag's attributes so far).
/// Compared one by one in a small tag; past [`NAMES_COMPARED_ONE_BY_ONE`] attributes, the
/// names are kept in `set` so that a tag of many attributes is checked in linear time.
fn repeated_name<'a>(
    attrs: &[Attr<'a>],
    set: &mut Option<HashSet<&'a str>>,
    name: &'a str,
) -> bool {
    if attrs.len() < NAMES_COMPARED_ONE_BY_ONE {
        return attrs.iter().any(|a| a.name == name);
    }
    let set = set.get_or_insert_with(|| attrs.iter().map(|a| a.name).collect());
    !set.insert(name)
}

/// See [`repeated_name`].
const NAMES_COMPARED_ONE_BY_ONE: usize = 16;

const ATTRIBUTE_TWICE: &str = "the same attribute twice in one tag: keep one";

/// What is wrong with a tag's attributes, in the user's terms (never the parser's byte
/// positions).
fn attr_message(e: &quick_xml::events::attributes::AttrError) -> String {
    use quick_xml::events::attributes::AttrError;
    match e {
        AttrError::ExpectedEq(_) => {
            "an attribute name must be followed by `=` and a quoted value".to_string()
        }
        AttrError::ExpectedValue(_) => {
            "an attribute has `=` but no value: write name=\"value\"".to_string()
        }
        AttrError::UnquotedValue(_) => {
            "an attribute value must be in quotes: name=\"value\"".to_string()
        }
        AttrError::ExpectedQuote(_, quote) => format!(
            "an attribute value is never closed: its closing `{}` is missing",
            *quote as char
        ),
        // (Not asked for: `repeated_name` checks.)
        AttrError::Duplicated(_, _) => ATTRIBUTE_TWICE.to_string(),
    }
}

/// What is wrong with a reference, in the user's terms (never the parser's byte ranges).
fn escape_message(e: &quick_xml::escape::EscapeError) -> String {
    use quick_xml::escape::{EscapeError, ParseCharRefError};
    match e {
        EscapeError::UnterminatedEntity(_) => {
            "an `&` that starts no reference: write `&amp;` for a literal `&`".to_string()
        }
        EscapeError::UnrecognizedEntity(_, name) => format!(
            "`&{name};` is not one of XML's five entities (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;`): write the character itself, or `&amp;{name};` for the text"
        ),
        EscapeError::InvalidCharRef(ParseCharRefError::IllegalCharacter(n))
        | EscapeError::InvalidCharRef(ParseCharRefError::InvalidCodepoint(n)) => {
            format!("`&#{n};` is a character XML does not allow")
        }
        EscapeError::InvalidCharRef(_) => {
            "a character reference must be `&#` and a decimal number, or `&#x` and a hex number, then `;`".to_string()
        }
        EscapeError::TooManyNestedEntities => "too many nested references".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceKind;

    fn parse_str(text: &str) -> (Document<'static>, Vec<Diagnostic>) {
        let source = Source::new("t.xml".into(), text.into(), SourceKind::Topology);
        let source: &'static Source = Box::leak(Box::new(source));
        parse(FileId(0), source)
    }

    /// A name twice in one tag is an error on the tag, whether the tag is small (names
    /// compared one by one) or has many attributes (names kept in a set); the attributes
    /// before the second one are kept, the rest of the tag is not read.
    #[test]
    fn an_attribute_twice_in_one_tag_is_an_error() {
        let many = |n: usize, again: Option<usize>| {
            let mut attrs: Vec<String> = (0..n).map(|i| format!("a{i}=\"{i}\"")).collect();
            if let Some(k) = again {
                attrs.push(format!("a{k}=\"again\""));
                attrs.push("after=\"x\"".to_string());
            }
            format!("<config><exchange {}/></config>", attrs.join(" "))
        };
        for (n, again) in [
            (2, Some(0)),
            (2, Some(1)),
            (40, Some(3)),
            (40, Some(39)),
            (15, Some(14)),
        ] {
            let text = many(n, again);
            let (doc, diags) = parse_str(&text);
            assert_eq!(diags.len(), 1, "{n} {again:?}: {diags:?}");
            assert_eq!(
                diags[0].message,
                "malformed attribute: the same attribute twice in one tag: keep one"
            );
            let tag = diags[0].labels[0].span;
            assert!(text[tag.start as usize..tag.end as usize].starts_with("<exchange a0="));
            let exchange = &doc.root.unwrap().children[0];
            assert_eq!(exchange.attrs.len(), n, "{n} {again:?}");
            assert_eq!(
                exchange
                    .attr(&format!("a{}", again.unwrap()))
                    .unwrap()
                    .value,
                again.unwrap().to_string()
            );
        }
        for n in [1, 15, 16, 17, 40] {
            let (doc, diags) = parse_str(&many(n, None));
            assert!(diags.is_empty(), "{n}: {diags:?}");
            assert_eq!(doc.root.unwrap().children[0].attrs.len(), n);
        }
    }

    #[test]
    fn keeps_attribute_spans() {
        let text = r#"<config><exchange name="ex"/></config>"#;
        let (doc, diags) = parse_str(text);
        assert!(diags.is_empty(), "{diags:?}");
        let ex = &doc.root.unwrap().children[0];
        let attr = ex.attr("name").unwrap();
        assert_eq!(
            &text[attr.value_span.start as usize..attr.value_span.end as usize],
            "ex"
        );
        assert_eq!(
            &text[attr.name_span.start as usize..attr.name_span.end as usize],
            "name"
        );
        assert_eq!(
            &text[ex.name_span.start as usize..ex.name_span.end as usize],
            "exchange"
        );
    }

    #[test]
    fn bom_is_skipped_and_spans_stay_in_the_file() {
        let text = "\u{feff}<config a=\"1\"/>";
        let (doc, diags) = parse_str(text);
        assert!(diags.is_empty(), "{diags:?}");
        let a = doc.root.unwrap().attrs[0].clone();
        assert_eq!(
            &text[a.value_span.start as usize..a.value_span.end as usize],
            "1"
        );
    }

    #[test]
    fn predefined_entities_resolve_and_others_are_errors() {
        let (doc, diags) = parse_str("<config>a&amp;b&#65;</config>");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(doc.root.unwrap().text, "a&bA");
        let (_, diags) = parse_str("<!DOCTYPE c [<!ENTITY x \"y\">]><config>&x;</config>");
        let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert!(codes.contains(&Code::Doctype), "{codes:?}");
        assert!(codes.contains(&Code::Entity), "{codes:?}");
    }

    #[test]
    fn malformed_and_unclosed_are_located() {
        let (_, diags) = parse_str("<config>\n<exchange>\n</config>");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, Code::Syntax);
        let (_, diags) = parse_str("<config>\n<exchange>");
        assert_eq!(diags[0].code, Code::Syntax);
    }

    #[test]
    fn deep_nesting_is_cut_without_recursion() {
        let depth = 100_000;
        let text = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let (doc, diags) = parse_str(&text);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::TooDeep);
        assert!(doc.root.is_some());
    }

    #[test]
    fn characters_xml_forbids_are_refused_raw_and_as_references() {
        let (doc, diags) =
            parse_str("<config>\n<exchange name=\"a\u{1b}]0;x\u{7}\"/>\u{0}</config>");
        assert!(doc.root.is_none());
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, Code::Syntax);
        assert!(
            diags[0].message.contains("U+001B (ESC)"),
            "{}",
            diags[0].message
        );
        assert!(diags[0].message.contains("2 more"), "{}", diags[0].message);
        assert_eq!(diags[0].labels[0].span.start, 26);

        let text = "<config><exchange name=\"c&#1;d\"/>&#x1b;</config>";
        let (_, diags) = parse_str(text);
        let spans: Vec<&str> = diags
            .iter()
            .map(|d| &text[d.labels[0].span.start as usize..d.labels[0].span.end as usize])
            .collect();
        assert_eq!(spans, ["&#1;", "&#x1b;"], "{diags:?}");
        assert!(diags.iter().all(|d| d.code == Code::Syntax));
        // Tab, line feed, carriage return and C1 characters are allowed.
        let (_, diags) = parse_str("<config a=\"&#9;&#10;&#13;&#x85;\">\t\r\n\u{85}</config>");
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn empty_file_is_an_error() {
        let (_, diags) = parse_str("  \n");
        assert_eq!(diags[0].code, Code::Syntax);
    }
}
