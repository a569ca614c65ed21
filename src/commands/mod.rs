//! The commands, one file each: each takes the parsed command line and gives the process
//! exit code (the contract's table, [`crate::app::exit`]), printing through `app`'s writers,
//! which redact secrets. This is the top floor: nothing below imports it.
//!
//! [`main`] parses the arguments and runs the command; `--format json` always ends with one
//! JSON document on stdout, a failure's too.

pub mod apply;
pub mod completions;
pub mod export;
pub mod import;
pub mod lint;
pub mod plan;

use std::ffi::OsString;
use std::sync::atomic::Ordering;

use clap::Parser;

use crate::app::{self, exit};
use crate::cli::{Cli, Command, Format, LintFormat, PlanFormat};
use crate::render;

/// Parses `args` and runs the command. Returns the process exit code.
pub fn main<I: IntoIterator<Item = OsString>>(args: I) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    app::register_secrets(&args);
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // Through `err`: clap quotes a value it refuses, which may be a URL.
            app::err(&e.render().to_string());
            return exit::USAGE;
        }
        Err(e) => {
            let _ = e.print();
            return exit::OK;
        }
    };
    let json = match &cli.command {
        Command::Lint(args) => args.format == LintFormat::Json,
        Command::Plan(args) => args.format == PlanFormat::Json,
        Command::Apply(args) => args.format == Format::Json,
        Command::Import(_) | Command::Export(_) | Command::Completions(_) | Command::Man => false,
    };
    let code = match &cli.command {
        Command::Lint(args) => lint::run(&cli, args),
        Command::Plan(args) => plan::run(&cli, args),
        Command::Apply(args) => apply::run(&cli, args),
        Command::Export(args) => export::run(&cli, args),
        Command::Completions(args) => completions::completions(args),
        Command::Man => completions::man(),
        Command::Import(args) => import::run(&cli, args),
    };
    // The contract: `--format json` prints one JSON document on stdout, whatever happens.
    if json && !app::STDOUT_USED.load(Ordering::Relaxed) {
        let lint = matches!(cli.command, Command::Lint(_));
        app::out(&render::json::failure(lint, code, &app::take_errors()));
    }
    code
}
