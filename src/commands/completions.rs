//! `topology completions SHELL` and `topology man`: the shell completion script and the roff
//! man page, both generated from the command-line definition (`cli::Cli`), so that they
//! cannot drift from the flags the binary accepts. They take nothing but the definition and
//! give text on stdout.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Error, Outcome};

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<Outcome, Error> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "topology", &mut script);
    crate::app::out(&String::from_utf8_lossy(&script));
    Ok(Outcome::Done)
}

/// Prints the man page (roff) on stdout: `topology man | man -l -`. One page: the global
/// options, then each command with its synopsis and options.
pub fn man() -> Result<Outcome, Error> {
    let page = page().map_err(|e| Error::Usage(format!("cannot render the man page: {e}")))?;
    crate::app::out(&page);
    Ok(Outcome::Done)
}

fn page() -> std::io::Result<String> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    man.render_subcommands_section(&mut page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("topology {}", sub.get_name());
        let sub_man = clap_mangen::Man::new(sub.clone().bin_name(&name));
        page.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        // Each section rendered alone has its own `.SH` line (after roff's preamble): under
        // the command's heading it becomes a subsection.
        for render in [
            clap_mangen::Man::render_description_section,
            clap_mangen::Man::render_synopsis_section,
            clap_mangen::Man::render_options_section,
        ] {
            let mut section = Vec::new();
            render(&sub_man, &mut section)?;
            let text = format!("\n{}", String::from_utf8_lossy(&section));
            let text = text.replacen("\n.SH ", "\n.SS ", 1);
            page.extend_from_slice(&text.as_bytes()[1..]);
        }
    }
    man.render_version_section(&mut page)?;
    Ok(String::from_utf8_lossy(&page).into_owned())
}
