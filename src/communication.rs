//! Reads the `communication.xml` files beside the topology files: which topics are
//! synchronous. Magento declares a `responseQueue.<topic>` queue for each synchronous topic
//! a binding routes to a queue; the model needs this to declare the same.
//!
//! Takes: parsed `communication.xml` documents, in merge order. Gives: [`SyncTopics`].
//! A topic is synchronous as Magento's converter decides: `request` + `response` → yes
//! unless `is_synchronous="false"`; `request` only → no unless `is_synchronous="true"`;
//! `schema="Class::method"` → Magento reflects the PHP method's return type, which this tool
//! cannot see: it takes `is_synchronous` when given, else assumes yes. `is_synchronous` is
//! read as PHP's `FILTER_VALIDATE_BOOLEAN` reads it (`yes`/`on` are true, `off`/`maybe` false).

use std::collections::HashMap;

use crate::syntax::Document;

/// PHP's `filter_var($v, FILTER_VALIDATE_BOOLEAN)`, as Magento reads `is_synchronous`
/// (Communication/Config/Reader/XmlReader/Converter.php): `true`, `1`, `yes` and `on`
/// (any case, surrounding whitespace ignored) are true; anything else is false.
pub fn php_filter_bool(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

/// Topic name → synchronous, merged across files (later file wins), in first-seen order.
#[derive(Clone, Debug, Default)]
pub struct SyncTopics {
    order: Vec<String>,
    sync: HashMap<String, bool>,
}

impl SyncTopics {
    pub fn from_documents(docs: &[Document]) -> SyncTopics {
        let mut out = SyncTopics::default();
        for doc in docs {
            let Some(root) = &doc.root else { continue };
            for topic in root.children.iter().filter(|c| c.name == "topic") {
                let Some(name) = topic.attr("name") else {
                    continue;
                };
                let declared = topic
                    .attr("is_synchronous")
                    .map(|a| php_filter_bool(&a.value));
                let has = |a: &str| topic.attr(a).is_some();
                // `schema`: Magento reflects the method's return type; assume synchronous.
                let sync = if has("schema") || (has("request") && has("response")) {
                    declared.unwrap_or(true)
                } else if has("request") {
                    declared.unwrap_or(false)
                } else {
                    continue;
                };
                if out.sync.insert(name.value.to_string(), sync).is_none() {
                    out.order.push(name.value.to_string());
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The synchronous topics a binding's topic designates, as Magento finds them: a topic
    /// with `*` or `#` is matched against every synchronous topic (`#` = one or more of any
    /// character, `*` = one or more characters other than `.`), any other topic names itself.
    pub fn synchronous_for<'a>(&'a self, topic: &str) -> Vec<&'a str> {
        if topic.contains('*') || topic.contains('#') {
            self.order
                .iter()
                .filter(|t| self.sync.get(*t) == Some(&true) && wildcard_match(topic, t))
                .map(String::as_str)
                .collect()
        } else if self.sync.get(topic) == Some(&true) {
            self.order
                .iter()
                .filter(|t| *t == topic)
                .map(String::as_str)
                .collect()
        } else {
            Vec::new()
        }
    }
}

/// Magento's `responseQueue.` name: dashes in the topic become underscores.
pub fn response_queue_name(topic: &str) -> String {
    format!("responseQueue.{}", topic.replace('-', "_"))
}

/// Matches Magento's wildcard regex, without building a regex.
fn wildcard_match(pattern: &str, topic: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = topic.chars().collect();
    // reachable[j]: the pattern prefix read so far can match t[..j]
    let mut reachable = vec![false; t.len() + 1];
    reachable[0] = true;
    for &pc in &p {
        let mut next = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            if !reachable[j] {
                continue;
            }
            match pc {
                '#' | '*' => {
                    let mut k = j;
                    while k < t.len() && (pc == '#' || t[k] != '.') {
                        k += 1;
                        next[k] = true;
                    }
                }
                c => {
                    if j < t.len() && t[j] == c {
                        next[j + 1] = true;
                    }
                }
            }
        }
        reachable = next;
    }
    reachable[t.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_follow_magento_regex() {
        assert!(wildcard_match("#", "a.b.c"));
        assert!(wildcard_match("*.*.*", "a.b.c"));
        assert!(!wildcard_match("*.*.*", "a.b.c.d"));
        assert!(wildcard_match("#.wildcard", "x.y.wildcard"));
        assert!(!wildcard_match("#.wildcard", ".wildcard"));
        assert!(wildcard_match("async.#", "async.x"));
        assert!(!wildcard_match(
            "*.segment3.wildcard",
            "a.b.segment3.wildcard"
        ));
    }

    /// Magento's Communication converter reads `is_synchronous` with
    /// `filter_var(..., FILTER_VALIDATE_BOOLEAN)`.
    #[test]
    fn is_synchronous_is_read_as_php_reads_it() {
        for yes in ["true", "1", "yes", "on", " YES ", "On"] {
            assert!(php_filter_bool(yes), "{yes:?}");
        }
        for no in ["false", "0", "no", "off", "", "maybe", "2"] {
            assert!(!php_filter_bool(no), "{no:?}");
        }
        let source = crate::source::Source::new(
            "communication.xml".into(),
            r#"<config><topic name="a" request="R" response="S" is_synchronous="off"/>
               <topic name="b" request="R" is_synchronous="yes"/></config>"#
                .into(),
            crate::source::SourceKind::Communication,
        );
        let doc = crate::syntax::parse(crate::source::FileId(0), &source).0;
        let topics = SyncTopics::from_documents(&[doc]);
        assert!(topics.synchronous_for("a").is_empty(), "off is false");
        assert_eq!(topics.synchronous_for("b"), ["b"], "yes is true");
    }

    #[test]
    fn response_queue_names() {
        assert_eq!(response_queue_name("a-b.c"), "responseQueue.a_b.c");
    }
}
