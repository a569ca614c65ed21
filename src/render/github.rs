//! GitHub Actions workflow annotations: one `::error`/`::warning` line per diagnostic.

use super::escape_controls;
use crate::diagnostic::Diagnostic;
use crate::plan::thousands;
use crate::render::diagnostics::plural_severity;
use crate::source::Sources;

/// Escapes a property value (`file`, `title`) of a workflow command.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Escapes the message of a workflow command (and every control character, which the log
/// viewer would act on).
fn data(s: &str) -> String {
    escape_controls(s, true)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn render(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let mut out = String::new();
    let (shown, hidden) = super::capped(diagnostics);
    for d in shown {
        let mut props = Vec::new();
        if let Some(span) = d.primary() {
            let (file, line, column) = sources.location(span);
            props.push(format!("file={}", property(file)));
            props.push(format!("line={line}"));
            props.push(format!("col={column}"));
        }
        props.push(format!("title={}", property(d.code.as_str())));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{} {}::{}\n",
            d.severity.as_str(),
            props.join(","),
            data(&message)
        ));
    }
    for kind in hidden {
        out.push_str(&format!(
            "::notice title={}::{}\n",
            property(kind.code.as_str()),
            data(&format!(
                "... and {} more {} of this kind ({}): --format json lists them all",
                thousands(kind.count as u64),
                plural_severity(kind.severity, kind.count),
                kind.code.as_str()
            ))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_per_workflow_command_rules() {
        assert_eq!(data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(property("C:\\x,y"), "C%3A\\x%2Cy");
    }
}
