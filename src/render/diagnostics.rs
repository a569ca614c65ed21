//! Human rendering of diagnostics, like rustc: miette's graphical reports with source
//! snippets. Labels in another file than the primary one become related reports with
//! their own snippet.
//!
//! What reaches the terminal is bounded and inert: a snippet shows a window of at most
//! [`WINDOW_CHARS`] characters of each line, around its label, with `…` where the line was
//! cut (a minified file's one line of megabytes costs a window, and its labels still point
//! at the right place); control characters are shown as their control pictures (`␛`) in
//! snippets and escaped (`\u{1b}`) in messages; and each kind of diagnostic is printed at
//! most [`super::MAX_SHOWN_PER_KIND`] times, the rest counted.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use super::{escape_controls, snippet_char};
use crate::diagnostic::{Diagnostic, Severity, Tally};
use crate::plan::thousands;
use crate::source::{FileId, Source, Sources, Span};

/// Characters of a line shown in a snippet; a longer line is cut to a window around its
/// first label.
pub const WINDOW_CHARS: usize = 160;
/// Characters shown before a label, when its line is cut.
const LEAD_CHARS: usize = 60;
/// Lines of a label shown at most (a label over more lines is cut to its first line).
const LABEL_LINES: usize = 4;
const ELLIPSIS: char = '…';

/// One line of a file as a snippet shows it.
struct ShownLine {
    /// 0-based line in the file.
    line: usize,
    /// Byte range of the line's window in the file.
    window: std::ops::Range<usize>,
    /// Column (0-based, characters) of the window's start in the file.
    column: usize,
    /// Where the line starts in `Excerpt::text`, and where its window's text starts (after
    /// a leading `…`).
    at: usize,
    text_at: usize,
    /// Where the line ends in `Excerpt::text` (after a trailing `…`).
    end: usize,
}

/// Runs of consecutive shown lines, each read by miette as one snippet.
struct Group {
    /// Range in `Excerpt::lines`.
    lines: std::ops::Range<usize>,
}

/// What miette sees of one file for one diagnostic: only the lines its labels need (each
/// with a line of context), each cut to a window and made inert, joined by `\n`. Offsets
/// of labels are offsets in `text`; line numbers and columns are the file's.
struct Excerpt<'a> {
    source: &'a Source,
    name: String,
    text: String,
    lines: Vec<ShownLine>,
    groups: Vec<Group>,
    /// (excerpt offset, file offset) of each label's start: the header's location is the
    /// file's, even for a label cut to a `…`.
    starts: Vec<(usize, usize)>,
}

impl<'a> Excerpt<'a> {
    /// The excerpt showing `spans` of `source`, and each span in excerpt offsets.
    fn new(source: &'a Source, spans: &[Span]) -> (Excerpt<'a>, Vec<SourceSpan>) {
        let text = source.text.as_str();
        let last_line = source.line_count().saturating_sub(1);
        // (line, rank, anchor byte) of every line to show: a line is cut around the start
        // of its first label in the diagnostic's order (the primary one first), else at its
        // start.
        let mut wanted: Vec<(usize, usize, usize)> = Vec::new();
        let clamped: Vec<(usize, usize)> = spans
            .iter()
            .map(|span| {
                let start = (span.start as usize).min(text.len());
                let end = (span.end as usize).clamp(start, text.len());
                let first = source.line_of(start);
                let end = if source.line_of(end) > first + LABEL_LINES {
                    line_end(source, first)
                } else {
                    end
                };
                (start, end)
            })
            .collect();
        for (rank, &(start, end)) in clamped.iter().enumerate() {
            let first = source.line_of(start);
            let last = source.line_of(end);
            wanted.push((first, rank, start));
            for line in first.saturating_sub(1)..=(last + 1).min(last_line) {
                wanted.push((line, usize::MAX, source.line_start(line)));
            }
        }
        wanted.sort_unstable();
        wanted.dedup_by_key(|(line, _, _)| *line);

        let mut excerpt = Excerpt {
            source,
            name: escape_controls(&source.name, false).into_owned(),
            text: String::new(),
            lines: Vec::with_capacity(wanted.len()),
            groups: Vec::new(),
            starts: Vec::new(),
        };
        for (line, _, anchor) in wanted {
            excerpt.push_line(line, anchor);
        }
        let mapped = clamped
            .iter()
            .map(|&(start, end)| {
                let from = excerpt.offset(start);
                let to = excerpt.offset(end).max(from);
                excerpt.starts.push((from, start));
                SourceSpan::new(from.into(), to - from)
            })
            .collect();
        (excerpt, mapped)
    }

