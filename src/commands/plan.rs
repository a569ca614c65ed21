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
use crate::plan::Plan;
use crate::render;
use crate::spec;

/// Runs `plan`.
pub fn run(cli: &Cli, args: &PlanArgs) -> Result<Outcome, Error> {
    // While lint runs: the specs to plan against the brokers, or with `--offline` the plan.
    let (loaded, (desired, made)) = load_files_beside(cli, &args.paths, |topology| {
        if args.offline {
            let connections = topology.connections();
            let plan = crate::plan::against_nothing(topology, &connections);
            let names = connections
                .into_iter()
                .map(|c| (c, spec::ConnectionSpecs::default()))
                .collect();
            (names, Some(plan))
        } else {
            (spec::desired_by_connection(topology), None)
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
        Some(plan) => session.skip_not_amqp(plan),
        None => session.plan(desired, args.broker.prune),
    };
    if let Some(path) = &args.out {
        let saved = crate::saved::SavedPlan::new(
            &the_plan,
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
            out(&render::markdown::render(&the_plan, &context, &options));
        }
        PlanFormat::Json => out_streamed(|w| {
            render::json::write_plan(
                w,
                &loaded.topology,
                &loaded.diagnostics,
                &loaded.sources,
                &the_plan,
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
            out_streamed(|w| render::plan::write(w, &the_plan, &connections, &options));
        }
    }
    let result = ending(has_errors, args.detailed_exitcode, &the_plan);
    // Freeing a large topology and its plan costs more than the OS reclaiming them at exit
    // (as `lint` does).
    std::mem::forget((loaded, the_plan));
    result
}

fn ending(has_errors: bool, detailed: bool, plan: &Plan) -> Result<Outcome, Error> {
    if has_errors {
        Err(Error::Invalid)
    } else if detailed && plan.has_changes() {
        Ok(Outcome::ChangesPending)
    } else {
        Ok(Outcome::Done)
    }
}
