//! Command-line arguments as typed (clap). `app` turns them into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::lint::Dialect;
use crate::secret::Secret;

/// Provision RabbitMQ from Magento-style queue_topology.xml files: lint them, plan the
/// changes a broker needs, apply them safely.
#[derive(Debug, Parser)]
#[command(name = "topology", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// The connection of an <exchange> or <queue> that names none [default: a Magento
    /// install's (env.php), else amqp]
    #[arg(long, global = true, value_name = "NAME")]
    pub default_connection: Option<String>,

    /// magento: what Magento refuses is an error; rabbitmq: every exchange type and
    /// exchange-to-exchange bindings.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = Dialect::Magento,
        env = "TOPOLOGY_DIALECT"
    )]
    pub dialect: Dialect,

    /// Read DIR as a Magento install (also found by its app/etc/config.php when given as PATH).
    #[arg(long, global = true, value_name = "DIR")]
    pub magento_root: Option<PathBuf>,

    /// Print only errors (no warnings, plan or apply listing, progress); JSON is still printed.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more: unchanged entities in plans, timings of apply.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Human,
    Json,
    Github,
}

/// `apply --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// `plan --format`: apply's formats, and Markdown for a pull-request comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    // A pull-request comment: summary, a table of changes, details folded. (A plain
    // comment: a doc comment would turn `--help` into its long form.)
    Markdown,
}

/// A plan action, as `--only` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShownAction {
    Create,
    Update,
    Replace,
    Delete,
    Unchanged,
    Skip,
    Unverified,
}

impl ShownAction {
    pub fn action(self) -> crate::plan::Action {
        use crate::plan::Action;
        match self {
            ShownAction::Create => Action::Create,
            ShownAction::Update => Action::Update,
            ShownAction::Replace => Action::Replace,
            ShownAction::Delete => Action::Delete,
            ShownAction::Unchanged => Action::Unchanged,
            ShownAction::Skip => Action::Skip,
            ShownAction::Unverified => Action::Unverified,
        }
    }
}

/// The subcommands. Each one's arguments are built only when it is the one run (or help
/// shows it): a lint does not build the arguments of plan, apply and the rest at every start.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Check the files for everything Magento or RabbitMQ would reject, without a broker.
    Lint(LintArgs),
    /// Show what would change on the brokers (or, offline, the whole topology).
    Plan(PlanArgs),
    /// Make the brokers match the files: idempotent, and never losing a message.
    Apply(ApplyArgs),
    /// Write the merged topology for other tools: RabbitMQ definitions, or a picture.
    Export(ExportArgs),
    /// Write what a broker's vhost holds (exchanges, queues, bindings) as a
    /// queue_topology.xml, read through its management API.
    Import(ImportArgs),
    /// Print the shell completion script, e.g. `topology completions bash > /etc/bash_completion.d/topology`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `topology man | man -l -`.
    Man,
}

/// What `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// RabbitMQ definitions (JSON) of one connection, for `POST /api/definitions/{vhost}`
    /// or `rabbitmqadmin import`.
    Definitions,
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz DOT digraph (`dot -Tsvg`).
    Dot,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    pub format: ExportFormat,
    /// Files, or directories searched recursively for queue_topology.xml (default: .).
    pub paths: Vec<PathBuf>,
    /// The connection to export [default: definitions: the default connection; pictures:
    /// every connection].
    #[arg(long, value_name = "NAME")]
    pub connection_name: Option<String>,
    /// The vhost each definition names (definitions only; an import into one vhost
    /// ignores it) [default: /].
    #[arg(long, value_name = "VHOST")]
    pub vhost: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files, or directories searched recursively for queue_topology.xml (default: .).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// How to reach the brokers, as `plan`, `apply` and `import` take it. Its `Debug` masks the
/// URLs' passwords and the certificate's.
#[derive(Args, Clone)]
pub struct BrokerReach {
    /// A connection's AMQP URL, e.g. amqp=amqp://user:pass@host:5672/%2f (or env
    /// TOPOLOGY_CONNECTION_<NAME>). Several node URLs of one cluster: comma-separated.
    #[arg(long = "connection", value_name = "NAME=URL")]
    pub connections: Vec<String>,
    /// A connection's management API URL (or env TOPOLOGY_MANAGEMENT_<NAME>); default
    /// http://host:15672 with the AMQP URL's credentials.
    #[arg(long = "management", value_name = "NAME=URL")]
    pub management: Vec<String>,
    /// Seconds to wait for a broker to answer before giving up.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub timeout: u64,
    /// CA certificate (PEM) to verify amqps:// brokers with (wins over env.php's
    /// ssl_options.cafile).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PKCS#12) for amqps:// (wins over env.php's
    /// ssl_options.local_cert and local_pk).
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<PathBuf>,
    /// Password of the PKCS#12 client certificate.
    #[arg(
        long,
        value_name = "PASSWORD",
        env = "TOPOLOGY_CLIENT_CERT_PASSWORD",
        hide_env_values = true
    )]
    pub client_cert_password: Option<Secret>,
}