    fn push_line(&mut self, line: usize, anchor: usize) {
        let text = self.source.text.as_str();
        let (start, end) = (self.source.line_start(line), line_end(self.source, line));
        let window = if end - start <= WINDOW_CHARS {
            start..end
        } else {
            let anchor = anchor.clamp(start, end);
            let from = back(text, anchor, LEAD_CHARS, start);
            from..forward(text, from, WINDOW_CHARS, end)
        };
        let at = if self.lines.is_empty() {
            0
        } else {
            self.text.push('\n');
            self.text.len()
        };
        if self.lines.last().is_none_or(|l| l.line + 1 != line) {
            self.groups.push(Group {
                lines: self.lines.len()..self.lines.len(),
            });
        }
        if window.start > start {
            self.text.push(ELLIPSIS);
        }
        let text_at = self.text.len();
        self.text
            .extend(text[window.clone()].chars().map(snippet_char));
        if window.end < end {
            self.text.push(ELLIPSIS);
        }
        self.lines.push(ShownLine {
            line,
            column: self.source.location(window.start).1 - 1,
            window,
            at,
            text_at,
            end: self.text.len(),
        });
        if let Some(group) = self.groups.last_mut() {
            group.lines.end = self.lines.len();
        }
    }

    /// The excerpt offset showing a byte offset of the file: inside its line's window, or
    /// at the `…` on the side where it was cut.
    fn offset(&self, offset: usize) -> usize {
        let line = self.source.line_of(offset);
        let Ok(i) = self.lines.binary_search_by_key(&line, |l| l.line) else {
            return self.text.len();
        };
        let shown = &self.lines[i];
        if offset < shown.window.start {
            return shown.at;
        }
        if offset > shown.window.end {
            return shown.end;
        }
        let text = self.source.text.as_str();
        let mut at = shown.text_at;
        for c in text[shown.window.start..offset.min(text.len())].chars() {
            at += snippet_char(c).len_utf8();
        }
        at
    }

    /// The shown line holding an excerpt offset.
    fn line_at(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|l| l.at <= offset)
            .saturating_sub(1)
    }
}

/// Byte offset of the end of a 0-based line, before its `\n` (and `\r`).
fn line_end(source: &Source, line: usize) -> usize {
    let bytes = source.text.as_bytes();
    let mut end = source.line_start(line + 1);
    let start = source.line_start(line);
    if end > start && bytes.get(end - 1) == Some(&b'\n') {
        end -= 1;
        if end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
    }
    end
}

/// `offset` moved back by up to `chars` characters, not before `floor`.
fn back(text: &str, offset: usize, chars: usize, floor: usize) -> usize {
    let mut at = offset;
    for _ in 0..chars {
        if at <= floor {
            break;
        }
        at -= 1;
        while at > floor && !text.is_char_boundary(at) {
            at -= 1;
        }
    }
    at
}

/// `offset` moved forward by up to `chars` characters, not past `ceiling`.
fn forward(text: &str, offset: usize, chars: usize, ceiling: usize) -> usize {
    let mut at = offset;
    for _ in 0..chars {
        if at >= ceiling {
            break;
        }
        at += 1;
        while at < ceiling && !text.is_char_boundary(at) {
            at += 1;
        }
    }
    at
}

