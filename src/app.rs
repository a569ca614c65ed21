//! What the commands share (`crate::commands` stands on it): stdout and stderr with every
//! secret redacted (the only writers to the terminal), loading the files with the command
//! line's options, and the session with the brokers: their URLs, TLS and management
//! endpoints from flags, environment and env.php, read once ([`read_brokers`]), and the
//! plan made against what they hold. What fails is given back as a [`crate::Error`], which
//! `commands` prints.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::broker::ConnectionState;
use crate::cli::{Cli, Color};
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::Error;
use crate::load::Loaded;
use crate::plan::{self, Plan};
use crate::render;
use crate::secret;
use crate::spec;

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
    load_with(paths, &load_options(cli))
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
/// `options`.
pub(crate) fn load_with(
    paths: &[PathBuf],
    options: &crate::load::Options,
) -> Result<Loaded, Error> {
    load_with_beside(paths, options, |_| ()).map(|(loaded, ())| loaded)
}

/// [`load_with`], with `beside` run on the topology while lint runs.
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

/// The brokers' side of a run: URLs, and what the brokers hold (None offline).
pub(crate) struct Brokers {
    pub urls: crate::broker::Urls,
    pub endpoints: Vec<crate::broker::Endpoint>,
    pub snapshot: Option<crate::broker::Snapshot>,
    /// Each connection's TLS material.
    pub tls: crate::broker::TlsSet,
    /// Connections that are not provisioned, with the reason: not AMQP in a Magento
    /// install's env.php (e.g. `db`, Magento's MySQL queue) and given no URL.
    pub not_amqp: BTreeMap<String, String>,
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// Resolves the URLs and, unless `offline`, reads every broker (an offline run starts no
/// async runtime, TLS stack or HTTP client).
pub(crate) fn read_brokers(
    args: &crate::cli::BrokerArgs,
    desired: &BTreeMap<String, spec::ConnectionSpecs>,
    installs: &[crate::source::InstallReport],
    offline: bool,
) -> Result<Brokers, Error> {
    let names: Vec<String> = desired.keys().cloned().collect();
    let mut urls =
        crate::broker::Urls::resolve(&args.reach.connections, &args.reach.management, &names)
            .map_err(Error::usage)?;
    // A Magento install's env.php gives the URLs that flags and environment do not, and
    // with them the TLS settings of those connections.
    let mut from_env_php = Vec::new();
    for install in installs {
        for connection in install.brokers.iter().flat_map(|b| b.connections.iter()) {
            if !names.contains(&connection.name) || urls.amqp.contains_key(&connection.name) {
                continue;
            }
            let url = connection.url().map_err(Error::usage)?;
            urls.amqp.insert(connection.name.clone(), url);
            from_env_php.push((install.root.as_path(), connection));
        }
    }
    let not_amqp: BTreeMap<String, String> = not_amqp(&names, installs, &urls, offline)
        .into_iter()
        .map(|(name, why)| {
            let how = format!(
                "give --connection {name}=URL or {} to provision it anyway",
                crate::connection::env_var("CONNECTION", &name)
            );
            (name, format!("{why} ({how})"))
        })
        .collect();
    if !offline {
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| !urls.amqp.contains_key(*n) && !not_amqp.contains_key(*n))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Usage(no_url(&missing)));
        }
    }
    let endpoints = urls.endpoints(names.iter()).map_err(Error::usage)?;
    let mut tls = crate::broker::TlsSet::new(
        crate::broker::tls::from_files(args.reach.tls_files()).map_err(Error::usage)?,
    );
    if offline || endpoints.is_empty() {
        return Ok(Brokers {
            urls,
            endpoints,
            snapshot: None,
            tls,
            not_amqp,
        });
    }
    // Only when a broker is asked: `--offline` needs none of the files env.php names.
    for (root, connection) in from_env_php {
        let (own, notes) = crate::broker::tls::from_env_php(connection, root, tls.default_tls())
            .map_err(Error::usage)?;
        for note in notes {
            err(&format!("note: {note}\n"));
        }
        tls.insert(&connection.name, own);
    }
    let timeout = std::time::Duration::from_secs(args.reach.timeout.max(1));
    let snapshot = runtime()
        .block_on(crate::broker::read_states(
            &endpoints,
            desired,
            &tls,
            timeout,
            args.no_management,
        ))
        .map_err(Error::unavailable)?;
    for (name, mode) in &snapshot.modes {
        if let crate::broker::ReadMode::Probes(why) = mode {
            err(&format!(
                "note: connection `{name}`: planned from AMQP probes ({why}); {}\n",
                crate::broker::PROBES_CANNOT_SEE
            ));
        }
    }
    Ok(Brokers {
        urls,
        endpoints,
        snapshot: Some(snapshot),
        tls,
        not_amqp,
    })
}

