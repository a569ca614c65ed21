//! Human rendering of a plan, like `terraform plan`: one block per connection, a symbol per
//! change (`+` create, `~` update, `-/+` replace, `-` delete), the properties that differ
//! with the broker's value and ours, skipped connections with their reason, unmanaged
//! entities apart, and a summary line. Takes a [`Plan`] ([`write()`]), or the plan against no
//! broker as an [`Offline`] whose changes are made as their lines are written
//! ([`write_offline`]); gives the text, handed to a writer a block at a time.

use std::collections::BTreeMap;
use std::io::Write;

use crate::plan::{Action, Change, Counts, Entity, EntityKind, Offline, Plan, thousands};
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
    if change.action == Action::Create {
        created(out, &change.entity);
    }
}

/// The properties of an entity created: an exchange's or a queue's kind, durability and
/// arguments (a binding's arguments are on its label).
fn created(out: &mut String, entity: &Entity) {
    // Written a string at a time, as the changes' own lines: a line for each queue.
    let properties = |out: &mut String, parts: &[&str]| {
        line_with(out, None, |out| parts.iter().for_each(|p| out.push_str(p)));
    };
    match entity {
        Entity::Exchange(e) => {
            properties(
                out,
                &[
                    "            (",
                    &e.kind,
                    ", ",
                    durability(e.durable),
                    if e.auto_delete { ", auto-delete" } else { "" },
                    if e.internal { ", internal" } else { "" },
                    ")",
                ],
            );
            arguments(out, &e.arguments);
        }
        Entity::Queue(q) => {
            properties(
                out,
                &[
                    "            (",
                    durability(q.durable),
                    if q.auto_delete { ", auto-delete" } else { "" },
                    ")",
                ],
            );
            arguments(out, &q.arguments);
        }
        // A binding's arguments are on its label.
        Entity::Binding(_) => {}
    }
}

/// A change's own line: the symbol of its `action`, its kind and label, then `tail`.
fn own_line(
    out: &mut String,
    paint: &Paint,
    action: Action,
    kind: EntityKind,
    entity: &Entity,
    tail: &str,
) {
    let (sym, code) = symbol(action);
    paint.line_with(out, code, |out| {
        for part in ["  ", sym, " ", kind.as_str(), " "] {
            out.push_str(part);
        }
        let _ = write_label(out, entity);
        out.push_str(tail);
    });
}

/// The lines of a change that creates `entity` (as [`change_lines`] writes them).
fn create_lines(out: &mut String, paint: &Paint, kind: EntityKind, entity: &Entity) {
    own_line(out, paint, Action::Create, kind, entity, "");
    created(out, entity);
}

/// The lines of one change: its own, what differs, and why.
fn change_lines(out: &mut String, paint: &Paint, kind: EntityKind, c: &Change) {
    if c.action == Action::Unchanged {
        say!(*out, "      = {} {}", kind.as_str(), Label(&c.entity));
        return;
    }
    own_line(out, paint, c.action, kind, &c.entity, &headline(c));
    details(out, c);
    if let Some(reason) = &c.reason
        && !matches!(c.action, Action::Create | Action::Unverified)
    {
        say!(*out, "            # {reason}");
    }
}

/// Lists from this many changes are written by two threads, a block each in turn.
const PARALLEL_FROM: usize = 4_096;

/// Changes to a block: about 64 KiB of text, below the size that glibc maps afresh for each
/// allocation.
const BLOCK: usize = 1024;

/// The text is handed on from this many bytes: a plan of a million changes is never held
/// whole.
const HAND_ON_AT: usize = 64 * 1024;

/// Where a plan's text goes: a buffer handed to the writer a block at a time. The first
/// error of the writer (a closed pipe) stops the writing; the rendering goes on unseen.
struct Sink<'w> {
    text: String,
    to: &'w mut dyn Write,
    failed: Option<std::io::Error>,
}