impl SourceCode for Excerpt<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        if span.offset() + span.len() > self.text.len() || self.lines.is_empty() {
            return Err(MietteError::OutOfBounds);
        }
        let i = self.line_at(span.offset());
        let shown = &self.lines[i];
        if before == 0 && after == 0 {
            // Just the span: miette reads it so to print the location's line and column,
            // the file's own.
            let (line, column) = match self.starts.iter().find(|(at, _)| *at == span.offset()) {
                Some((_, offset)) => {
                    let (line, column) = self.source.location(*offset);
                    (line - 1, column - 1)
                }
                None => {
                    let within = self
                        .text
                        .get(shown.text_at.min(span.offset())..span.offset())
                        .map(|s| s.chars().count())
                        .unwrap_or(0);
                    (shown.line, shown.column + within)
                }
            };
            let data = &self.text.as_bytes()[span.offset()..span.offset() + span.len()];
            return Ok(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                data,
                *span,
                line,
                column,
                1,
            )));
        }
        // The run of consecutive lines holding the span: they already carry their context.
        let group = self
            .groups
            .iter()
            .find(|g| g.lines.contains(&i))
            .ok_or(MietteError::OutOfBounds)?;
        let first = &self.lines[group.lines.start];
        let last = &self.lines[group.lines.end - 1];
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[first.at..last.end],
            SourceSpan::new(first.at.into(), last.end - first.at),
            first.line,
            0,
            group.lines.len(),
        )))
    }
}

/// One diagnostic seen through miette: the labels of one file, the rest as related reports.
struct Report<'a> {
    message: String,
    code: Option<&'static str>,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<Excerpt<'a>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.code.map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_deref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'b>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn labeled(span: SourceSpan, text: &str, primary: bool) -> LabeledSpan {
    let text = Some(escape_controls(text, false).into_owned());
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

fn report<'a>(d: &'a Diagnostic, sources: &'a Sources) -> Report<'a> {
    let severity = match d.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    let primary: Option<FileId> = d.primary().map(|s| s.file);
    let mut related = Vec::new();
    let mut source = None;
    let mut labels = Vec::new();
    if let Some(file) = primary {
        let own: Vec<&crate::diagnostic::Label> =
            d.labels.iter().filter(|l| l.span.file == file).collect();
        let spans: Vec<Span> = own.iter().map(|l| l.span).collect();
        let (excerpt, mapped) = Excerpt::new(sources.get(file), &spans);
        for (i, (label, span)) in own.iter().zip(mapped).enumerate() {
            labels.push(labeled(span, &label.text, i == 0));
        }
        source = Some(excerpt);
    }
    for label in d.labels.iter().filter(|l| Some(l.span.file) != primary) {
        let (excerpt, mapped) = Excerpt::new(sources.get(label.span.file), &[label.span]);
        related.push(Report {
            message: escape_controls(&label.text, true).into_owned(),
            code: None,
            severity: miette::Severity::Advice,
            help: None,
            source: Some(excerpt),
            labels: mapped
                .into_iter()
                .map(|span| labeled(span, &label.text, true))
                .collect(),
            related: Vec::new(),
        });
    }
    Report {
        message: escape_controls(&d.message, true).into_owned(),
        code: Some(d.code.as_str()),
        severity,
        help: d
            .help
            .as_deref()
            .map(|h| escape_controls(h, true).into_owned()),
        source,
        labels,
        related,
    }
}

/// Renders every diagnostic and a summary line, rustc-style.
pub fn render(diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // Lines wrap at spaces only: a name (`x-dead-letter-exchange`, `catalog.product.removed`)
    // is never split, and no Unicode line-breaking is run over ASCII messages (a third of
    // the time of rendering a handful of warnings).
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        .with_links(false)
        .with_primary_span_start();
    let mut out = String::new();
    let (shown, hidden) = super::capped(diagnostics);
    for d in shown {
        let r = report(d, sources);
        if handler.render_report(&mut out, &r).is_err() {
            let message = escape_controls(&d.message, true);
            out.push_str(&format!("{}: {message}\n", d.severity.as_str()));
        }
        out.push('\n');
    }
    for kind in &hidden {
        out.push_str(&format!(
            "... and {} more {} of this kind ({}): --format json lists them all\n",
            thousands(kind.count as u64),
            plural_severity(kind.severity, kind.count),
            kind.code.as_str()
        ));
    }
    if !hidden.is_empty() {
        out.push('\n');
    }
    let tally = Tally::of(diagnostics);
    if tally.errors + tally.warnings > 0 {
        out.push_str(&summary(tally));
        out.push('\n');
    }
    out
}

