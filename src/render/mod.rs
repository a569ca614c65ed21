//! Renderers: diagnostics and plans → text (human, JSON, GitHub annotations), the
//! topology → RabbitMQ definitions and pictures (Mermaid, DOT). The only
//! code, with `main.rs` and `app.rs`, that decides how anything looks. Logic stages return
//! data; these functions return strings and never print.

pub mod definitions;
pub mod diagnostics;
pub mod dot;
pub mod github;
pub mod graph;
pub mod json;
pub mod markdown;
pub mod mermaid;
pub mod plan;
pub mod properties;
pub mod topology_xml;

use std::borrow::Cow;

use crate::diagnostic::{Code, Diagnostic, Severity};

/// Diagnostics of one kind (code and severity) printed at most by the human and GitHub
/// renderers; the rest are counted in one line. JSON lists them all.
pub const MAX_SHOWN_PER_KIND: usize = 50;

/// Diagnostics of one kind left out by [`capped`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hidden {
    pub code: Code,
    pub severity: Severity,
    pub count: usize,
}

/// The diagnostics to print, in their order (the first [`MAX_SHOWN_PER_KIND`] of each
/// kind), and how many of each kind are left out, in the order the kinds first appear.
pub fn capped(diagnostics: &[Diagnostic]) -> (Vec<&Diagnostic>, Vec<Hidden>) {
    let mut seen: Vec<Hidden> = Vec::new();
    let mut shown = Vec::new();
    for d in diagnostics {
        let i = match seen
            .iter()
            .position(|h| h.code == d.code && h.severity == d.severity)
        {
            Some(i) => i,
            None => {
                seen.push(Hidden {
                    code: d.code,
                    severity: d.severity,
                    count: 0,
                });
                seen.len() - 1
            }
        };
        seen[i].count += 1;
        if seen[i].count <= MAX_SHOWN_PER_KIND {
            shown.push(d);
        }
    }
    let hidden = seen
        .into_iter()
        .filter(|h| h.count > MAX_SHOWN_PER_KIND)
        .map(|h| Hidden {
            count: h.count - MAX_SHOWN_PER_KIND,
            ..h
        })
        .collect();
    (shown, hidden)
}

/// Whether a terminal may act on `c` instead of showing it: C0 controls, DEL, C1 controls
/// (U+0080 to U+009F; U+009B is a CSI) and the bidirectional overrides and isolates that
/// reorder what is shown.
pub fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` as it may go to a terminal: every [`is_control`] character written as a Rust
/// escape (`\u{1b}`, `\n`, `\t`), so a file cannot retitle, clear or recolour a terminal,
/// nor break a line. With `keep_newlines`, `\n` stays a line break (multi-line messages).
pub fn escape_controls(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad = |c: char| is_control(c) && !(keep_newlines && c == '\n');
    // Printable ASCII, as nearly every line is, holds none.
    if printable_ascii(text) || !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `text` is all printable ASCII (space to `~`). Checked 32 bytes at a time, each
/// block without an early exit, which the compiler turns into vector instructions (a plan
/// of a million changes checks every line it writes).
fn printable_ascii(text: &str) -> bool {
    let printable = |ok: bool, &b: &u8| ok & (b.wrapping_sub(b' ') < 95);
    let mut blocks = text.as_bytes().chunks_exact(32);
    blocks.all(|block| block.iter().fold(true, printable))
        && blocks.remainder().iter().fold(true, printable)
}

/// One character of a source snippet as a terminal may show it in one column: a control
/// character as its Unicode control picture (`␛` for ESC, `␀` for NUL), a C1 control or
/// bidirectional override as `�`; else itself (a tab too: miette expands it).
pub fn snippet_char(c: char) -> char {
    match c {
        '\t' => c,
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        c if is_control(c) => '\u{fffd}',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_told_apart_at_every_place_of_a_block() {
        let line = "  + queue acme.m0001.x01.q01 (durable) x-max-length = 100000 ~";
        assert!(printable_ascii(line));
        assert!(printable_ascii(""));
        for at in 0..line.len() {
            for bad in ['\u{1b}', '\u{7f}', '\n', 'é', '\u{0}'] {
                let mut text = line.to_string();
                text.replace_range(at..at + 1, &bad.to_string());
                assert!(!printable_ascii(&text), "{text:?}");
            }
        }
    }

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(
            escape_controls("a\u{1b}]0;x\u{7}b\u{9b}c\u{202e}é\nd", false),
            "a\\u{1b}]0;x\\u{7}b\\u{9b}c\\u{202e}é\\nd"
        );
        assert_eq!(escape_controls("a\nb", true), "a\nb");
        assert!(matches!(escape_controls("plain", false), Cow::Borrowed(_)));
        assert_eq!(snippet_char('\u{1b}'), '␛');
        assert_eq!(snippet_char('\u{0}'), '␀');
        assert_eq!(snippet_char('\u{9b}'), '\u{fffd}');
        assert_eq!(snippet_char('é'), 'é');
    }
}
