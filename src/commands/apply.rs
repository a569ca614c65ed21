//! `topology apply`: plan against the live brokers, then run the plan with the protocols of
//! [`crate::apply`] over each connection.
//!
//! Refused before anything changes: a topology with errors, a saved plan gone stale, a
//! replace without `--allow-recreate`, a replace without the management API (its bindings
//! and unacknowledged messages would be invisible), and a queue to replace or delete that
//! has consumers or unacknowledged messages. Running `apply` again after any failure
//! converges: what a run leaves half-done is recorded on the broker and finished.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use super::plan_failure;
use super::session::Session;
use crate::app::{self, err, out};
use crate::apply::{self, Ending, Status, Step};
use crate::broker::ConnectionState;
use crate::broker::amqp;
use crate::broker::live::{Batching, LiveBroker};
use crate::broker::management::Api;
use crate::cli::{ApplyArgs, Cli, Format};
use crate::diagnostic::Tally;
use crate::error::{Error, Outcome};
use crate::plan::{Action, Change, EntityKind, Plan};
use crate::saved::SavedPlan;
use crate::spec::{self, ConnectionSpecs};
use crate::text::count;

/// Runs `apply`.
pub fn run(cli: &Cli, args: &ApplyArgs) -> Result<Outcome, Error> {
    let saved = match &args.plan {
        Some(path) => Some(read_saved(path, args)?),
        None => None,
    };
    // The specs are made while lint runs, as for `plan`.
    let (loaded, desired) = match &saved {
        Some(saved) => {
            let (paths, options) = saved.load_options();
            app::load_with_beside(&paths, &options, spec::desired_by_connection)?
        }
        None => app::load_files_beside(cli, &args.paths, spec::desired_by_connection)?,
    };
    if let (Some(saved), Some(path)) = (&saved, &args.plan)
        && let Some(why) = saved.files_changed(&crate::saved::digests(&loaded))
    {
        return Err(Error::Refused(format!(
            "refusing the saved plan `{}`: the files changed since it was made ({why}); run `topology plan --out` again",
            path.display()
        )));
    }
    app::print_diagnostics(cli, &loaded);
    if Tally::of(&loaded.diagnostics).errors > 0 {
        let refused = Error::Refused("the topology has errors: nothing was applied".into());
        if args.format == Format::Json {
            // The document carries the diagnostics, as plan's does.
            return plan_failure(&loaded, refused);
        }
        return Err(refused);
    }
    let mut broker_args = args.broker.clone();
    if let Some(saved) = &saved {
        broker_args.prune = saved.prune;
    }
    let session = Session::open(&broker_args, &desired, &loaded.installs, false)?;
    let Some(snapshot) = &session.snapshot else {
        return Err(Error::usage(
            "apply needs a broker: give --connection NAME=URL (or TOPOLOGY_CONNECTION_<NAME>)",
        ));
    };
    let plan = session.plan(desired, broker_args.prune);
    if let (Some(saved), Some(path)) = (&saved, &args.plan)
        && let Some(why) = saved.stale(&crate::saved::changes(&plan))
    {
        return Err(Error::Refused(format!(
            "refusing the saved plan `{}`: the brokers changed what it touches ({why}); run `topology plan --out` again",
            path.display()
        )));
    }
    if let Some(refusal) = refuse_replaces(&plan, &snapshot.states, args.allow_recreate) {
        if args.format == Format::Json {
            out(&render(&loaded, &plan, &[]));
        }
        let refusal = crate::render::escape_controls(&refusal, true).into_owned();
        return Err(Error::Refused(refusal));
    }
    let batching = Batching {
        channels: args.channels.max(1),
        progress: progress(
            std::io::stderr().is_terminal() && !cli.quiet && args.format == Format::Human,
        ),
        verbose: cli.verbose,
    };
    let timeout = Duration::from_secs(args.broker.reach.timeout.max(1));
    // Started for the first connection with changes: a no-op apply needs none.
    let mut rt = None;
    let wait = Duration::from_secs(args.wait_for_consumers);
    let mut steps = Vec::new();
    let mut ending = Ending::Done;
    let nothing = ConnectionSpecs::default();
    for ep in &session.endpoints {
        let (have, live) = match snapshot.states.get(&ep.name) {
            Some(ConnectionState::Live(h)) => (h, true),
            _ => (&nothing, false),
        };
        let changes: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| *c.connection == *ep.name)
            .filter(|c| !matches!(c.action, Action::Unchanged | Action::Skip))
            .collect();
        if changes.is_empty() {
            continue;
        }
        let tls = session.tls.for_connection(&ep.name);
        let rt = rt.get_or_insert_with(super::session::runtime);
        let result = rt.block_on(async {
            let conn = amqp::connect(ep, tls, timeout).await?;
            let api = if live {
                Some(Api::new(ep, crate::broker::http::client(ep, tls, timeout)?))
            } else {
                None
            };
            let mut broker = LiveBroker::new(&conn, api, timeout, batching.clone());
            let ending = apply::run_connection(&mut broker, &changes, have, wait, &mut steps).await;
            amqp::close_connection(&conn, timeout).await;
            Ok::<Ending, String>(ending)
        });
        match result {
            Ok(Ending::Done) => {}
            Ok(e) => {
                ending = e;
                break;
            }
            Err(e) => return Err(Error::Unavailable(e)),
        }
    }
    sort_in_plan_order(&mut steps, &plan);
    match args.format {
        Format::Json => out(&render(&loaded, &plan, &steps)),
        Format::Human => {
            if !cli.quiet {
                out(&human(&steps, ending));
            }
        }
    }
    for line in failures(&steps) {
        err(&line);
    }
    match ending {
        Ending::Done => Ok(Outcome::Done),
        Ending::Refused => Err(Error::Refused(
            "apply refused; nothing of the refused changes was applied".into(),
        )),
        Ending::Failed => Err(Error::Failed(
            "apply stopped; every message is still on the broker; run apply again to finish once the cause is fixed".into(),
        )),
        Ending::Lost => Err(Error::Unavailable(
            "the connection to the broker was lost during apply; every message is still on the broker; run apply again to finish once it is back".into(),
        )),
    }
}