/// `errors`, `warning`.
pub(crate) fn plural_severity(severity: Severity, n: usize) -> String {
    format!("{}{}", severity.as_str(), if n == 1 { "" } else { "s" })
}

/// `2 errors, 1 warning`.
pub fn summary(t: Tally) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(t.errors, "error"),
        plural(t.warnings, "warning")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::source::SourceKind;

    fn one_file(text: &str) -> Sources {
        let mut sources = Sources::default();
        sources.add(Source::new(
            "f.xml".into(),
            text.into(),
            SourceKind::Topology,
        ));
        sources
    }

    #[test]
    fn a_long_line_is_cut_around_the_primary_label() {
        let text = format!("<a b=\"1\"{}c=\"2\"/>", " ".repeat(100_000));
        let sources = one_file(&text);
        let far = text.find("c=").unwrap();
        let d = Diagnostic::error(Code::UnknownAttribute, "far")
            .with_label(Span::new(FileId(0), far, far + 1), "primary here")
            .with_label(Span::new(FileId(0), 3, 4), "secondary here");
        let out = render(&[d], &sources, false);
        assert!(out.contains(&format!("[f.xml:1:{}]", far + 1)), "{out}");
        assert!(out.contains("primary here"), "{out}");
        assert!(out.contains(" …   "), "{out}");
        assert!(out.contains("c=\"2\"/>"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() < 250), "{out}");
    }

    #[test]
    fn labels_far_apart_get_snippets_of_their_own_lines() {
        let mut text = String::from("<config>\n");
        for i in 0..10_000 {
            text.push_str(&format!("  <x{i}/>\n"));
        }
        text.push_str("</config>\n");
        let sources = one_file(&text);
        let last = text.find("<x9999/>").unwrap();
        let d = Diagnostic::error(Code::Syntax, "two places")
            .with_label(Span::new(FileId(0), 0, 7), "first")
            .with_label(Span::new(FileId(0), last, last + 7), "second");
        let out = render(&[d], &sources, false);
        assert!(out.contains("[f.xml:1:1]"), "{out}");
        assert!(out.contains("10001 │   <x9999/>"), "{out}");
        assert!(!out.contains("<x5000/>"), "{out}");
    }

    /// Help text wraps at spaces only: a hyphenated or dotted name that reaches the edge
    /// goes whole to the next line.
    #[test]
    fn long_help_wraps_at_spaces_and_keeps_names_whole() {
        let sources = one_file("<a/>");
        let name = "x-dead-letter-exchange.of.a-very-long-queue-name";
        for pad in 40..80 {
            let help = format!("{} '{name}': and more words after it", "w ".repeat(pad / 2));
            let d = Diagnostic::warning(Code::Syntax, "m")
                .with_label(Span::new(FileId(0), 0, 2), "here")
                .with_help(help);
            let out = render(&[d], &sources, false);
            assert!(out.contains(&format!("'{name}'")), "{out}");
            assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
        }
    }

    #[test]
    fn control_characters_are_pictures_in_snippets_and_escaped_in_messages() {
        let sources = one_file("<a n=\"\u{1b}[2J\u{9b}\"/>");
        let d = Diagnostic::error(Code::Syntax, "bad \u{1b}[2J")
            .with_label(Span::new(FileId(0), 6, 7), "here \u{7}")
            .with_help("help \u{1b}");
        let out = render(&[d], &sources, false);
        assert!(out.contains("<a n=\"␛[2J�\"/>"), "{out}");
        assert!(out.contains("bad \\u{1b}[2J"), "{out}");
        assert!(out.contains("here \\u{7}"), "{out}");
        assert!(
            !out.chars()
                .any(|c| c != '\n' && crate::render::is_control(c)),
            "{out}"
        );
    }
}
