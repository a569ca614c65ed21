//! What the commands share (`crate::commands` stands on it): stdout and stderr with every
//! secret redacted (the only writers to the terminal), loading the files with the command
//! line's options. What fails is given back as a [`crate::Error`], which `commands`
//! prints. (The brokers' session is `commands::session`'s.)

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::cli::{Cli, Color};
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::Error;
use crate::load::Loaded;
use crate::render;
use crate::secret;

/// Whether anything was written on stdout (a JSON document, when `--format json`).
pub(crate) static STDOUT_USED: AtomicBool = AtomicBool::new(false);

/// The `error:` lines written on stderr, redacted, for a JSON document that must carry them.
static ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The `error:` lines written so far (their text after `error: `), emptied.
pub(crate) fn take_errors() -> Vec<String> {
    ERRORS
        .lock()
        .map(|mut e| std::mem::take(&mut *e))
        .unwrap_or_default()
}

/// Registers for redaction, before anything is parsed, every password the command line and
/// the environment may hold: those of any argument that looks like a URL, the client
/// certificate's, and those of every `TOPOLOGY_CONNECTION_*` and `TOPOLOGY_MANAGEMENT_*`
/// (even of a connection the files do not name).
pub(crate) fn register_secrets(args: &[OsString]) {
    let mut args = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--client-cert-password" {
            if let Some(password) = args.next() {
                secret::register(&password);
            }
        } else if let Some(password) = arg.strip_prefix("--client-cert-password=") {
            secret::register(password);
        } else if arg.contains("://") {
            secret::register_in_urls(&arg);
        }
    }
    for (name, value) in std::env::vars_os() {
        let (name, value) = (name.to_string_lossy(), value.to_string_lossy());
        if name == "TOPOLOGY_CLIENT_CERT_PASSWORD" {
            secret::register(&value);
        } else if name.starts_with("TOPOLOGY_CONNECTION_")
            || name.starts_with("TOPOLOGY_MANAGEMENT_")
        {
            secret::register_in_urls(&value);
        }
    }
}

/// Writes to stdout, every registered secret replaced by `***`.
pub(crate) fn out(text: &str) {
    STDOUT_USED.store(true, Ordering::Relaxed);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(secret::redact(text).as_bytes());
    let _ = stdout.flush();
}

/// Writes what `render` writes to stdout (which buffers itself): streamed when no secret is
/// registered (nothing could need redacting: a JSON document of a million diagnostics is
/// never held whole), else rendered in memory and written through [`out`].
pub(crate) fn out_streamed(render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    if secret::none_registered() {
        STDOUT_USED.store(true, Ordering::Relaxed);
        let mut stdout = std::io::stdout().lock();
        let _ = render(&mut stdout);
        let _ = stdout.flush();
    } else {
        let mut text = Vec::new();
        let _ = render(&mut text);
        out(&String::from_utf8_lossy(&text));
    }
}

/// Writes to stderr, every registered secret replaced by `***`.
pub(crate) fn err(text: &str) {
    let text = secret::redact(text);
    if let Ok(mut errors) = ERRORS.lock() {
        errors.extend(lines_after_error(&text));
    }
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
}

/// The `error:` lines of `text` (their text after `error: `), redacted.
pub(crate) fn error_lines(text: &str) -> Vec<String> {
    lines_after_error(&secret::redact(text)).collect()
}

fn lines_after_error(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .map(str::to_string)
}

/// A panic hook for the binary: the panic's message goes through [`err`], redacted.
pub fn redact_panics() {
    std::panic::set_hook(Box::new(|info| {
        err(&format!(
            "{info}\nerror: topology stopped on a bug; please report it\n"
        ));
    }));
}

pub(crate) fn use_color(cli: &Cli, stream: Stream) -> bool {
    match cli.color {
        Color::Always => true,
        Color::Never => false,
        // A terminal, unless NO_COLOR, CLICOLOR=0 or TERM=dumb says otherwise (CLICOLOR_FORCE
        // forces it): the conventions `anstream` reads.
        Color::Auto => {
            let choice = match stream {
                Stream::Stdout => anstream::AutoStream::choice(&std::io::stdout()),
                Stream::Stderr => anstream::AutoStream::choice(&std::io::stderr()),
            };
            choice != anstream::ColorChoice::Never
        }
    }
}

/// The stream a coloured text goes to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

pub(crate) fn paths_or_cwd(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    }
}

/// How the command line says to read the files.
pub(crate) fn load_options(cli: &Cli) -> crate::load::Options {
    crate::load::Options {
        default_connection: cli.default_connection.clone(),
        dialect: cli.dialect,
        magento_root: cli.magento_root.clone(),
    }
}

/// Loads the files with the command line's options.
pub(crate) fn load_files(cli: &Cli, paths: &[PathBuf]) -> Result<Loaded, Error> {
    load_files_beside(cli, paths, |_| ()).map(|(loaded, ())| loaded)
}

/// [`load_files`], with `beside` run on the topology while lint runs (see
/// [`crate::load::load_beside_lint`]).
pub(crate) fn load_files_beside<R: Send>(
    cli: &Cli,
    paths: &[PathBuf],
    beside: impl FnOnce(&crate::model::Topology) -> R + Send,
) -> Result<(Loaded, R), Error> {
    load_with_beside(paths, &load_options(cli), beside)
}

/// Loads `paths` (the current directory when none, unless a Magento root is given) with
/// `options`, `beside` run on the topology while lint runs.
pub(crate) fn load_with_beside<R: Send>(
    paths: &[PathBuf],
    options: &crate::load::Options,
    beside: impl FnOnce(&crate::model::Topology) -> R + Send,
) -> Result<(Loaded, R), Error> {
    // With --magento-root, no PATH means the install alone.
    let paths = if paths.is_empty() && options.magento_root.is_some() {
        Vec::new()
    } else {
        paths_or_cwd(paths)
    };
    // The path may be a directory's name found in the walk: made inert.
    crate::load::load_beside_lint(&paths, options, beside)
        .map_err(|e| Error::usage(render::escape_controls(&e.to_string(), true)))
}

/// Human diagnostics on stderr (warnings dropped with --quiet).
pub(crate) fn print_diagnostics(cli: &Cli, loaded: &Loaded) {
    let errors: Vec<Diagnostic>;
    let shown = if cli.quiet {
        errors = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect();
        &errors
    } else {
        &loaded.diagnostics
    };
    if !shown.is_empty() {
        let color = use_color(cli, Stream::Stderr);
        err(&render::diagnostics::render(shown, &loaded.sources, color));
    }
}