/// Steps in the plan's order (exchanges, queues, bindings; each sorted), whatever order the
/// protocols ran them in.
fn sort_in_plan_order(steps: &mut [Step], plan: &Plan) {
    let order: BTreeMap<(EntityKind, &str, String), usize> = plan
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.kind(), &*c.connection, c.name()), i))
        .collect();
    steps.sort_by_cached_key(|s| {
        order
            .get(&(s.kind, s.connection.as_str(), s.name.clone()))
            .copied()
            .unwrap_or(usize::MAX)
    });
}

/// One `error:` line per distinct failure; the same error on many steps (a broker refusing
/// every channel) is printed once, with how many steps it stopped.
fn failures(steps: &[Step]) -> Vec<String> {
    let mut seen: Vec<(String, Vec<&Step>)> = Vec::new();
    for s in steps
        .iter()
        .filter(|s| matches!(s.status, Status::Failed | Status::Refused))
    {
        let message = s.message.clone().unwrap_or_default();
        match seen.iter_mut().find(|(m, _)| *m == message) {
            Some((_, list)) => list.push(s),
            None => seen.push((message, vec![s])),
        }
    }
    seen.into_iter()
        .map(|(message, list)| {
            let s = list[0];
            let others = match list.len() - 1 {
                0 => String::new(),
                n => format!(
                    " (and {} with the same error)",
                    count(n as u64, "more step")
                ),
            };
            format!(
                "error: {} {} `{}` on `{}`: {message}{others}\n",
                s.action.as_str(),
                s.kind.as_str(),
                s.name,
                s.connection,
            )
        })
        .collect()
}

