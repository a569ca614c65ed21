//! `topology export definitions|mermaid|dot [PATH]...`: the merged topology written for
//! other tools, asking no broker.
//!
//! Takes the files (read, merged and linted as `plan` reads them) and gives, on stdout,
//! either one connection's RabbitMQ definitions ([`render::definitions`]) or a picture of
//! every connection, or of one ([`render::graph`], drawn by [`render::mermaid`] or
//! [`render::dot`]). Diagnostics go to stderr as `lint` prints them; a topology with
//! errors exports nothing (exit 1). An unknown `--connection-name`, and definitions of a
//! connection that is not provisioned (not AMQP), are usage errors (64).

use std::collections::BTreeMap;

use crate::app;
use crate::cli::{Cli, ExportArgs, ExportFormat};
use crate::diagnostic::Tally;
use crate::error::{Error, Outcome};
use crate::render;
use crate::spec::{self, ConnectionSpecs};

/// The vhost definitions name when `--vhost` is not given.
const DEFAULT_VHOST: &str = "/";

/// Runs `export`.
pub fn run(cli: &Cli, args: &ExportArgs) -> Result<Outcome, Error> {
    if args.vhost.is_some() && args.format != ExportFormat::Definitions {
        return Err(Error::usage(
            "--vhost is for `export definitions` only: a picture names no vhost",
        ));
    }
    let (loaded, specs) = app::load_files_beside(cli, &args.paths, spec::desired_by_connection)?;
    if Tally::of(&loaded.diagnostics).errors > 0 {
        app::print_diagnostics(cli, &loaded);
        return Err(Error::Invalid);
    }
    let names: Vec<String> = specs.keys().cloned().collect();
    let not_provisioned = super::session::not_provisioned(&names, &loaded.installs);
    let text = match args.format {
        ExportFormat::Definitions => {
            definitions(args, &loaded.default_connection, specs, &not_provisioned)
        }
        ExportFormat::Mermaid => picture(args, specs, &not_provisioned, render::mermaid::render),
        ExportFormat::Dot => picture(args, specs, &not_provisioned, render::dot::render),
    }
    .map_err(Error::Usage)?;
    app::print_diagnostics(cli, &loaded);
    app::out(&text);
    Ok(Outcome::Done)
}

/// The definitions of the connection `--connection-name` names (default: the default
/// connection), or why there are none.
fn definitions(
    args: &ExportArgs,
    default_connection: &str,
    mut specs: BTreeMap<String, ConnectionSpecs>,
    not_provisioned: &BTreeMap<String, String>,
) -> Result<String, String> {
    let names: Vec<String> = specs.keys().cloned().collect();
    let name = match &args.connection_name {
        Some(name) => {
            known(name, &names)?;
            name.as_str()
        }
        // Files that declare nothing: an empty document.
        None if names.is_empty() => default_connection,
        None => {
            if !names.iter().any(|n| n == default_connection) {
                return Err(format!(
                    "the default connection has nothing to export: {} (give --connection-name NAME)",
                    crate::connection::unknown_connection(default_connection, &names)
                ));
            }
            default_connection
        }
    };
    if let Some(why) = not_provisioned.get(name) {
        return Err(format!(
            "connection `{name}` is not an AMQP connection, so it has no RabbitMQ definitions: {why}"
        ));
    }
    let connection = specs.remove(name).unwrap_or_default();
    let vhost = args.vhost.as_deref().unwrap_or(DEFAULT_VHOST);
    Ok(render::definitions::render(&connection, vhost))
}

/// Ok when the files use connection `name`; else why not.
fn known(name: &str, names: &[String]) -> Result<(), String> {
    if names.iter().any(|n| n == name) {
        Ok(())
    } else {
        Err(format!(
            "--connection-name {name}: {}",
            crate::connection::unknown_connection(name, names)
        ))
    }
}

/// The picture of every connection, or of the one `--connection-name` names, drawn by
/// `draw`.
fn picture(
    args: &ExportArgs,
    mut specs: BTreeMap<String, ConnectionSpecs>,
    not_provisioned: &BTreeMap<String, String>,
    draw: fn(&render::graph::Graph) -> String,
) -> Result<String, String> {
    if let Some(name) = &args.connection_name {
        let names: Vec<String> = specs.keys().cloned().collect();
        known(name, &names)?;
        specs.retain(|n, _| n == name);
    }
    Ok(draw(&render::graph::build(&specs, not_provisioned)))
}
