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

use ecow::EcoString;
use rustc_hash::FxHashMap as HashMap;
use smallvec::{SmallVec, smallvec};

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
    /// (Shared strings: a topic's name is one allocation for the two, or none when short.)
    order: Vec<EcoString>,
    sync: HashMap<EcoString, bool>,
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
                let name = EcoString::from(name.value.as_ref());
                if out.sync.insert(name.clone(), sync).is_none() {
                    out.order.push(name);
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Every synchronous topic, in first-seen order.
    pub fn synchronous(&self) -> impl Iterator<Item = &str> {
        self.order
            .iter()
            .filter(|t| self.sync.get(*t) == Some(&true))
            .map(EcoString::as_str)
    }

    /// The synchronous topics a binding's topic designates, as Magento finds them: a topic
    /// with `*` or `#` is matched against every synchronous topic (`#` = one or more of any
    /// character, `*` = one or more characters other than `.`), any other topic names itself.
    pub fn synchronous_for<'a>(&'a self, topic: &str) -> Vec<&'a str> {
        if topic.contains('*') || topic.contains('#') {
            self.order
                .iter()
                .filter(|t| self.sync.get(*t) == Some(&true) && wildcard_match(topic, t))
                .map(EcoString::as_str)
                .collect()
        } else if self.sync.get(topic) == Some(&true) {
            self.order
                .iter()
                .filter(|t| *t == topic)
                .map(EcoString::as_str)
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

/// Matches Magento's wildcard regex (`#` is `.+`, `*` is `[^.]+`, anchored at both ends;
/// PHP's `preg_match` without `/u` reads bytes), without building a regex.
///
/// Follows the set of topic positions that the pattern read so far can end at, as a bitset
/// of `topic.len() + 1` bits: each pattern byte is a few passes over `topic.len() / 64`
/// words, so a match costs O(|pattern| × |topic| / 64) whatever the wildcards (a 12 KB
/// `#.#.#…` pattern took 5 s when `#` was extended position by position).
fn wildcard_match(pattern: &str, topic: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), topic.as_bytes());
    // Every pattern byte takes at least one topic byte.
    if p.len() > t.len() {
        return false;
    }
    let bits = Bits::new(t.len() + 1);
    // Topic bytes that a `*` may take: anything but a dot.
    let not_dot = bits.of(|k| k < t.len() && t[k] != b'.');
    // The positions of each byte the pattern names, made once per byte: `slot[c]` is 1 + its
    // index in `masks`, 0 while not made (no 256 empty vectors allocated per match).
    let (mut slot, mut masks) = ([0u8; 256], SmallVec::<[Words; 8]>::new());
    let mut reach = bits.of(|k| k == 0);
    for &pc in p {
        reach = match pc {
            b'#' => {
                // `.+`: every position past the first one reached.
                let Some(first) = bits.first(&reach) else {
                    return false;
                };
                bits.after(first)
            }
            b'*' => bits.shl1(&bits.fill_runs(&reach, &not_dot)),
            c => {
                let at = &mut slot[usize::from(c)];
                if *at == 0 {
                    masks.push(bits.of(|k| k < t.len() && t[k] == c));
                    // At most 254 distinct bytes (all but `#` and `*`): the index fits.
                    *at = masks.len() as u8;
                }
                let mask = &masks[usize::from(*at) - 1];
                let moved: Words = reach.iter().zip(mask.iter()).map(|(r, m)| r & m).collect();
                bits.shl1(&moved)
            }
        };
        if reach.iter().all(|w| *w == 0) {
            return false;
        }
    }
    bits.get(&reach, t.len())
}

/// A bitset's words: held inline for topics of up to 127 bytes (nearly all of them), so a
/// match allocates nothing.
type Words = SmallVec<[u64; 2]>;

/// Bitsets of a fixed number of positions, 64 to a word.
struct Bits {
    len: usize,
    words: usize,
}

impl Bits {
    fn new(len: usize) -> Bits {
        Bits {
            len,
            words: len.div_ceil(64),
        }
    }

    fn of(&self, set: impl Fn(usize) -> bool) -> Words {
        let mut out = smallvec![0u64; self.words];
        for k in (0..self.len).filter(|&k| set(k)) {
            out[k / 64] |= 1 << (k % 64);
        }
        out
    }

    /// Every position past `k`.
    fn after(&self, k: usize) -> Words {
        let mut out = smallvec![u64::MAX; self.words];
        out[..k / 64].fill(0);
        out[k / 64] = u64::MAX.checked_shl(k as u32 % 64 + 1).unwrap_or(0);
        self.trim(&mut out);
        out
    }

