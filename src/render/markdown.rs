//! Markdown rendering of a plan, for a pull-request or merge-request comment
//! (`plan --format markdown`).
//!
//! Takes the plan, the diagnostics with their files, how each broker was read and the
//! connections' masked URLs; gives GitHub-flavoured Markdown: a heading, a summary line, a
//! table of the changes, what differs, unchanged (with `-v`) and unmanaged entities folded in
//! `<details>`, and the diagnostics with their `file:line`. Unchanged entities are counted,
//! not listed, unless `-v`. A table stops at [`MAX_ROWS`] rows (a comment is limited in size)
//! and says how many it left out.
//!
//! Everything the files or a broker gave is escaped ([`code`], [`prose`]): a name can neither
//! break the table (`|`, a line break), open HTML (`<`, `&`), nor start Markdown (backticks,
//! `*`, `[`…), and control characters are shown as escapes.

use std::collections::BTreeMap;

use super::plan::{Options, known_count, label, queue_usage, shown};
use crate::broker::ReadMode;
use crate::diagnostic::{Diagnostic, Severity};
use crate::plan::{Action, Change, Entity, Plan};
use crate::source::Sources;
use crate::text::{count, thousands};

/// Rows of one table at most; the rest are counted.
pub const MAX_ROWS: usize = 200;

/// What a Markdown plan shows besides the plan itself.
pub struct Context<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub sources: &'a Sources,
    /// Connection name → URL shown (password already masked).
    pub connections: &'a BTreeMap<String, String>,
    /// How each connection's broker was read (none offline).
    pub modes: Option<&'a BTreeMap<String, ReadMode>>,
}

/// The whole comment.
pub fn render(plan: &Plan, context: &Context<'_>, options: &Options) -> String {
    let mut out = String::from("### topology plan\n\n");
    out.push_str(&format!("**Plan:** {}.\n\n", summary(plan, options)));
    connections(&mut out, plan, context, options);
    changes(&mut out, plan, options);
    differences(&mut out, plan);
    if options.verbose {
        listed_apart(
            &mut out,
            plan.changes
                .iter()
                .filter(|c| c.action == Action::Unchanged)
                .collect(),
            "unchanged",
        );
    }
    unmanaged(&mut out, plan);
    diagnostics(&mut out, context);
    out.push_str(next_step(plan, options));
    out
}

/// `3 to create, 1 to replace, 12 unchanged; 1 warning`.
fn summary(plan: &Plan, options: &Options) -> String {
    let n = |a: Action| plan.count(a) as u64;
    let mut parts: Vec<String> = [
        (Action::Create, "to create"),
        (Action::Update, "to update"),
        (Action::Replace, "to replace"),
        (Action::Delete, "to delete"),
    ]
    .into_iter()
    .filter(|(a, _)| n(*a) > 0)
    .map(|(a, what)| format!("{} {what}", thousands(n(a))))
    .collect();
    if parts.is_empty() {
        parts.push("no changes".to_string());
    }
    parts.push(format!("{} unchanged", thousands(n(Action::Unchanged))));
    for (action, what) in [
        (Action::Unverified, "unverified"),
        (Action::Skip, "skipped"),
    ] {
        if n(action) > 0 {
            parts.push(format!("{} {what}", thousands(n(action))));
        }
    }
    let mut text = parts.join(", ");
    let t = options.tally;
    let mut problems = Vec::new();
    if t.errors > 0 {
        problems.push(count(t.errors as u64, "error"));
    }
    if t.warnings > 0 {
        problems.push(count(t.warnings as u64, "warning"));
    }
    if !problems.is_empty() {
        text.push_str("; ");
        text.push_str(&problems.join(", "));
    }
    text
}