impl Sink<'_> {
    /// What `write` writes, handed to `to` a block at a time; the writer's first error.
    fn write(to: &mut dyn Write, write: impl FnOnce(&mut Sink)) -> std::io::Result<()> {
        let mut sink = Sink {
            text: String::with_capacity(2 * HAND_ON_AT),
            to,
            failed: None,
        };
        write(&mut sink);
        sink.hand_on();
        match sink.failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn hand_on(&mut self) {
        if self.failed.is_none()
            && let Err(e) = self.to.write_all(self.text.as_bytes())
        {
            self.failed = Some(e);
        }
        self.text.clear();
    }

    fn hand_on_if_full(&mut self) {
        if self.text.len() >= HAND_ON_AT {
            self.hand_on();
        }
    }
}

/// `write` of each item, in order, handed to `sink`. Many items are written by two threads
/// in blocks: this one writes the even blocks and hands every block on in order, the other
/// writes the odd ones at most two blocks ahead (a plan of a million bindings is mostly
/// this; its text is never held whole).
fn lines_in_parallel<T: Sync>(
    sink: &mut Sink,
    items: &[T],
    write: impl Fn(&mut String, &T) + Sync,
) {
    if items.len() < PARALLEL_FROM {
        for item in items {
            write(&mut sink.text, item);
            sink.hand_on_if_full();
        }
        return;
    }
    let (done, written) = std::sync::mpsc::sync_channel::<String>(2);
    let (give_back, spare) = std::sync::mpsc::channel::<String>();
    std::thread::scope(|scope| {
        let write = &write;
        scope.spawn(move || {
            for block in items.chunks(BLOCK).skip(1).step_by(2) {
                let mut text = spare.try_recv().unwrap_or_default();
                block.iter().for_each(|item| write(&mut text, item));
                if done.send(text).is_err() {
                    return;
                }
            }
        });
        for (k, block) in items.chunks(BLOCK).enumerate() {
            if k % 2 == 0 {
                block.iter().for_each(|item| write(&mut sink.text, item));
            } else {
                let mut text = written
                    .recv()
                    .expect("the other thread writes every odd block");
                sink.text.push_str(&text);
                text.clear();
                let _ = give_back.send(text);
            }
            sink.hand_on_if_full();
        }
    });
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

/// The plan as text (see [`write()`]).
pub fn render(plan: &Plan, connections: &BTreeMap<String, String>, options: &Options) -> String {
    let mut text = Vec::new();
    write(&mut text, plan, connections, options).expect("a Vec takes every write");
    String::from_utf8(text).expect("written from strings")
}

/// Writes the plan as text to `to`, a block at a time. `connections`: connection name → URL
/// shown (password already masked), if any.
pub fn write(
    to: &mut dyn Write,
    plan: &Plan,
    connections: &BTreeMap<String, String>,
    options: &Options,
) -> std::io::Result<()> {
    Sink::write(to, |sink| write_to(sink, plan, connections, options))
}

/// Writes the plan against no broker, [`Offline`], as [`write()`] writes the same plan made
/// whole ([`Offline::plan`]), each change made as its lines are written: no list of the
/// changes is held (at a million bindings, 350 MB). Every change is a create: `options.only`
/// must show creates.
pub fn write_offline(
    to: &mut dyn Write,
    offline: &Offline,
    connections: &BTreeMap<String, String>,
    options: &Options,
) -> std::io::Result<()> {
    Sink::write(to, |sink| offline_to(sink, offline, connections, options))
}

fn offline_to(
    sink: &mut Sink,
    offline: &Offline,
    connections: &BTreeMap<String, String>,
    options: &Options,
) {
    let paint = Paint(options.color);
    head(
        &mut sink.text,
        &paint,
        offline.is_empty(),
        !offline.is_empty(),
    );
    for connection in offline.connections() {
        let positions = EntityKind::ALL.map(|kind| offline.positions(kind, connection));
        if positions.iter().all(|p| p.is_empty()) {
            continue;
        }
        connection_line(&mut sink.text, &paint, connection, connections);
        for (kind, positions) in EntityKind::ALL.into_iter().zip(positions) {
            if positions.is_empty() {
                continue;
            }
            say!(sink.text, "  {}", plural_kind(kind));
            lines_in_parallel(sink, positions, |out, &at| {
                create_lines(out, &paint, kind, &offline.entity(kind, at));
            });
        }
        sink.text.push('\n');
    }
    sink.text.push_str(&summary(
        Counts::all(Action::Create, offline.len()),
        options,
    ));
}

/// The plan's first lines: that it is empty, or the legend of its symbols.
fn head(out: &mut String, paint: &Paint, empty: bool, legend: bool) {
    if empty {
        out.push_str("The files declare nothing: no change.\n\n");
    } else if legend {
        paint.line(out, "2", format_args!("{LEGEND}"));
        out.push('\n');
    }
}

/// A connection's block starts: its name, and its URL (password masked) when given.
fn connection_line(
    out: &mut String,
    paint: &Paint,
    connection: &str,
    connections: &BTreeMap<String, String>,
) {
    match connections.get(connection) {
        Some(url) => paint.line(out, "1", format_args!("connection `{connection}` ({url})")),
        None => paint.line(out, "1", format_args!("connection `{connection}`")),
    }
}

fn write_to(
    sink: &mut Sink,
    plan: &Plan,
    connections: &BTreeMap<String, String>,
    options: &Options,
) {
    let paint = Paint(options.color);
    let (by_connection, counts) = grouped(plan, options);
    head(
        &mut sink.text,
        &paint,
        by_connection.is_empty(),
        counts.has_changes() || counts.of(Action::Unverified) > 0,
    );
    for (connection, group) in &by_connection {
        connection_line(&mut sink.text, &paint, connection, connections);
        let changes = group.of_kind.iter().sum::<usize>();
        if group.skipped == changes {
            let first = group.runs.iter().flatten().next().and_then(|r| r.first());
            let reason = first.and_then(|c| c.reason.clone()).unwrap_or_default();
            say!(sink.text, "  # skipped: {reason}");
            if options.verbose {
                for c in group.runs.iter().flatten().copied().flatten() {
                    say!(sink.text, "  # {} {}", c.kind().as_str(), Label(&c.entity));
                    sink.hand_on_if_full();
                }
            } else {
                say!(sink.text, "  # {}", counted(&group.of_kind));
            }
            sink.text.push('\n');
            continue;
        }
        for kind in EntityKind::ALL {
            if group.listed[kind as usize] == 0 {
                continue;
            }
            say!(sink.text, "  {}", plural_kind(kind));
            for run in &group.runs[kind as usize] {
                lines_in_parallel(sink, run, |out, c| {
                    if listed(c.action, options) {
                        change_lines(out, &paint, kind, c);
                    }
                });
            }
        }
        let listed: usize = group.listed.iter().sum();
        let unchanged = group.unchanged;
        let pending = unchanged < changes;
        if !pending {
            say!(
                sink.text,
                "  no changes: {} {} up to date",
                count(unchanged as u64, "entity"),
                if unchanged == 1 { "is" } else { "are" }
            );
        } else if listed == 0 {
            say!(sink.text, "  nothing to show (--only)");
        } else if unchanged > 0 && !options.verbose {
            say!(
                sink.text,
                "  ({} unchanged; -v lists them)",
                thousands(unchanged as u64)
            );
        }
        sink.text.push('\n');
    }
    if !plan.unmanaged.is_empty() {
        paint.line(
            &mut sink.text,
            "1",
            format_args!(
                "unmanaged: on the broker, not in the files (untouched; --prune deletes them)"
            ),
        );
        for c in &plan.unmanaged {
            let reason = c.reason.as_deref().map(|r| format!(" ({r})"));
            say!(
                sink.text,
                "  ? {} {} on `{}`{}",
                c.kind().as_str(),
                Label(&c.entity),
                c.connection,
                reason.unwrap_or_default()
            );
            sink.hand_on_if_full();
        }
        sink.text.push('\n');
    }
    sink.text.push_str(&summary(counts, options));
}

/// `Plan: 3 to create, 1 to replace, 0 to delete; 12,040 unchanged; 2 warnings.` and what to
/// do next.
fn summary(counts: Counts, options: &Options) -> String {
    let n = |a: Action| thousands(counts.of(a) as u64);
    let mut parts = vec![format!("{} to create", n(Action::Create))];
    if counts.of(Action::Update) > 0 {
        parts.push(format!("{} to update", n(Action::Update)));
    }
    parts.push(format!("{} to replace", n(Action::Replace)));
    parts.push(format!("{} to delete", n(Action::Delete)));
    let mut tail = vec![format!("{} unchanged", n(Action::Unchanged))];
    if counts.of(Action::Unverified) > 0 {
        tail.push(format!("{} unverified", n(Action::Unverified)));
    }
    if counts.of(Action::Skip) > 0 {
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
    } else if counts.has_changes() {
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

/// `3 exchanges, 2 queues, 4 bindings`: the kinds with any, by how many of each.
fn counted(of_kind: &[usize; 3]) -> String {
    EntityKind::ALL
        .iter()
        .filter(|&&k| of_kind[k as usize] > 0)
        .map(|&k| count(of_kind[k as usize] as u64, k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
        + " (-v lists them)"
}

/// Whether a change of `action` is listed: shown by `--only`, and unchanged only with `-v`.
fn listed(action: Action, options: &Options) -> bool {
    (options.only.is_empty() || options.only.contains(&action))
        && (action != Action::Unchanged || options.verbose)
}

/// One connection's changes: runs of the plan's list, by kind, and how many of them are
/// of each kind, listed, unchanged and skipped.
#[derive(Default)]
struct Group<'p> {
    runs: [Vec<&'p [Change]>; 3],
    of_kind: [usize; 3],
    listed: [usize; 3],
    unchanged: usize,
    skipped: usize,
}

/// The plan's changes by connection, in runs of one kind (a plan in its order has one run
/// per connection and kind), and the plan's counts: one pass over the changes, no list of
/// them made again (a plan of a million changes is 170 MB to read through).
fn grouped<'p>(plan: &'p Plan, options: &Options) -> (BTreeMap<&'p str, Group<'p>>, Counts) {
    let mut groups: BTreeMap<&str, Group> = BTreeMap::new();
    let mut counts = Counts::default();
    let changes = &plan.changes;
    // The run so far: where it starts, its unchanged, skipped and listed changes.
    let (mut start, mut unchanged, mut skipped, mut shown) = (0, 0, 0, 0);
    for (i, c) in changes.iter().enumerate() {
        counts.add(c.action);
        unchanged += usize::from(c.action == Action::Unchanged);
        skipped += usize::from(c.action == Action::Skip);
        shown += usize::from(listed(c.action, options));
        // (`Arc`'s equality tells a shared name by its pointer first.)
        let run_ends = changes
            .get(i + 1)
            .is_none_or(|n| n.kind() != c.kind() || n.connection != c.connection);
        if run_ends {
            let kind = c.kind() as usize;
            let group = groups.entry(&c.connection).or_default();
            group.unchanged += unchanged;
            group.skipped += skipped;
            group.listed[kind] += shown;
            group.of_kind[kind] += i + 1 - start;
            group.runs[kind].push(&changes[start..=i]);
            (start, unchanged, skipped, shown) = (i + 1, 0, 0, 0);
        }
    }
    (groups, counts)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DestinationType;
    use crate::plan::OfflineOrder;
    use crate::spec::{BindingKey, BindingSpec};
    use std::sync::Arc;

    fn creates(n: usize) -> Plan {
        let connection: Arc<str> = "amqp".into();
        let changes = (0..n)
            .map(|i| Change {
                action: Action::Create,
                connection: connection.clone(),
                entity: Entity::Binding(BindingSpec {
                    key: BindingKey {
                        source: "ex".into(),
                        destination: format!("q{i:07}").as_str().into(),
                        destination_type: DestinationType::Queue,
                        routing_key: format!("t.{i}").as_str().into(),
                    },
                    arguments: ArgMap::new(),
                }),
                reason: None,
                differences: Vec::new(),
            })
            .collect();
        Plan {
            changes,
            unmanaged: Vec::new(),
        }
    }

    /// A long list, written by two threads a block at a time, is every change's lines in
    /// order, as one thread writes them (an odd number of blocks, the last one short).
    #[test]
    fn a_long_list_is_written_in_order() {
        let n = (2 * (PARALLEL_FROM / BLOCK) + 5) * BLOCK - BLOCK / 2;
        assert!(n.div_ceil(BLOCK) % 2 == 1);
        let plan = creates(n);
        let text = render(&plan, &BTreeMap::new(), &Options::default());
        let mut want = String::new();
        for c in &plan.changes {
            change_lines(&mut want, &Paint(false), EntityKind::Binding, c);
        }
        let (head, rest) = text.split_once("  bindings:\n").expect("a bindings list");
        assert!(head.starts_with("Symbols:"), "{head}");
        assert!(rest.starts_with(&want), "the lines differ");
        assert!(
            rest[want.len()..].starts_with("\nPlan: "),
            "{}",
            &rest[want.len()..]
        );
    }

    /// A plan out of its order (a connection's bindings apart, another connection's
    /// between them) is still shown a block per connection, each kind's changes in the
    /// order they come, with each connection's own counts and the plan's.
    #[test]
    fn changes_out_of_order_are_grouped_by_connection_and_kind() {
        let mut plan = creates(6);
        let (a, b, c): (Arc<str>, Arc<str>, Arc<str>) = ("a".into(), "b".into(), "c".into());
        let connections = [&a, &b, &a, &a, &c, &b];
        let actions = [
            Action::Create,
            Action::Delete,
            Action::Unchanged,
            Action::Create,
            Action::Skip,
            Action::Unchanged,
        ];
        for ((change, connection), action) in plan.changes.iter_mut().zip(connections).zip(actions)
        {
            change.connection = connection.clone();
            change.action = action;
        }
        plan.changes[4].reason = Some("no URL".into());
        plan.changes.swap(0, 3);
        let text = render(&plan, &BTreeMap::new(), &Options::default());
        let want = "\
connection `a`
  bindings:
    + binding ex -> q0000003 [t.3]
    + binding ex -> q0000000 [t.0]
  (1 unchanged; -v lists them)

connection `b`
  bindings:
    - binding ex -> q0000001 [t.1]
  (1 unchanged; -v lists them)

connection `c`
  # skipped: no URL
  # 1 binding (-v lists them)

Plan: 2 to create, 0 to replace, 1 to delete; 2 unchanged; 1 skipped; 0 warnings.
";
        let body = text.split_once("\n\n").expect("a legend").1;
        assert!(body.starts_with(want), "{body}");
    }

    /// The offline plan written from the topology in its order, each change made as its
    /// lines are written, is the same text as the plan made whole: on fixtures with
    /// arguments and two connections, on a generated tree whose two connections hold queues
    /// of the same names and lists long enough for two threads, with colour or not, with a
    /// connection's URL shown.
    #[test]
    fn an_offline_plan_written_from_its_order_is_the_plan_made_whole() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let small = crate::load::test_tree::two_connections(3, 40, 7);
        let large = crate::load::test_tree::two_connections(2, PARALLEL_FROM, PARALLEL_FROM);
        let paths = [
            root.join("retry-triple"),
            root.join("two-connections"),
            small.path().to_path_buf(),
            large.path().to_path_buf(),
        ];
        for path in paths {
            let loaded =
                crate::load::load(std::slice::from_ref(&path), &Default::default()).unwrap();
            let topology = &loaded.topology;
            let connections = topology.connections();
            let offline = Offline::new(topology, OfflineOrder::of(topology, &connections));
            let plan = offline.plan();
            assert!(!offline.is_empty(), "{}: nothing declared", path.display());
            assert_eq!(plan.changes.len(), offline.len());
            let urls = BTreeMap::from([(connections[0].clone(), "amqp://h:5672/".to_string())]);
            for color in [false, true] {
                let options = Options {
                    color,
                    offline: true,
                    ..Options::default()
                };
                let mut lines = Vec::new();
                write_offline(&mut lines, &offline, &urls, &options).unwrap();
                let lines = String::from_utf8(lines).unwrap();
                assert!(
                    lines == render(&plan, &urls, &options),
                    "{}: the texts differ",
                    path.display()
                );
            }
        }
    }

    /// A writer that fails (a closed pipe) ends the writing with its error: no panic, no
    /// wait on the other thread.
    #[test]
    fn a_failing_writer_ends_with_its_error() {
        struct Closed(usize);
        impl Write for Closed {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0 += 1;
                if self.0 > 2 {
                    return Err(std::io::ErrorKind::BrokenPipe.into());
                }
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let plan = creates(2 * PARALLEL_FROM);
        let mut closed = Closed(0);
        let got = write(&mut closed, &plan, &BTreeMap::new(), &Options::default());
        assert_eq!(
            got.map_err(|e| e.kind()),
            Err(std::io::ErrorKind::BrokenPipe)
        );
        assert_eq!(closed.0, 3, "nothing written after the error");
    }
}
