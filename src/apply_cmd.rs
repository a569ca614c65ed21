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

use crate::app::{self, Brokers, err, exit, out};
use crate::apply::{self, Ending, Status, Step};
use crate::broker::amqp;
use crate::broker::live::{Batching, LiveBroker};
use crate::broker::management::Api;
use crate::cli::{ApplyArgs, Cli, Format};
use crate::diagnostic::Tally;
use crate::plan::{Action, Change, ConnectionState, EntityKind, Plan};
use crate::saved::SavedPlan;
use crate::spec::ConnectionSpecs;

pub fn run(cli: &Cli, args: &ApplyArgs) -> i32 {
    let loaded = match app::load_or_exit(cli, &args.paths) {
        Ok(l) => l,
        Err(code) => return code,
    };
    app::print_diagnostics(cli, &loaded);
    if Tally::of(&loaded.diagnostics).errors > 0 {
        err("error: the topology has errors: nothing was applied\n");
        return exit::ERRORS;
    }
    let desired = app::desired(&loaded);
    let rt = app::runtime();
    let brokers = match app::read_brokers(&rt, &args.broker, &desired, &loaded.installs, false) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let Some(snapshot) = &brokers.snapshot else {
        err(
            "error: apply needs a broker: give --connection NAME=URL (or TOPOLOGY_CONNECTION_<NAME>)\n",
        );
        return exit::USAGE;
    };
    let plan = app::make_plan(desired, &brokers, args.broker.prune);
    if let Some(path) = &args.plan
        && let Err(why) = check_saved(path, &plan, &brokers)
    {
        err(&format!(
            "error: refusing the saved plan `{}`: {why}\n",
            path.display()
        ));
        return exit::ERRORS;
    }
    if let Some(refusal) = refuse_replaces(&plan, &snapshot.states, args.allow_recreate) {
        err(&refusal);
        if args.format == Format::Json {
            out(&render(&loaded, &plan, &[]));
        }
        return exit::ERRORS;
    }
    let batching = Batching {
        channels: args.channels.max(1),
        progress: progress(std::io::stderr().is_terminal() && !cli.quiet),
        verbose: cli.verbose,
    };
    let timeout = Duration::from_secs(args.broker.timeout.max(1));
    let wait = Duration::from_secs(args.wait_for_consumers);
    let mut steps = Vec::new();
    let mut ending = Ending::Done;
    let nothing = ConnectionSpecs::default();
    for ep in &brokers.endpoints {
        let (have, live) = match snapshot.states.get(&ep.name) {
            Some(ConnectionState::Live(h)) => (h, true),
            _ => (&nothing, false),
        };
        let changes: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| c.connection == ep.name)
            .filter(|c| !matches!(c.action, Action::Unchanged | Action::Skip))
            .collect();
        if changes.is_empty() {
            continue;
        }
        let tls = brokers.tls.for_connection(&ep.name);
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
            Err(e) => {
                err(&format!("error: {e}\n"));
                return exit::UNAVAILABLE;
            }
        }
    }
    match args.format {
        Format::Json => out(&render(&loaded, &plan, &steps)),
        Format::Human => {
            if !cli.quiet {
                out(&human(&steps));
            }
        }
    }
    for s in steps
        .iter()
        .filter(|s| matches!(s.status, Status::Failed | Status::Refused))
    {
        err(&format!(
            "error: {} {} `{}` on `{}`: {}\n",
            s.action.as_str(),
            s.kind.as_str(),
            s.name,
            s.connection,
            s.message.clone().unwrap_or_default()
        ));
    }
    match ending {
        Ending::Done => exit::OK,
        Ending::Refused => {
            err("error: apply refused; nothing of the refused changes was applied\n");
            exit::ERRORS
        }
        Ending::Failed | Ending::Lost => {
            err(
                "error: apply stopped; every message is still on the broker; run apply again to finish once the cause is fixed\n",
            );
            exit::ERRORS
        }
    }
}

/// Replaces need `--allow-recreate`, and the management API (the swap moves bindings it
/// cannot otherwise see). `None`: nothing to refuse.
fn refuse_replaces(
    plan: &Plan,
    states: &BTreeMap<String, ConnectionState>,
    allow_recreate: bool,
) -> Option<String> {
    let replaced: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Replace)
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
        .filter(|c| !matches!(states.get(&c.connection), Some(ConnectionState::Live(_))))
        .collect();
    if !probed.is_empty() {
        let mut msg = String::from(
            "error: refusing to apply: replacing these needs the management API, which does not answer (their bindings and unacknowledged messages cannot be seen otherwise):\n",
        );
        list(&mut msg, &probed);
        msg.push_str("Nothing was applied. Give --management NAME=URL, or make it reachable.\n");
        return Some(msg);
    }
    if allow_recreate {
        return None;
    }
    let mut msg = String::from(
        "error: refusing to apply: these entities differ in properties that cannot change on a live broker, and would have to be deleted and declared again:\n",
    );
    list(&mut msg, &replaced);
    msg.push_str("Nothing was applied. Run again with --allow-recreate to replace them (a queue's messages and bindings move to a holding queue and back; see docs/safety.md).\n");
    Some(msg)
}

fn progress(on_terminal: bool) -> Arc<dyn Fn(usize) + Send + Sync> {
    if !on_terminal {
        return Arc::new(|_| {});
    }
    Arc::new(move |n| {
        if n % 100 == 0 {
            eprint!("\r  applying: {n}");
        }
    })
}

fn check_saved(path: &std::path::Path, plan: &Plan, brokers: &Brokers) -> Result<(), String> {
    let saved = SavedPlan::read(path)?;
    let now = brokers.snapshot.as_ref().map(|s| s.fingerprint.clone());
    if saved.fingerprint != now {
        return Err(
            "the broker's state changed since the plan was made; run `topology plan` again".into(),
        );
    }
    let changes = serde_json::to_value(crate::render::json::changes(&plan.changes))
        .expect("wire types always serialize");
    if saved.changes != changes {
        return Err("the files changed since the plan was made; run `topology plan` again".into());
    }
    Ok(())
}

fn human(steps: &[Step]) -> String {
    let mut counts: BTreeMap<(Action, EntityKind), usize> = BTreeMap::new();
    for s in steps.iter().filter(|s| s.status == Status::Done) {
        *counts.entry((s.action, s.kind)).or_default() += 1;
    }
    if counts.is_empty() && steps.is_empty() {
        return "Nothing to do: the brokers match the files.\n".to_string();
    }
    let mut text = String::new();
    for s in steps
        .iter()
        .filter(|s| s.status == Status::Done && s.action != Action::Create)
    {
        let sym = if s.action == Action::Delete {
            "-"
        } else {
            "-/+"
        };
        text.push_str(&format!(
            "{sym} {} {} on `{}`",
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
        .map(|((action, kind), n)| {
            let verb = match action {
                Action::Create => "created",
                Action::Replace => "replaced",
                Action::Delete => "deleted",
                other => other.as_str(),
            };
            format!(
                "{verb} {n} {}{}",
                kind.as_str(),
                if *n == 1 { "" } else { "s" }
            )
        })
        .collect();
    if !summary.is_empty() {
        text.push_str(&format!("Apply complete: {}.\n", summary.join(", ")));
    }
    text
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
