//! `topology plan [PATH]...`: what would change on each connection's broker (offline:
//! the whole topology as `create`), as text, JSON or Markdown; `--out` saves it for
//! `apply --plan`. Exit 1 on errors in the files, 2 with `--detailed-exitcode` when changes
//! are pending, 64/69 when a broker cannot be asked.

use super::plan_failure;
use super::session::Session;
use crate::app::{
    load_files_beside, load_options, out, out_streamed, print_diagnostics, use_color,
};
use crate::cli::{Cli, PlanArgs, PlanFormat};
use crate::diagnostic::Tally;
use crate::error::{Error, Outcome};
use crate::plan::{Action, Offline, OfflineOrder, Plan};
use crate::render;
use crate::spec;

/// Runs `plan`.
pub fn run(cli: &Cli, args: &PlanArgs) -> Result<Outcome, Error> {
    // A human offline plan is written from the topology in its order: no change is made
    // before its lines are written.
    let lines_only = args.offline
        && args.format == PlanFormat::Human
        && args.out.is_none()
        && (args.only.is_empty() || args.only.iter().any(|a| a.action() == Action::Create));
    // While lint runs: the specs to plan against the brokers, or with `--offline` the plan
    // (or its order).
    let (loaded, (desired, made)) = load_files_beside(cli, &args.paths, |topology| {
        if args.offline {
            let connections = topology.connections();
            let order = OfflineOrder::of(topology, &connections);
            let made = if lines_only {
                Made::Order(order)
            } else {
                Made::Plan(Offline::new(topology, order).plan())
            };
            let names = connections
                .into_iter()
                .map(|c| (c, spec::ConnectionSpecs::default()))
                .collect();
            (names, made)
        } else {
            (spec::desired_by_connection(topology), Made::Nothing)
        }
    })?;
    let connections: Vec<String> = desired.keys().cloned().collect();
    let tally = Tally::of(&loaded.diagnostics);
    let has_errors = tally.errors > 0;
    // A topology with errors is never sent to a broker: plan shows it offline.
    let offline = args.offline || has_errors;
    let session = match Session::open(&args.broker, &desired, &loaded.installs, offline) {
        Ok(b) => b,
        Err(e) => {
            if args.format == PlanFormat::Json {
                return plan_failure(&loaded, e);
            }
            print_diagnostics(cli, &loaded);
            return Err(e);
        }
    };
    let offline = session.snapshot.is_none();
    let the_plan = match made {
        // Every connection is planned (none skipped for want of an AMQP URL).
        Made::Order(order) if session.not_amqp.is_empty() => {
            Planned::Offline(Offline::new(&loaded.topology, order))
        }
        Made::Order(order) => {
            Planned::Whole(session.skip_not_amqp(Offline::new(&loaded.topology, order).plan()))
        }
        Made::Plan(plan) => Planned::Whole(session.skip_not_amqp(plan)),
        Made::Nothing => Planned::Whole(session.plan(desired, args.broker.prune)),
    };
    if let Some(path) = &args.out {
        let saved = crate::saved::SavedPlan::new(
            &the_plan.whole(),
            connections,
            &loaded,
            &args.paths,
            &load_options(cli),
            args.broker.prune,
        );
        saved
            .write(path)
            .map_err(|e| Error::Usage(format!("cannot write `{}`: {e}", path.display())))?;
    }
    let options = render::plan::Options {
        color: use_color(cli, crate::app::Stream::Stdout),
        verbose: cli.verbose,
        only: args.only.iter().map(|a| a.action()).collect(),
        tally,
        offline,
    };
    match args.format {
        PlanFormat::Markdown => {
            let context = render::markdown::Context {
                diagnostics: &loaded.diagnostics,
                sources: &loaded.sources,
                connections: &session.urls.masked(),
                modes: session.snapshot.as_ref().map(|s| &s.modes),
            };
            out(&render::markdown::render(
                &the_plan.whole(),
                &context,
                &options,
            ));
        }
        PlanFormat::Json => out_streamed(|w| {
            render::json::write_plan(
                w,
                &loaded.topology,
                &loaded.diagnostics,
                &loaded.sources,
                &the_plan.whole(),
            )
        }),
        // `--quiet` prints only errors: the exit code (`--detailed-exitcode`) says the rest.
        PlanFormat::Human if cli.quiet => print_diagnostics(cli, &loaded),
        PlanFormat::Human => {
            print_diagnostics(cli, &loaded);
            if cli.verbose {
                for install in &loaded.installs {
                    out(&render::plan::install(install));
                }
            }
            if let Some(snapshot) = &session.snapshot {
                out(&render::plan::read_modes(&snapshot.modes));
            }
            if offline {
                let why = if has_errors && !args.offline && !session.endpoints.is_empty() {
                    "the topology has errors, so no broker was asked"
                } else {
                    "offline: no broker asked"
                };
                out(&format!("{why}; every entity is shown as `create`\n\n"));
            }
            let connections = session.urls.masked();
            out_streamed(|w| match &the_plan {
                Planned::Whole(plan) => render::plan::write(w, plan, &connections, &options),
                Planned::Offline(offline) => {
                    render::plan::write_offline(w, offline, &connections, &options)
                }
            });
        }
    }
    let result = ending(has_errors, args.detailed_exitcode, the_plan.has_changes());
    // Freeing a large topology and its plan costs more than the OS reclaiming them at exit
    // (as `lint` does).
    std::mem::forget(the_plan);
    std::mem::forget(loaded);
    result
}

/// What `plan` makes while lint runs.
enum Made {
    /// Nothing: the specs are planned against the brokers after.
    Nothing,
    /// Offline, the plan made whole (for JSON, Markdown, `--out`).
    Plan(Plan),
    /// Offline in human form, only the plan's order.
    Order(OfflineOrder),
}

/// The plan, made whole or (offline, in human form) made as it is written.
enum Planned<'t> {
    Whole(Plan),
    Offline(Offline<'t>),
}

impl Planned<'_> {
    /// As [`Plan::has_changes`]: offline, every entity is a create.
    fn has_changes(&self) -> bool {
        match self {
            Planned::Whole(plan) => plan.has_changes(),
            Planned::Offline(offline) => !offline.is_empty(),
        }
    }

    /// The plan made whole (made now if it was not).
    fn whole(&self) -> std::borrow::Cow<'_, Plan> {
        match self {
            Planned::Whole(plan) => std::borrow::Cow::Borrowed(plan),
            Planned::Offline(offline) => std::borrow::Cow::Owned(offline.plan()),
        }
    }
}

/// The exit: errors in the files, else changes pending under `--detailed-exitcode`.
fn ending(has_errors: bool, detailed: bool, pending: bool) -> Result<Outcome, Error> {
    if has_errors {
        Err(Error::Invalid)
    } else if detailed && pending {
        Ok(Outcome::ChangesPending)
    } else {
        Ok(Outcome::Done)
    }
}
