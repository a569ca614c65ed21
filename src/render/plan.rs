//! Human rendering of a plan, like `terraform plan`: one block per connection, a symbol per
//! change (`+` create, `~` update, `-/+` replace, `-` delete), the properties that differ
//! with the broker's value and ours, skipped connections with their reason, unmanaged
//! entities apart, and a summary line.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::plan::{Action, Change, Entity, Plan, thousands};
use crate::spec::ArgMap;

struct Paint(bool);

impl Paint {
    fn code(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn symbol(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("  +", "32"),
        Action::Update => ("  ~", "33"),
        Action::Replace => ("-/+", "35"),
        Action::Delete => ("  -", "31"),
        Action::Unchanged => ("   ", "0"),
        Action::Skip => ("  #", "2"),
    }
}

fn arguments(out: &mut String, args: &ArgMap) {
    for (name, value) in args {
        let _ = writeln!(out, "          {name} = {value}");
    }
}

fn details(out: &mut String, change: &Change) {
    if !change.differences.is_empty() {
        for d in &change.differences {
            let show = |v: &Option<crate::model::Value>| {
                v.as_ref()
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(none)".into())
            };
            let _ = writeln!(
                out,
                "          {}: {} => {}",
                d.property,
                show(&d.broker),
                show(&d.ours)
            );
        }
        return;
    }
    if change.action != Action::Create {
        return;
    }
    match &change.entity {
        Entity::Exchange(e) => {
            let mut flags = vec![e.kind.clone()];
            flags.push(if e.durable {
                "durable".into()
            } else {
                "transient".into()
            });
            if e.auto_delete {
                flags.push("auto-delete".into());
            }
            if e.internal {
                flags.push("internal".into());
            }
            let _ = writeln!(out, "          ({})", flags.join(", "));
            arguments(out, &e.arguments);
        }
        Entity::Queue(q) => {
            let durable = if q.durable { "durable" } else { "transient" };
            let auto_delete = if q.auto_delete { ", auto-delete" } else { "" };
            let _ = writeln!(out, "          ({durable}{auto_delete})");
            arguments(out, &q.arguments);
        }
        Entity::Binding(b) => arguments(out, &b.arguments),
    }
}

/// What a replace or delete touches, on the change's own line:
/// `(replace: x-message-ttl 30000 → 60000; 1,204 messages will be moved, 0 consumers)`.
fn headline(c: &Change) -> String {
    let count = |n: Option<u64>, one: &str, many: &str| match n {
        Some(1) => format!("1 {one}"),
        Some(n) => format!("{} {many}", thousands(n)),
        None => format!("{many}: unknown"),
    };
    match (&c.entity, c.action) {
        (Entity::Queue(q), Action::Replace) => {
            let what: Vec<String> = c
                .differences
                .iter()
                .filter(|d| d.property != "equivalence")
                .map(|d| {
                    let show = |v: &Option<crate::model::Value>| {
                        v.as_ref()
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "(none)".into())
                    };
                    let name = d.property.strip_prefix("arguments.").unwrap_or(&d.property);
                    format!("{name} {} → {}", show(&d.broker), show(&d.ours))
                })
                .collect();
            let what = if what.is_empty() {
                "the broker's definition differs".to_string()
            } else {
                what.join(", ")
            };
            format!(
                " (replace: {what}; {} will be moved, {})",
                count(q.usage.messages, "message", "messages"),
                count(q.usage.consumers, "consumer", "consumers")
            )
        }
        (Entity::Queue(q), Action::Delete) => format!(
            " (delete: {}, {} unacked, {})",
            count(q.usage.messages, "message", "messages"),
            q.usage
                .unacked
                .map(thousands)
                .unwrap_or_else(|| "unknown".into()),
            count(q.usage.consumers, "consumer", "consumers")
        ),
        (_, Action::Replace) => " (must be replaced)".to_string(),
        _ => String::new(),
    }
}

