//! Human rendering of a plan, like `terraform plan`: one block per connection, a symbol per
//! change (`+` create, `~` update, `-/+` replace, `-` delete), the properties that differ
//! with the broker's value and ours, skipped connections with their reason, unmanaged
//! entities apart, and a summary line.

use std::collections::BTreeMap;

use crate::plan::{Action, Change, Entity, Plan, thousands};
use crate::spec::ArgMap;

/// Writes one line to a `String`, every control character of what the files or the broker
/// gave escaped ([`super::escape_controls`]): a vendor's name cannot drive the terminal.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&super::escape_controls(&format!($($arg)*), false));
        $out.push('\n');
    }};
}

struct Paint(bool);

impl Paint {
    /// One line, its text escaped, then coloured with the SGR `code` when colour is on.
    fn line(&self, out: &mut String, code: &str, s: &str) {
        let s = super::escape_controls(s, false);
        if self.0 {
            out.push_str(&format!("\x1b[{code}m{s}\x1b[0m\n"));
        } else {
            out.push_str(&s);
            out.push('\n');
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
        say!(out, "          {name} = {value}");
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
            say!(
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
            say!(out, "          ({})", flags.join(", "));
            arguments(out, &e.arguments);
        }
        Entity::Queue(q) => {
            let mut flags = vec![if q.durable { "durable" } else { "transient" }];
            if q.auto_delete {
                flags.push("auto-delete");
            }
            say!(out, "          ({})", flags.join(", "));
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
        say!(out, "  {:>3}. {name}{file}", i + 1);
    }
    if !report.provisions {
        out.push_str("  Magento_Amqp is not enabled: nothing is read\n");
    }
    for s in &report.skipped {
        say!(out, "  skipped {}: {}", s.what, s.reason);
    }
    out.push('\n');
    out
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
        paint.line(&mut out, "1", &header);
        if changes.iter().all(|c| c.action == Action::Skip) {
            let reason = changes[0].reason.clone().unwrap_or_default();
            say!(out, "  # skipped: {reason}");
            for c in changes {
                say!(out, "  # {} {}", c.kind().as_str(), c.name());
            }
            out.push('\n');
            continue;
        }
        let mut shown = 0;
        for c in changes {
            if c.action == Action::Unchanged {
                if verbose {
                    say!(out, "  = {} {}", c.kind().as_str(), c.name());
                }
                continue;
            }
            shown += 1;
            let (sym, code) = symbol(c.action);
            let mut line = format!("{} {} {}", sym, c.kind().as_str(), c.name());
            line.push_str(&headline(c));
            paint.line(&mut out, code, &line);
            details(&mut out, c);
            if let Some(reason) = &c.reason
                && c.action != Action::Create
            {
                say!(out, "          # {reason}");
            }
        }
        let unchanged = changes
            .iter()
            .filter(|c| c.action == Action::Unchanged)
            .count();
        if shown == 0 {
            say!(out, "  no changes: {unchanged} entities are up to date");
        } else if unchanged > 0 {
            say!(out, "  ({unchanged} unchanged)");
        }
        out.push('\n');
    }
    if !plan.unmanaged.is_empty() {
        paint.line(
            &mut out,
            "1",
            "unmanaged: on the broker, not in the files (untouched; --prune deletes them)",
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
            say!(out, "{line}");
        }
        out.push('\n');
    }
    say!(
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
