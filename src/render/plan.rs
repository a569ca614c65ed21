//! Human rendering of a plan, like `terraform plan`: one block per connection, a symbol per
//! change (`+` create, `~` update, `-/+` replace, `-` delete), the properties that differ
//! with the broker's value and ours, skipped connections with their reason, unmanaged
//! entities apart, and a summary line.

use std::collections::BTreeMap;

use crate::plan::{Action, Change, Entity, EntityKind, Plan, thousands};
use crate::spec::ArgMap;
use crate::text::count;

/// Writes one line to a `String`, every control character of what the files or the broker
/// gave escaped ([`super::escape_controls`]): a vendor's name cannot drive the terminal.
/// Written in place: a line costs no allocation unless it has something to escape.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        line_into(&mut $out, None, format_args!($($arg)*))
    };
}

/// One line of `args` appended to `out`, escaped, coloured with the SGR `code` if any.
fn line_into(out: &mut String, code: Option<&str>, args: std::fmt::Arguments) {
    use std::fmt::Write;
    line_with(out, code, |out| {
        let _ = out.write_fmt(args);
    });
}

/// One line that `write` appends to `out`, escaped, coloured with the SGR `code` if any.
/// (The changes' lines are written a string at a time: no formatting machinery for each of
/// a million.)
fn line_with(out: &mut String, code: Option<&str>, write: impl FnOnce(&mut String)) {
    if let Some(code) = code {
        out.push_str("\x1b[");
        out.push_str(code);
        out.push('m');
    }
    let start = out.len();
    write(out);
    if let std::borrow::Cow::Owned(escaped) = super::escape_controls(&out[start..], false) {
        out.truncate(start);
        out.push_str(&escaped);
    }
    if code.is_some() {
        out.push_str("\x1b[0m");
    }
    out.push('\n');
}

struct Paint(bool);

impl Paint {
    /// One line, its text escaped, then coloured with the SGR `code` when colour is on.
    fn line(&self, out: &mut String, code: &str, args: std::fmt::Arguments) {
        line_into(out, self.0.then_some(code), args);
    }

    /// [`Paint::line`], written by `write`.
    fn line_with(&self, out: &mut String, code: &str, write: impl FnOnce(&mut String)) {
        line_with(out, self.0.then_some(code), write);
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
        Action::Unverified => ("  *", "36"),
    }
}

fn arguments(out: &mut String, args: &ArgMap) {
    for (name, value) in args {
        say!(*out, "            {name} = {value}");
    }
}

fn details(out: &mut String, change: &Change) {
    if !change.differences.is_empty() {
        for d in &change.differences {
            let forces = if change.action == Action::Replace && d.property != "equivalence" {
                "   # forces replacement"
            } else {
                ""
            };
            say!(
                *out,
                "            {}: {} => {}{forces}",
                d.property,
                shown(&d.broker),
                shown(&d.ours)
            );
        }
        return;
    }
    if change.action != Action::Create {
        return;
    }
    match &change.entity {
        Entity::Exchange(e) => {
            say!(
                *out,
                "            ({}, {}{}{})",
                e.kind,
                durability(e.durable),
                if e.auto_delete { ", auto-delete" } else { "" },
                if e.internal { ", internal" } else { "" }
            );
            arguments(out, &e.arguments);
        }
        Entity::Queue(q) => {
            say!(
                *out,
                "            ({}{})",
                durability(q.durable),
                if q.auto_delete { ", auto-delete" } else { "" }
            );
            arguments(out, &q.arguments);
        }
        // A binding's arguments are on its label.
        Entity::Binding(_) => {}
    }
}