/// One line per connection: its URL and how its broker was read, or why it was skipped.
fn connections(out: &mut String, plan: &Plan, context: &Context<'_>, options: &Options) {
    let names: std::collections::BTreeSet<&str> =
        plan.changes.iter().map(|c| &*c.connection).collect();
    if names.is_empty() {
        out.push_str("The files declare nothing.\n\n");
        return;
    }
    for name in names {
        let mut line = format!("- connection {}", code(name));
        if let Some(url) = context.connections.get(name) {
            line.push_str(&format!(" ({})", code(url)));
        }
        let skipped = plan
            .changes
            .iter()
            .find(|c| &*c.connection == name && c.action == Action::Skip);
        if let Some(skip) = skipped {
            let n = plan
                .changes
                .iter()
                .filter(|c| &*c.connection == name && c.action == Action::Skip)
                .count();
            line.push_str(&format!(
                ": {} skipped: {}",
                count(n as u64, "entity"),
                prose(skip.reason.as_deref().unwrap_or_default())
            ));
        } else if let Some(mode) = context.modes.and_then(|m| m.get(name)) {
            line.push_str(&match mode {
                ReadMode::Management(base) => {
                    format!(": read from the management API ({})", code(base))
                }
                ReadMode::Probes(why) => format!(
                    ": read from AMQP probes, because {} (bindings are unverified; entities the files do not declare are not seen)",
                    prose(why)
                ),
            });
        } else if options.offline {
            line.push_str(": offline, no broker asked (every entity is shown as `create`)");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push('\n');
}

/// The table of what apply would do (`--only` filters it; unchanged entities only with `-v`,
/// apart).
fn changes(out: &mut String, plan: &Plan, options: &Options) {
    let shown_action = |a: Action| options.only.is_empty() || options.only.contains(&a);
    let rows: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !matches!(c.action, Action::Unchanged | Action::Skip))
        .filter(|c| shown_action(c.action))
        .collect();
    if rows.is_empty() {
        if plan.has_changes() {
            out.push_str("Nothing to show (`--only`).\n\n");
        }
        return;
    }
    table(
        out,
        &["action", "kind", "connection", "name", "reason"],
        rows.iter().map(|c| {
            vec![
                c.action.as_str().to_string(),
                c.kind().as_str().to_string(),
                code(&c.connection),
                code(&label(&c.entity)),
                reason(c),
            ]
        }),
        rows.len(),
    );
}

/// Why a change is made, and what a queue's replace or delete touches.
fn reason(c: &Change) -> String {
    if matches!(c.action, Action::Create | Action::Unverified) {
        return String::new();
    }
    let mut parts = Vec::new();
    if let Some(usage) = queue_usage(c) {
        parts.push(format!("**{}**", prose(&usage)));
    }
    if let Some(r) = &c.reason {
        parts.push(prose(r));
    }
    parts.join(": ")
}

/// The properties that differ between the broker and the files (the drift a replace or
/// update removes), folded.
fn differences(out: &mut String, plan: &Plan) {
    let rows: Vec<(&Change, &crate::plan::Difference)> = plan
        .changes
        .iter()
        .flat_map(|c| c.differences.iter().map(move |d| (c, d)))
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(&format!(
        "<details><summary>What differs: {} (the broker's value, then the files')</summary>\n\n",
        count(rows.len() as u64, "property")
    ));
    table(
        out,
        &["kind", "connection", "name", "property", "broker", "files"],
        rows.iter().map(|(c, d)| {
            vec![
                c.kind().as_str().to_string(),
                code(&c.connection),
                code(&label(&c.entity)),
                code(&d.property),
                code(&shown(&d.broker)),
                code(&shown(&d.ours)),
            ]
        }),
        rows.len(),
    );
    out.push_str("</details>\n\n");
}

/// Entities on a broker that the files do not declare, folded.
fn unmanaged(out: &mut String, plan: &Plan) {
    if plan.unmanaged.is_empty() {
        return;
    }
    out.push_str(&format!(
        "<details><summary>Unmanaged: {} on the broker that the files do not declare (untouched; --prune deletes them)</summary>\n\n",
        count(plan.unmanaged.len() as u64, "entity")
    ));
    table(
        out,
        &["kind", "connection", "name", "note"],
        plan.unmanaged.iter().map(|c| {
            let mut note = Vec::new();
            if let Entity::Queue(q) = &c.entity
                && q.usage.messages.is_some()
            {
                note.push(prose(&known_count(q.usage.messages, "message")));
            }
            if let Some(r) = &c.reason {
                note.push(prose(r));
            }
            vec![
                c.kind().as_str().to_string(),
                code(&c.connection),
                code(&label(&c.entity)),
                note.join("; "),
            ]
        }),
        plan.unmanaged.len(),
    );
    out.push_str("</details>\n\n");
}

/// Changes listed apart from the table, folded (`-v`: the unchanged ones).
fn listed_apart(out: &mut String, list: Vec<&Change>, what: &str) {
    if list.is_empty() {
        return;
    }
    out.push_str(&format!(
        "<details><summary>{} {what}</summary>\n\n",
        thousands(list.len() as u64)
    ));
    table(
        out,
        &["kind", "connection", "name"],
        list.iter().map(|c| {
            vec![
                c.kind().as_str().to_string(),
                code(&c.connection),
                code(&label(&c.entity)),
            ]
        }),
        list.len(),
    );
    out.push_str("</details>\n\n");
}

/// The files' errors and warnings, with where they are (the first of each kind; the rest
/// counted, as the human output does).
fn diagnostics(out: &mut String, context: &Context<'_>) {
    if context.diagnostics.is_empty() {
        return;
    }
    let (shown_list, hidden) = super::capped(context.diagnostics);
    out.push_str("#### Diagnostics\n\n");
    table(
        out,
        &["severity", "code", "location", "message"],
        shown_list.iter().map(|d| {
            let location = d
                .primary()
                .map(|span| {
                    let (file, line, column) = context.sources.location(span);
                    code(&format!("{file}:{line}:{column}"))
                })
                .unwrap_or_default();
            let mut message = prose(&d.message);
            if let Some(help) = &d.help {
                message.push_str("<br>help: ");
                message.push_str(&prose(help));
            }
            vec![
                severity(d.severity).to_string(),
                code(d.code.as_str()),
                location,
                message,
            ]
        }),
        shown_list.len(),
    );
    for kind in hidden {
        out.push_str(&format!(
            "… and {} more of kind {} ({}): `--format json` lists them all.\n\n",
            thousands(kind.count as u64),
            code(kind.code.as_str()),
            kind.severity.as_str()
        ));
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "**error**",
        _ => s.as_str(),
    }
}

/// What to do next.
fn next_step(plan: &Plan, options: &Options) -> &'static str {
    if options.tally.errors > 0 {
        "The files have errors: fix them first (`topology lint` shows them).\n"
    } else if options.offline {
        "Offline, this is the whole topology: give each connection's URL (`--connection NAME=URL` or `TOPOLOGY_CONNECTION_<NAME>`) to plan against its broker.\n"
    } else if plan.has_changes() {
        "`topology apply` makes these changes.\n"
    } else {
        "The brokers match the files.\n"
    }
}

