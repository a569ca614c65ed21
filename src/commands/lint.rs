//! `topology lint [PATH]...`: the files' diagnostics (human on stderr, JSON or GitHub
//! annotations on stdout), without a broker. Exit 1 on errors (on warnings too with
//! `--deny-warnings`).

use crate::app::{err, load_files, out, out_streamed, print_diagnostics};
use crate::cli::{Cli, LintArgs, LintFormat};
use crate::diagnostic::Tally;
use crate::error::{Error, Outcome};
use crate::render;

/// Runs `lint`.
pub fn run(cli: &Cli, args: &LintArgs) -> Result<Outcome, Error> {
    let loaded = load_files(cli, &args.paths)?;
    match args.format {
        LintFormat::Human => {
            print_diagnostics(cli, &loaded);
            if !cli.quiet && loaded.diagnostics.is_empty() {
                let files = loaded
                    .sources
                    .iter()
                    .filter(|(_, s)| s.kind == crate::source::SourceKind::Topology)
                    .count();
                err(&format!(
                    "{} checked: no problem found\n",
                    crate::text::count(files as u64, "file")
                ));
            }
        }
        LintFormat::Json => {
            out_streamed(|w| render::json::write_lint(w, &loaded.diagnostics, &loaded.sources))
        }
        LintFormat::Github => out(&render::github::render(
            &loaded.diagnostics,
            &loaded.sources,
        )),
    }
    let tally = Tally::of(&loaded.diagnostics);
    // Freeing a large topology costs more than the OS reclaiming it at exit.
    std::mem::forget(loaded);
    if tally.errors > 0 || (args.deny_warnings && tally.warnings > 0) {
        Err(Error::Invalid)
    } else {
        Ok(Outcome::Done)
    }
}