    fn get(&self, bits: &[u64], k: usize) -> bool {
        bits[k / 64] >> (k % 64) & 1 == 1
    }

    fn first(&self, bits: &[u64]) -> Option<usize> {
        let (i, w) = bits.iter().enumerate().find(|(_, w)| **w != 0)?;
        Some(i * 64 + w.trailing_zeros() as usize)
    }

    /// Every position moved up by one (the last one falls off).
    fn shl1(&self, bits: &[u64]) -> Words {
        let mut carry = 0;
        let mut out: Words = bits
            .iter()
            .map(|w| {
                let shifted = (w << 1) | carry;
                carry = w >> 63;
                shifted
            })
            .collect();
        self.trim(&mut out);
        out
    }

    fn trim(&self, bits: &mut [u64]) {
        if !self.len.is_multiple_of(64)
            && let Some(last) = bits.last_mut()
        {
            *last &= (1 << (self.len % 64)) - 1;
        }
    }

    /// The positions of each run of `runs` from the first position of `starts` in it to the
    /// run's end: where `[^.]+` can have read up to, from the positions `starts`. One
    /// addition with carries does it: adding each run's first position to the run's
    /// non-start positions clears them up to the first start.
    fn fill_runs(&self, starts: &[u64], runs: &[u64]) -> Words {
        let mut out = smallvec![0u64; self.words];
        let (mut carry, mut prev_top) = (false, 0u64);
        for i in 0..self.words {
            let r = runs[i];
            let s = starts[i] & r;
            // run beginnings: in a run, and the position before is not
            let begins = r & !((r << 1) | prev_top);
            prev_top = r >> 63;
            let waiting = r & !s;
            let (sum, c1) = waiting.overflowing_add(begins);
            let (sum, c2) = sum.overflowing_add(u64::from(carry));
            carry = c1 || c2;
            // still waiting after the addition: no start yet in their run
            out[i] = r & !(waiting & !sum);
        }
        self.trim(&mut out);
        out
    }
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

    /// The regex Magento builds, matched position by position: the reference.
    fn reference(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((&w @ (b'#' | b'*'), rest)) => (1..=t.len())
                .take_while(|&k| w == b'#' || t[k - 1] != b'.')
                .any(|k| reference(rest, &t[k..])),
            Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
        }
    }

    /// Every pattern and topic of up to 7 bytes over `a`, `b`, `.`, `#`, `*` (a few
    /// thousand pairs, with runs crossing word boundaries added) agrees with the reference.
    #[test]
    fn wildcards_agree_with_the_regex() {
        let alphabet = [b'a', b'b', b'.', b'#', b'*'];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..20_000 {
            let p: Vec<u8> = (0..next(8)).map(|_| alphabet[next(5)]).collect();
            let t: Vec<u8> = (0..next(8)).map(|_| alphabet[next(3)]).collect();
            let (p, t) = (String::from_utf8(p).unwrap(), String::from_utf8(t).unwrap());
            assert_eq!(
                wildcard_match(&p, &t),
                reference(p.as_bytes(), t.as_bytes()),
                "{p:?} {t:?}"
            );
        }
        for (p, t) in [
            ("a*", format!("a{}", "b".repeat(130))),
            ("a*.b", format!("a{}.b", "b".repeat(130))),
            ("*.*", format!("{}.{}", "a".repeat(63), "b".repeat(64))),
            ("#*", format!("{}.{}", "a".repeat(64), "b".repeat(63))),
            ("*", format!("{}.", "a".repeat(127))),
            // Every printable byte but the wildcards, each one's positions made once.
            (
                "!\"$%&'()+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~*",
                "!\"$%&'()+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~xy".to_string(),
            ),
        ] {
            assert_eq!(
                wildcard_match(p, &t),
                reference(p.as_bytes(), t.as_bytes()),
                "{p:?} {t:?}"
            );
        }
    }

    /// Issue 11: a 12 KB `#.#.#…` topic against a 12 KB synchronous topic took 5 s (each `#`
    /// was extended position by position: cubic).
    #[test]
    fn long_wildcard_topics_match() {
        let pattern = vec!["#"; 6000].join(".");
        let topic = vec!["ab"; 6000].join(".");
        assert!(wildcard_match(&pattern, &topic));
        let shorter = vec!["ab"; 5999].join(".");
        assert!(!wildcard_match(&pattern, &shorter), "a dot short");
        let stars = vec!["*"; 6000].join(".");
        assert!(wildcard_match(&stars, &topic));
        assert!(!wildcard_match(&stars, &format!("{topic}.x.y")));
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