impl BrokerReach {
    /// The TLS files these flags name, for [`crate::broker::tls::from_files`].
    pub fn tls_files(&self) -> crate::broker::tls::TlsFiles<'_> {
        crate::broker::tls::TlsFiles {
            ca_file: self.ca_file.as_deref(),
            client_cert: self.client_cert.as_deref(),
            client_cert_password: self.client_cert_password.as_ref(),
        }
    }
}

impl std::fmt::Debug for BrokerReach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pairs = |pairs: &[String]| -> Vec<String> {
            pairs
                .iter()
                .map(|p| match p.split_once('=') {
                    Some((name, url)) if !name.contains("://") => {
                        format!("{name}={}", crate::connection::mask(url))
                    }
                    _ => crate::connection::mask(p),
                })
                .collect()
        };
        f.debug_struct("BrokerReach")
            .field("connections", &pairs(&self.connections))
            .field("management", &pairs(&self.management))
            .field("timeout", &self.timeout)
            .field("ca_file", &self.ca_file)
            .field("client_cert", &self.client_cert)
            .field("client_cert_password", &self.client_cert_password)
            .finish()
    }
}

/// How `plan` and `apply` read and change the brokers.
#[derive(Debug, Args, Clone)]
pub struct BrokerArgs {
    #[command(flatten)]
    pub reach: BrokerReach,
    /// Read the brokers with AMQP probes only, without the management API (which is
    /// otherwise required, except where nothing listens at its URL): bindings are then
    /// `unverified`, entities the files do not declare are not seen, and replaces are refused.
    #[arg(long)]
    pub no_management: bool,
    /// Also delete what the broker has and the files do not declare (exchanges, bindings,
    /// and queues that hold no message).
    #[arg(long)]
    pub prune: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Files, or directories searched recursively for queue_topology.xml (default: .).
    pub paths: Vec<PathBuf>,
    /// Do not ask any broker: every entity is `create`.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub broker: BrokerArgs,
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Exit 2 when there are changes to apply, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Show only these changes (comma-separated), e.g. --only create,replace,delete; the
    /// summary still counts all.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ACTIONS")]
    pub only: Vec<ShownAction>,
    /// Save the plan, for `apply --plan`.
    #[arg(long, value_name = "PLAN.json")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Files, or directories searched recursively for queue_topology.xml (default: .).
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// Apply this saved plan (plan --out): its paths and options; refused if the files changed
    /// or the brokers changed what it touches.
    #[arg(long, value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,
    /// Allow replacing exchanges and queues whose immutable properties differ: a queue's
    /// bindings and messages move to a holding queue while it is declared again, and back.
    #[arg(long)]
    pub allow_recreate: bool,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Wait up to this many seconds for the consumers of a queue to be replaced or deleted to
    /// leave (a queue with consumers is never deleted; apply refuses without waiting).
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    pub wait_for_consumers: u64,
    /// AMQP channels used at once per connection (declares and binds are pipelined over them).
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub channels: usize,
}

/// `import`: one connection's broker written as a queue_topology.xml.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub reach: BrokerReach,
    /// Write the file here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_password() {
        let cli = Cli::try_parse_from([
            "topology",
            "plan",
            "--connection",
            "amqp=amqp://u:Pw%2Fin%40Url@h/v",
            "--connection",
            "other=amqp://u:Pw/in@Url@h/v",
            "--management",
            "amqp=http://admin:Mgmt%23Pw@h:15672",
            "--client-cert-password",
            "CertPw!secret",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        for secret in ["Pw%2Fin%40Url", "Pw/in", "Mgmt%23Pw", "CertPw"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("amqp=amqp://u:***@h/v"), "{shown}");
        let Command::Plan(plan) = &cli.command else {
            panic!("plan")
        };
        let password = plan.broker.reach.client_cert_password.as_ref().unwrap();
        assert_eq!(password.expose(), "CertPw!secret");
    }
}
