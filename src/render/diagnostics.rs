//! Human rendering of diagnostics, like rustc: miette's graphical reports with source
//! snippets. Labels in another file than the primary one become related reports with
//! their own snippet.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use crate::diagnostic::{Diagnostic, Severity, Tally};
use crate::source::{FileId, Source, Sources, Span};

/// A file's text under its name, borrowed (miette's `NamedSource` would copy it), with
/// its line index: reading a snippet costs its own lines, not a scan from the file's start.
struct FileCode<'a> {
    source: &'a Source,
}

impl SourceCode for FileCode<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let src = self.source;
        let text = src.text.as_str();
        if span.offset() + span.len() > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        // Spans are byte ranges: widen them to whole characters.
        let mut start = span.offset();
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (span.offset() + span.len()).max(start);
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let span = &SourceSpan::new(start.into(), end - start);
        if before == 0 && after == 0 {
            // Just the span: miette reads it so to print the location's line and column.
            let line = src.line_of(start);
            let column = text[src.line_start(line)..start].chars().count();
            let lines = text[start..end].matches('\n').count() + 1;
            return Ok(Box::new(MietteSpanContents::new_named(
                src.name.clone(),
                &text.as_bytes()[start..end],
                *span,
                line,
                column,
                lines,
            )));
        }
        let first = src.line_of(start).saturating_sub(before);
        let last = (src.line_of(end.saturating_sub(1).max(start)) + after)
            .min(src.line_count().saturating_sub(1));
        let from = src.line_start(first);
        let mut to = src.line_start(last + 1);
        let bytes = text.as_bytes();
        while to > from && matches!(bytes[to - 1], b'\n' | b'\r') {
            to -= 1;
        }
        Ok(Box::new(MietteSpanContents::new_named(
            src.name.clone(),
            &bytes[from..to],
            SourceSpan::new(from.into(), to - from),
            first,
            0,
            last - first + 1,
        )))
    }
}

/// One diagnostic seen through miette: the labels of one file, the rest as related reports.
struct Report<'a> {
    message: String,
    code: Option<&'static str>,
    severity: miette::Severity,
    help: Option<&'a str>,
    source: Option<FileCode<'a>>,
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
        self.help.map(|h| Box::new(h) as Box<dyn fmt::Display>)
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

fn labeled(span: Span, text: &str, primary: bool) -> LabeledSpan {
    let s = SourceSpan::new((span.start as usize).into(), span.len());
    if primary {
        LabeledSpan::new_primary_with_span(Some(text.to_string()), s)
    } else {
        LabeledSpan::new_with_span(Some(text.to_string()), s)
    }
}

fn report<'a>(d: &'a Diagnostic, sources: &'a Sources) -> Report<'a> {
    let severity = match d.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    let primary: Option<FileId> = d.primary().map(|s| s.file);
    let code_of = |file: FileId| {
        let s = sources.get(file);
        FileCode { source: s }
    };
    let mut labels = Vec::new();
    let mut related = Vec::new();
    for (i, label) in d.labels.iter().enumerate() {
        if Some(label.span.file) == primary {
            labels.push(labeled(label.span, &label.text, i == 0));
        } else {
            related.push(Report {
                message: label.text.clone(),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                source: Some(code_of(label.span.file)),
                labels: vec![labeled(label.span, &label.text, true)],
                related: Vec::new(),
            });
        }
    }
    Report {
        message: d.message.clone(),
        code: Some(d.code.as_str()),
        severity,
        help: d.help.as_deref(),
        source: primary.map(code_of),
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
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
        .with_primary_span_start();
    let mut out = String::new();
    for d in diagnostics {
        let r = report(d, sources);
        if handler.render_report(&mut out, &r).is_err() {
            out.push_str(&format!("{}: {}\n", d.severity.as_str(), d.message));
        }
        out.push('\n');
    }
    let tally = Tally::of(diagnostics);
    if tally.errors + tally.warnings > 0 {
        out.push_str(&summary(tally));
        out.push('\n');
    }
    out
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