/// Replaces need `--allow-recreate`, and the management API (the swap moves bindings it
/// cannot otherwise see): why not, in lines, or `None`: nothing to refuse.
fn refuse_replaces(
    plan: &Plan,
    states: &BTreeMap<String, ConnectionState>,
    allow_recreate: bool,
) -> Option<String> {
    // (A binding replace binds the new one before unbinding the old one: nothing to refuse.)
    let replaced: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Replace && c.kind() != EntityKind::Binding)
        .collect();
    if replaced.is_empty() {
        return None;
    }
    let list = |msg: &mut String, list: &[&Change]| {
        for c in list {
            msg.push_str(&format!(
                "  -/+ {} {} on `{}`: {}\n",
                c.kind().as_str(),
                c.name(),
                c.connection,
                c.reason.clone().unwrap_or_default()
            ));
        }
    };
    let probed: Vec<&Change> = replaced
        .iter()
        .copied()
        .filter(|c| !matches!(states.get(&*c.connection), Some(ConnectionState::Live(_))))
        .collect();
    if !probed.is_empty() {
        let mut msg = String::from(
            "refusing to apply: replacing these needs the management API, which does not answer (their bindings and unacknowledged messages cannot be seen otherwise):\n",
        );
        list(&mut msg, &probed);
        msg.push_str("Nothing was applied. Give --management NAME=URL, or make it reachable.");
        return Some(msg);
    }
    if allow_recreate {
        return None;
    }
    let mut msg = String::from(
        "refusing to apply: these entities differ in properties that cannot change on a live broker, and would have to be deleted and declared again:\n",
    );
    list(&mut msg, &replaced);
    msg.push_str("Nothing was applied. Run again with --allow-recreate to replace them (a queue's messages and bindings move to a holding queue and back; see docs/safety.md).");
    Some(msg)
}

/// Progress bars on a terminal, one per phase (`queues [=====>    ] 4,000/10,000`); nothing
/// when stderr is not a terminal, with `--quiet`, or with `--format json`.
fn progress(shown: bool) -> crate::broker::amqp::Progress {
    if !shown {
        return Arc::new(|_, _, _| {});
    }
    let style = indicatif::ProgressStyle::with_template(
        "  {prefix:>9} [{bar:30}] {human_pos}/{human_len} {elapsed}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let current: std::sync::Mutex<Option<(&'static str, indicatif::ProgressBar)>> =
        std::sync::Mutex::new(None);
    Arc::new(move |phase, done, total| {
        let mut current = current.lock().unwrap_or_else(|e| e.into_inner());
        // A new phase, or the same phase begun again (another queue's messages): a new bar.
        let fresh = match current.as_ref() {
            Some((p, bar)) => *p != phase || (done as u64) < bar.position(),
            None => true,
        };
        if fresh {
            if let Some((_, old)) = current.take() {
                old.finish_and_clear();
            }
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            )
            .with_style(style.clone())
            .with_prefix(phase);
            *current = Some((phase, bar));
        }
        if let Some((_, bar)) = current.as_ref() {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            // A finished phase leaves no line behind: the listing that follows says what
            // was done.
            if done >= total {
                bar.finish_and_clear();
            }
        }
    })
}

/// The saved plan of `apply --plan`, or the usage error.
fn read_saved(path: &std::path::Path, args: &ApplyArgs) -> Result<SavedPlan, Error> {
    if !args.paths.is_empty() {
        return Err(Error::usage(
            "apply --plan reads the paths recorded in the plan: give no PATH",
        ));
    }
    let saved = SavedPlan::read(path)
        .map_err(|why| Error::Usage(format!("cannot use `{}`: {why}", path.display())))?;
    if args.broker.prune && !saved.prune {
        return Err(Error::usage(
            "the saved plan was made without --prune: plan again with --prune",
        ));
    }
    Ok(saved)
}