/// How a Magento install was read (`plan -v`): the modules, in Magento's order, and what
/// was left out with the reason.
pub fn install(report: &crate::source::InstallReport) -> String {
    let mut out = format!(
        "Magento install `{}`: {} enabled module(s), read in Magento's order:\n",
        report.root.display(),
        report.modules.len()
    );
    for (i, (name, files)) in report.modules.iter().enumerate() {
        let file = if files.is_empty() {
            String::new()
        } else {
            format!(" ({})", files.join(", "))
        };
        let _ = writeln!(out, "  {:>3}. {name}{file}", i + 1);
    }
    if !report.provisions {
        out.push_str("  Magento_Amqp is not enabled: nothing is read\n");
    }
    for s in &report.skipped {
        let _ = writeln!(out, "  skipped {}: {}", s.what, s.reason);
    }
    out.push('\n');
    out
}

/// `sym kind name (headline)`, painted by action, written straight into `out` (a plan of a
/// million bindings has two million of these lines).
fn change_line(out: &mut String, paint: &Paint, c: &Change) {
    let (sym, code) = symbol(c.action);
    if paint.0 {
        let _ = write!(out, "\x1b[{code}m");
    }
    let _ = write!(out, "{sym} {} ", c.kind().as_str());
    c.entity
        .name_parts()
        .into_iter()
        .for_each(|part| out.push_str(part));
    out.push_str(&headline(c));
    if paint.0 {
        out.push_str("\x1b[0m");
    }
    out.push('\n');
}

/// `connections`: connection name → URL shown (password already masked), if any.
pub fn render(
    plan: &Plan,
    connections: &BTreeMap<String, String>,
    color: bool,
    verbose: bool,
) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    let mut by_connection: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for c in &plan.changes {
        by_connection.entry(&c.connection).or_default().push(c);
    }
    if by_connection.is_empty() {
        out.push_str("The files declare nothing: no change.\n");
    }
    for (connection, changes) in &by_connection {
        let header = match connections.get(*connection) {
            Some(url) => format!("connection `{connection}` ({url})"),
            None => format!("connection `{connection}`"),
        };
        let _ = writeln!(out, "{}", paint.code("1", &header));
        if changes.iter().all(|c| c.action == Action::Skip) {
            let reason = changes[0].reason.clone().unwrap_or_default();
            let _ = writeln!(out, "  # skipped: {reason}");
            for c in changes {
                let _ = writeln!(out, "  # {} {}", c.kind().as_str(), c.name());
            }
            out.push('\n');
            continue;
        }
        let mut shown = 0;
        for c in changes {
            if c.action == Action::Unchanged {
                if verbose {
                    let _ = writeln!(out, "  = {} {}", c.kind().as_str(), c.name());
                }
                continue;
            }
            shown += 1;
            change_line(&mut out, &paint, c);
            details(&mut out, c);
            if let Some(reason) = &c.reason
                && c.action != Action::Create
            {
                let _ = writeln!(out, "          # {reason}");
            }
        }
        let unchanged = changes
            .iter()
            .filter(|c| c.action == Action::Unchanged)
            .count();
        if shown == 0 {
            let _ = writeln!(out, "  no changes: {unchanged} entities are up to date");
        } else if unchanged > 0 {
            let _ = writeln!(out, "  ({unchanged} unchanged)");
        }
        out.push('\n');
    }
    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.code(
                "1",
                "unmanaged: on the broker, not in the files (untouched; --prune deletes them)"
            )
        );
        for c in &plan.unmanaged {
            let mut line = format!(
                "  ? {} {} on `{}`",
                c.kind().as_str(),
                c.name(),
                c.connection
            );
            if let Some(r) = &c.reason {
                line.push_str(&format!(" ({r})"));
            }
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Plan: {} to create, {} to update, {} to replace, {} to delete; {} unchanged, {} skipped.",
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.count(Action::Replace),
        plan.count(Action::Delete),
        plan.count(Action::Unchanged),
        plan.count(Action::Skip),
    );
    out
}
