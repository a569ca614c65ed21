//! The commands, one file each: each takes the parsed command line and gives an
//! [`Outcome`] or the [`Error`] that stopped it, printing through `app`'s writers, which
//! redact secrets. This is the top floor: nothing below imports it.
//!
//! [`main`] parses the arguments, runs the command, prints its error and gives the exit
//! code ([`crate::error::exit_code`], the contract's table); `--format json` always ends
//! with one JSON document on stdout, a failure's too.

pub mod apply;
pub mod completions;
pub mod export;
pub mod import;
pub mod lint;
pub mod plan;
pub mod session;

use std::ffi::OsString;
use std::sync::atomic::Ordering;

use clap::Parser;

use crate::app;
use crate::cli::{Cli, Command, Format, LintFormat, PlanFormat};
use crate::error::{Error, Outcome, exit_code};
use crate::load::Loaded;
use crate::render;

/// Parses `args` and runs the command. Returns the process exit code.
pub fn main<I: IntoIterator<Item = OsString>>(args: I) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    app::register_secrets(&args);
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => return finish(Err(Error::CommandLine(e))),
        Err(e) => {
            let _ = e.print();
            return finish(Ok(Outcome::Done));
        }
    };
    let json = match &cli.command {
        Command::Lint(args) => args.format == LintFormat::Json,
        Command::Plan(args) => args.format == PlanFormat::Json,
        Command::Apply(args) => args.format == Format::Json,
        Command::Import(_) | Command::Export(_) | Command::Completions(_) | Command::Man => false,
    };
    let result = match &cli.command {
        Command::Lint(args) => lint::run(&cli, args),
        Command::Plan(args) => plan::run(&cli, args),
        Command::Apply(args) => apply::run(&cli, args),
        Command::Export(args) => export::run(&cli, args),
        Command::Completions(args) => completions::completions(args),
        Command::Man => completions::man(),
        Command::Import(args) => import::run(&cli, args),
    };
    let code = finish(result);
    // The contract: `--format json` prints one JSON document on stdout, whatever happens.
    if json && !app::STDOUT_USED.load(Ordering::Relaxed) {
        let lint = matches!(cli.command, Command::Lint(_));
        app::out(&render::json::failure(lint, code, &app::take_errors()));
    }
    code
}

/// Prints the error, if any, on stderr (through `err`: a message may quote a URL); the
/// exit code.
fn finish(result: Result<Outcome, Error>) -> i32 {
    if let Some(report) = result.as_ref().err().and_then(Error::report) {
        app::err(&report);
    }
    exit_code(&result)
}

/// `plan` or `apply --format json` stopped before it planned: prints the plan document of
/// what was read, no change, and the error (with those printed so far; [`finish`] prints
/// `e` next), and gives `e` back.
fn plan_failure(loaded: &Loaded, e: Error) -> Result<Outcome, Error> {
    let mut errors = app::take_errors();
    errors.extend(e.report().map(|r| app::error_lines(&r)).unwrap_or_default());
    let failed = Err(e);
    app::out(&render::json::plan_failure(
        &loaded.topology,
        &loaded.diagnostics,
        &loaded.sources,
        exit_code(&failed),
        &errors,
    ));
    failed
}