/// What apply did, as Terraform says it: each entity created, replaced, deleted or bound, in
/// plan order, then a summary. "Apply complete" only when every step succeeded.
fn human(steps: &[Step], ending: Ending) -> String {
    if steps.is_empty() && ending == Ending::Done {
        return "Nothing to do: the brokers match the files.\n".to_string();
    }
    let mut text = String::new();
    let mut counts: BTreeMap<Action, BTreeMap<EntityKind, usize>> = BTreeMap::new();
    for s in steps.iter().filter(|s| s.status == Status::Done) {
        *counts
            .entry(s.action)
            .or_default()
            .entry(s.kind)
            .or_default() += 1;
        let (sym, verb) = done(s.action);
        text.push_str(&format!(
            "{sym} {} {} on `{}`: {verb}",
            s.kind.as_str(),
            s.name,
            s.connection
        ));
        if let Some(m) = &s.message {
            text.push_str(&format!(" ({m})"));
        }
        text.push('\n');
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(action, kinds)| {
            let n: usize = kinds.values().sum();
            let kinds: Vec<String> = kinds
                .iter()
                .map(|(kind, n)| count(*n as u64, kind.as_str()))
                .collect();
            format!(
                "{} {} ({})",
                crate::plan::thousands(n as u64),
                done(*action).1,
                kinds.join(", ")
            )
        })
        .collect();
    let summary = if summary.is_empty() {
        "nothing changed".to_string()
    } else {
        summary.join(", ")
    };
    if ending == Ending::Done {
        text.push_str(&format!("\nApply complete: {summary}.\n"));
    } else {
        let not_done = steps.iter().filter(|s| s.status != Status::Done).count();
        text.push_str(&format!(
            "\nApply stopped: {summary} before it stopped; {} not done (see the errors).\n",
            count(not_done as u64, "change")
        ));
    }
    // Names come from the files: nothing in them may drive the terminal.
    crate::render::escape_controls(&text, true).into_owned()
}

/// The symbol and past participle of what a step did.
fn done(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("+", "created"),
        Action::Replace => ("-/+", "replaced"),
        Action::Delete => ("-", "deleted"),
        Action::Update => ("~", "updated"),
        Action::Unverified => ("*", "bound"),
        Action::Unchanged | Action::Skip => (" ", "unchanged"),
    }
}

fn render(loaded: &crate::load::Loaded, plan: &Plan, steps: &[Step]) -> String {
    let document = crate::render::json::plan_document(
        &loaded.topology,
        &loaded.diagnostics,
        &loaded.sources,
        plan,
    );
    crate::render::json::applied(document, &steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(
        action: Action,
        kind: EntityKind,
        name: &str,
        status: Status,
        message: Option<&str>,
    ) -> Step {
        Step {
            action,
            kind,
            connection: "amqp".into(),
            name: name.into(),
            status,
            message: message.map(str::to_string),
        }
    }

    /// "Apply complete" only when every step succeeded; a stopped run says how much was done.
    #[test]
    fn a_failed_run_is_never_complete() {
        let steps = [
            step(
                Action::Create,
                EntityKind::Exchange,
                "ex",
                Status::Done,
                None,
            ),
            step(
                Action::Create,
                EntityKind::Queue,
                "q",
                Status::Failed,
                Some("406"),
            ),
        ];
        let text = human(&steps, Ending::Failed);
        assert!(!text.contains("Apply complete"), "{text}");
        assert!(text.contains("+ exchange ex on `amqp`: created"), "{text}");
        assert!(!text.contains("queue q"), "{text}");
        assert!(
            text.contains(
                "Apply stopped: 1 created (1 exchange) before it stopped; 1 change not done"
            ),
            "{text}"
        );
        let done = human(&steps[..1], Ending::Done);
        assert!(
            done.contains("Apply complete: 1 created (1 exchange)."),
            "{done}"
        );
    }

    /// The same error on every channel is one line, with the count.
    #[test]
    fn one_error_on_many_steps_is_printed_once() {
        let mut steps: Vec<Step> = (0..32)
            .map(|i| {
                step(
                    Action::Create,
                    EntityKind::Queue,
                    &format!("q{i}"),
                    Status::Failed,
                    Some("ACCESS_REFUSED"),
                )
            })
            .collect();
        steps.push(step(
            Action::Create,
            EntityKind::Exchange,
            "ex",
            Status::Failed,
            Some("NOT_FOUND"),
        ));
        let lines = failures(&steps);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            lines[0],
            "error: create queue `q0` on `amqp`: ACCESS_REFUSED (and 31 more steps with the same error)\n"
        );
        assert_eq!(
            lines[1],
            "error: create exchange `ex` on `amqp`: NOT_FOUND\n"
        );
    }
}
