//! Human rendering of diagnostics, like rustc: miette's graphical reports with source
//! snippets. Labels in another file than the primary one become related reports with
//! their own snippet.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use crate::diagnostic::{Diagnostic, Severity, Tally};
use crate::source::{FileId, Sources, Span};

/// A file's text under its name, borrowed: miette's `NamedSource` would copy it.
struct FileCode<'a> {
    name: &'a str,
    text: &'a str,
}

impl SourceCode for FileCode<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
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
        FileCode {
            name: &s.name,
            text: &s.text,
        }
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
    format!("{}, {}", plural(t.errors, "error"), plural(t.warnings, "warning"))
}