/// The lines of one change: its own, what differs, and why.
fn change_lines(out: &mut String, paint: &Paint, kind: EntityKind, c: &Change) {
    if c.action == Action::Unchanged {
        say!(*out, "      = {} {}", kind.as_str(), Label(&c.entity));
        return;
    }
    let (sym, code) = symbol(c.action);
    paint.line_with(out, code, |out| {
        for part in ["  ", sym, " ", kind.as_str(), " "] {
            out.push_str(part);
        }
        let _ = write_label(out, &c.entity);
        out.push_str(&headline(c));
    });
    details(out, c);
    if let Some(reason) = &c.reason
        && !matches!(c.action, Action::Create | Action::Unverified)
    {
        say!(*out, "            # {reason}");
    }
}

/// Lists from this many changes are written by two threads, a half each.
const PARALLEL_FROM: usize = 20_000;

/// `write` of each item, in order, appended to `out`: the second half written on a thread
/// of its own when there are many (a plan of a million bindings is mostly this).
fn lines_in_parallel<T: Sync>(
    out: &mut String,
    items: &[T],
    write: impl Fn(&mut String, &T) + Sync,
) {
    if items.len() < PARALLEL_FROM {
        items.iter().for_each(|item| write(out, item));
        return;
    }
    let (first, second) = items.split_at(items.len() / 2);
    let mut rest = String::with_capacity(second.len() * 96);
    std::thread::scope(|scope| {
        scope.spawn(|| second.iter().for_each(|item| write(&mut rest, item)));
        first.iter().for_each(|item| write(out, item));
    });
    out.push_str(&rest);
}

/// What a replace or delete touches, on the change's own line:
/// `(replace: x-message-ttl 30000 → 60000; 1,204 messages will be moved, 0 consumers)`.
fn headline(c: &Change) -> String {
    match (&c.entity, c.action) {
        (Entity::Queue(_), Action::Replace) => {
            let what: Vec<String> = c
                .differences
                .iter()
                .filter(|d| d.property != "equivalence")
                .map(|d| {
                    let name = d.property.strip_prefix("arguments.").unwrap_or(&d.property);
                    format!("{name} {} → {}", shown(&d.broker), shown(&d.ours))
                })
                .collect();
            let what = if what.is_empty() {
                "the broker's definition differs".to_string()
            } else {
                what.join(", ")
            };
            let usage = queue_usage(c).unwrap_or_default();
            format!(" (replace: {what}; {usage})")
        }
        (Entity::Queue(_), Action::Delete) => {
            format!(" (delete: {})", queue_usage(c).unwrap_or_default())
        }
        (Entity::Binding(_), Action::Replace) => {
            " (arguments changed: the new binding is added, then the old one removed)".to_string()
        }
        (_, Action::Replace) => " (must be replaced)".to_string(),
        _ => String::new(),
    }
}

/// A property's value as a plan shows it; `(none)` when absent.
pub(super) fn shown(v: &Option<crate::model::Value>) -> String {
    v.as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "(none)".into())
}

/// `1 message`, `1,204 messages`, or `messages: unknown` where the mode that read the
/// broker cannot count them.
pub(super) fn known_count(n: Option<u64>, word: &str) -> String {
    match n {
        Some(n) => count(n, word),
        None => format!("{}: unknown", crate::text::plural(word)),
    }
}

/// What a queue's replace or delete touches: `1,204 messages will be moved, 0 consumers`.
pub(super) fn queue_usage(c: &Change) -> Option<String> {
    let Entity::Queue(q) = &c.entity else {
        return None;
    };
    let u = &q.usage;
    match c.action {
        Action::Replace => Some(format!(
            "{} will be moved, {}",
            known_count(u.messages, "message"),
            known_count(u.consumers, "consumer")
        )),
        Action::Delete => Some(format!(
            "{}, {} unacked, {}",
            known_count(u.messages, "message"),
            u.unacked.map(thousands).unwrap_or_else(|| "unknown".into()),
            known_count(u.consumers, "consumer")
        )),
        _ => None,
    }
}