/// Why connections that have entities cannot be planned against a broker.
fn no_url(missing: &[&String]) -> String {
    let how: Vec<String> = missing
        .iter()
        .map(|n| {
            format!(
                "--connection {n}=URL or {}",
                crate::connection::env_var("CONNECTION", n)
            )
        })
        .collect();
    let names: Vec<String> = missing.iter().map(|n| format!("`{n}`")).collect();
    let (which, has) = if missing.len() == 1 {
        ("connection", "has")
    } else {
        ("connections", "have")
    };
    format!(
        "{which} {} {has} entities but no broker URL: give {} (or plan --offline, which asks no broker)",
        names.join(", "),
        how.join("; ")
    )
}

/// The connections of `names` that `plan` and `apply` do not provision (not AMQP), with
/// the reason, when given no `--connection` flag: what `export` leaves out of definitions
/// and greys out in pictures.
pub(crate) fn not_provisioned(
    names: &[String],
    installs: &[crate::source::InstallReport],
) -> BTreeMap<String, String> {
    let urls = crate::broker::Urls {
        amqp: crate::connection::resolve(&BTreeMap::new(), names, "CONNECTION"),
        management: BTreeMap::new(),
    };
    not_amqp(names, installs, &urls, false)
}

/// Magento's connection names that are not RabbitMQ: `db` (its MySQL queue) and `stomp`
/// (ActiveMQ Artemis, Magento 2.4.8+).
const NOT_RABBITMQ: &[(&str, &str)] = &[
    ("db", "Magento's `db` connection is its MySQL queue"),
    (
        "stomp",
        "Magento's `stomp` connection is ActiveMQ Artemis (STOMP)",
    ),
];

/// The connections of `names` that are not provisioned, with the reason (how to provision
/// them anyway is the caller's to say), unless a flag or variable gives them a URL: in a
/// Magento install, those that env.php does not make AMQP ones
/// (Amqp/ConnectionTypeResolver: `amqp` when `queue/amqp` is set, and the keys of
/// `queue/connections`), since Magento never declares their entities on RabbitMQ;
/// elsewhere, Magento's `db` and `stomp`, except offline (where the contract shows every
/// entity of a plain directory as `create`).
fn not_amqp(
    names: &[String],
    installs: &[crate::source::InstallReport],
    urls: &crate::broker::Urls,
    offline: bool,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if installs.is_empty() && !offline {
        for name in names.iter().filter(|n| !urls.amqp.contains_key(*n)) {
            if let Some((_, what)) = NOT_RABBITMQ.iter().find(|(n, _)| n == name) {
                out.insert(
                    name.clone(),
                    format!("{what}, not RabbitMQ: not provisioned"),
                );
            }
        }
    }
    for install in installs.iter().filter(|i| i.provisions) {
        let amqp: Vec<&str> = install
            .brokers
            .iter()
            .flat_map(|b| b.connections.iter().map(|c| c.name.as_str()))
            .collect();
        for name in names {
            if amqp.contains(&name.as_str()) || urls.amqp.contains_key(name) {
                continue;
            }
            let db = NOT_RABBITMQ
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, what)| format!(" ({what})"))
                .unwrap_or_default();
            out.entry(name.clone()).or_insert_with(|| {
                format!(
                    "connection `{name}` is not an AMQP connection in {}{db}: Magento does not declare it on RabbitMQ",
                    install.root.join("app/etc/env.php").display(),
                )
            });
        }
    }
    out
}

/// Plans from what was read (or everything `create` offline).
pub(crate) fn make_plan(
    desired: BTreeMap<String, spec::ConnectionSpecs>,
    brokers: &Brokers,
    prune: bool,
) -> Plan {
    let states = match &brokers.snapshot {
        Some(s) => s.states.clone(),
        None => desired
            .keys()
            .map(|c| (c.clone(), ConnectionState::Offline))
            .collect(),
    };
    let mut states = states;
    for (connection, why) in &brokers.not_amqp {
        states.insert(
            connection.clone(),
            ConnectionState::NotProvisioned(why.clone()),
        );
    }
    plan::plan(desired, &states, prune)
}