/// A table of `rows` (cells already escaped), at most [`MAX_ROWS`] of its `total`.
fn table(
    out: &mut String,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
    total: usize,
) {
    out.push_str(&format!("| {} |\n", headers.join(" | ")));
    out.push_str(&format!("|{}\n", " --- |".repeat(headers.len())));
    for row in rows.take(MAX_ROWS) {
        out.push_str("| ");
        out.push_str(&row.join(" | "));
        out.push_str(" |\n");
    }
    out.push('\n');
    if total > MAX_ROWS {
        out.push_str(&format!(
            "… and {} more: `topology plan` lists them all.\n\n",
            count((total - MAX_ROWS) as u64, "row")
        ));
    }
}

/// A name or value as inline code (`<code>`, whose text is escaped like [`prose`] but
/// mentions are left alone: GitHub does not look for them in code).
pub fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text, false))
}

/// Text for a table cell or a line: line breaks become `<br>`, and `@` is followed by a
/// zero-width space so that a name from a file cannot mention (notify) a user or team.
pub fn prose(text: &str) -> String {
    text.split('\n')
        .map(|line| escape(line, true))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// `text` inert in a Markdown table cell: control characters (a line break too) as Rust
/// escapes; `&`, `<`, `>` as HTML entities; `|` and the characters that start Markdown
/// inline syntax backslash-escaped.
fn escape(text: &str, mentions: bool) -> String {
    let text = super::escape_controls(text, false);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '@' if mentions => out.push_str("@\u{200b}"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_name_cannot_break_a_cell_nor_open_html() {
        let cell = code("a|b`c<script>alert(1)</script>&x\ny\u{1b}[2J*_[l](u)~\\");
        assert_eq!(
            cell,
            "<code>a\\|b\\`c&lt;script&gt;alert(1)&lt;/script&gt;&amp;x\\\\ny\\\\u{1b}\\[2J\\*\\_\\[l\\](u)\\~\\\\</code>"
        );
        assert!(!cell.contains('\n'));
        // Every pipe left is escaped: the table keeps its columns.
        assert!(!cell.replace("\\|", "").contains('|'));
    }

    #[test]
    fn prose_keeps_line_breaks_as_br_and_defuses_mentions() {
        assert_eq!(prose("one\ntwo @team"), "one<br>two @\u{200b}team");
        assert_eq!(code("@team"), "<code>@team</code>");
    }
}