/// The plan's first line: how each connection's broker was read, and why.
pub fn read_modes(modes: &BTreeMap<String, crate::broker::ReadMode>) -> String {
    use crate::broker::ReadMode;
    let parts: Vec<String> = modes
        .iter()
        .map(|(name, mode)| match mode {
            ReadMode::Management(base) => {
                format!("`{name}` from the management API ({base})")
            }
            ReadMode::Probes(why) => format!(
                "`{name}` from AMQP probes, because {why} (bindings are `unverified`; entities the files do not declare are not seen)"
            ),
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!("Read {}.\n\n", parts.join("; "))
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

/// How to render a plan.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub color: bool,
    /// List unchanged entities too.
    pub verbose: bool,
    /// Show only these actions (`--only`); all when empty. The summary still counts all.
    pub only: Vec<Action>,
    /// Errors and warnings of the files, repeated at the end.
    pub tally: crate::diagnostic::Tally,
    /// Offline: no broker was asked (no hint to apply).
    pub offline: bool,
}

const LEGEND: &str = "Symbols: + create, ~ update, -/+ replace (deleted, then created again), - delete, * unverified (bound again), # skipped";

/// `connections`: connection name → URL shown (password already masked), if any.
pub fn render(plan: &Plan, connections: &BTreeMap<String, String>, options: &Options) -> String {
    let paint = Paint(options.color);
    let shown = |a: Action| options.only.is_empty() || options.only.contains(&a);
    // About 60 to 90 bytes a change (a queue's line and its properties' line): one
    // allocation, not a doubling every few thousand.
    let mut out = String::with_capacity(plan.changes.len() * 96 + 1024);
    let mut by_connection: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for c in &plan.changes {
        by_connection.entry(&c.connection).or_default().push(c);
    }
    if by_connection.is_empty() {
        out.push_str("The files declare nothing: no change.\n\n");
    } else if plan.has_changes() || plan.count(Action::Unverified) > 0 {
        paint.line(&mut out, "2", format_args!("{LEGEND}"));
        out.push('\n');
    }
    for (connection, changes) in &by_connection {
        match connections.get(*connection) {
            Some(url) => paint.line(
                &mut out,
                "1",
                format_args!("connection `{connection}` ({url})"),
            ),
            None => paint.line(&mut out, "1", format_args!("connection `{connection}`")),
        }
        if changes.iter().all(|c| c.action == Action::Skip) {
            let reason = changes[0].reason.clone().unwrap_or_default();
            say!(out, "  # skipped: {reason}");
            if options.verbose {
                for c in changes {
                    say!(out, "  # {} {}", c.kind().as_str(), Label(&c.entity));
                }
            } else {
                say!(out, "  # {}", counted(changes));
            }
            out.push('\n');
            continue;
        }
        let mut listed = 0;
        for kind in [EntityKind::Exchange, EntityKind::Queue, EntityKind::Binding] {
            let of_kind: Vec<&&Change> = changes
                .iter()
                .filter(|c| c.kind() == kind)
                .filter(|c| shown(c.action))
                .filter(|c| c.action != Action::Unchanged || options.verbose)
                .collect();
            if of_kind.is_empty() {
                continue;
            }
            say!(out, "  {}", plural_kind(kind));
            listed += of_kind.len();
            lines_in_parallel(&mut out, &of_kind, |out, c| {
                change_lines(out, &paint, kind, c)
            });
        }
        let unchanged = changes
            .iter()
            .filter(|c| c.action == Action::Unchanged)
            .count();
        let pending = changes.iter().any(|c| c.action != Action::Unchanged);
        if !pending {
            say!(
                out,
                "  no changes: {} {} up to date",
                count(unchanged as u64, "entity"),
                if unchanged == 1 { "is" } else { "are" }
            );
        } else if listed == 0 {
            say!(out, "  nothing to show (--only)");
        } else if unchanged > 0 && !options.verbose {
            say!(
                out,
                "  ({} unchanged; -v lists them)",
                thousands(unchanged as u64)
            );
        }
        out.push('\n');
    }
    if !plan.unmanaged.is_empty() {
        paint.line(
            &mut out,
            "1",
            format_args!(
                "unmanaged: on the broker, not in the files (untouched; --prune deletes them)"
            ),
        );
        for c in &plan.unmanaged {
            let reason = c.reason.as_deref().map(|r| format!(" ({r})"));
            say!(
                out,
                "  ? {} {} on `{}`{}",
                c.kind().as_str(),
                Label(&c.entity),
                c.connection,
                reason.unwrap_or_default()
            );
        }
        out.push('\n');
    }
    out.push_str(&summary(plan, options));
    out
}

/// `Plan: 3 to create, 1 to replace, 0 to delete; 12,040 unchanged; 2 warnings.` and what to
/// do next.
fn summary(plan: &Plan, options: &Options) -> String {
    let n = |a: Action| thousands(plan.count(a) as u64);
    let mut parts = vec![format!("{} to create", n(Action::Create))];
    if plan.count(Action::Update) > 0 {
        parts.push(format!("{} to update", n(Action::Update)));
    }
    parts.push(format!("{} to replace", n(Action::Replace)));
    parts.push(format!("{} to delete", n(Action::Delete)));
    let mut tail = vec![format!("{} unchanged", n(Action::Unchanged))];
    if plan.count(Action::Unverified) > 0 {
        tail.push(format!("{} unverified", n(Action::Unverified)));
    }
    if plan.count(Action::Skip) > 0 {
        tail.push(format!("{} skipped", n(Action::Skip)));
    }
    let t = options.tally;
    if t.errors > 0 {
        tail.push(count(t.errors as u64, "error"));
    }
    tail.push(count(t.warnings as u64, "warning"));
    let mut text = format!("Plan: {}; {}.\n", parts.join(", "), tail.join("; "));
    if t.errors > 0 {
        text.push_str("The files have errors: fix them first (`topology lint` shows them).\n");
    } else if options.offline {
        text.push_str(
            "Offline, this is the whole topology: give each connection's URL (--connection NAME=URL or TOPOLOGY_CONNECTION_<NAME>) to plan against its broker.\n",
        );
    } else if plan.has_changes() {
        text.push_str(
            "Run `topology apply` to make these changes, or save this plan with `--out plan.json` and run `topology apply --plan plan.json`.\n",
        );
    }
    text
}

fn durability(durable: bool) -> &'static str {
    if durable { "durable" } else { "transient" }
}

fn plural_kind(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Exchange => "exchanges:",
        EntityKind::Queue => "queues:",
        EntityKind::Binding => "bindings:",
    }
}

/// `3 exchanges, 2 queues, 4 bindings`.
fn counted(changes: &[&Change]) -> String {
    let mut by: BTreeMap<EntityKind, u64> = BTreeMap::new();
    for c in changes {
        *by.entry(c.kind()).or_default() += 1;
    }
    by.iter()
        .map(|(k, n)| count(*n, k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
        + " (-v lists them)"
}

/// A change's label: its name, and a binding's arguments when it has any, so that two
/// bindings that differ only there do not look the same.
pub(super) fn label(entity: &Entity) -> String {
    Label(entity).to_string()
}

/// [`label`], written where it goes.
pub(super) struct Label<'a>(pub(super) &'a Entity);

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_label(f, self.0)
    }
}

/// The [`label`] of `entity`, written to `f`.
fn write_label(f: &mut impl std::fmt::Write, entity: &Entity) -> std::fmt::Result {
    for part in entity.name_parts() {
        f.write_str(part)?;
    }
    if let Entity::Binding(b) = entity
        && !b.arguments.is_empty()
    {
        f.write_str(" {")?;
        for (i, (k, v)) in b.arguments.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v}")?;
        }
        f.write_str("}")?;
    }
    Ok(())
}
