//! Helpers shared by the integration tests: run the built binary from the project root.

#![allow(dead_code)]

pub mod amqp;
pub mod cluster;

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the directory `from` to `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn run(args: &[&str]) -> Output {
    run_in(&root(), args, &[])
}

pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_topology"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("TOPOLOGY_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The Magento corpus of `../shared/corpus/magento` (or `$TOPOLOGY_CORPUS`).
/// Asserts that `text` (a command's output) holds `part`, showing all of `text` when not.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "no {part:?} in:\n{text}");
}

/// `topology plan --offline --format FORMAT ARGS…`, from the project root.
pub fn offline_plan(format: &str, args: &[&str]) -> Output {
    run(&[&["plan", "--offline", "--format", format], args].concat())
}

pub fn corpus() -> Option<PathBuf> {
    let candidates = [
        std::env::var("TOPOLOGY_CORPUS").ok().map(PathBuf::from),
        Some(root().join("../shared/corpus/magento")),
        Some(PathBuf::from("/work/shared/corpus/magento")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("app").is_dir())
}

/// (severity initial, code, line, column) of each JSON diagnostic.
pub fn diag_summary(doc: &serde_json::Value) -> Vec<(String, String, u64, u64)> {
    doc["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .map(|d| {
            (
                d["severity"].as_str().unwrap()[..1].to_string(),
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// A vhost of its own for one test, removed when dropped.
pub struct Vhost {
    pub name: String,
}

pub const MGMT: &str = "http://127.0.0.1:15672/api";

fn http() -> rabbitmq_http_client::blocking_api::Client<&'static str, &'static str, &'static str> {
    // The HTTP client's TLS (unused over http://) needs a cryptography provider: the tool's.
    let _ = rustls::crypto::ring::default_provider().install_default();
    rabbitmq_http_client::blocking_api::Client::new(MGMT, "guest", "guest")
}

impl Vhost {
    pub fn new(test: &str) -> Vhost {
        let name = format!("topology-test-{test}-{}", std::process::id());
        let client = http();
        let _ = client.delete_vhost(&name, true);
        client
            .create_vhost(&rabbitmq_http_client::requests::VirtualHostParams::named(
                &name,
            ))
            .expect("the management API creates a vhost (is RabbitMQ up? run scripts/test.sh)");
        client
            .declare_permissions(&rabbitmq_http_client::requests::Permissions {
                user: "guest",
                vhost: &name,
                configure: ".*",
                read: ".*",
                write: ".*",
            })
            .expect("permissions");
        Vhost { name }
    }

    pub fn url(&self) -> String {
        format!("amqp=amqp://guest:guest@127.0.0.1:5672/{}", self.name)
    }

    /// The vhost's definitions, as the management API exports them.
    pub fn definitions(&self) -> serde_json::Value {
        let text = http()
            .export_vhost_definitions_as_string(&self.name)
            .expect("definitions");
        serde_json::from_str(&text).unwrap()
    }

    /// PUT/POST/DELETE on the management API, under /api.
    pub fn request(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let path = path.replace("{vhost}", &self.name.replace('/', "%2f"));
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "-u",
                "guest:guest",
                "-X",
                method,
                "-H",
                "content-type: application/json",
            ])
            .arg("-d")
            .arg(body.to_string())
            .arg(format!("{MGMT}{path}"))
            .output()
            .expect("curl runs");
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }

    /// POSTs a definitions document to `/api/definitions/{vhost}`: the HTTP status and
    /// the response's body.
    pub fn import_definitions(&self, document: &str) -> (u16, String) {
        let mut curl = std::process::Command::new("curl");
        curl.args([
            "-s",
            "-u",
            "guest:guest",
            "-X",
            "POST",
            "-w",
            "\n%{http_code}",
        ])
        .args(["-H", "content-type: application/json"])
        .args(["--data-binary", "@-"])
        .arg(format!(
            "{MGMT}/definitions/{}",
            self.name.replace('/', "%2f")
        ));
        let out = with_stdin(&mut curl, document);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        (status.trim().parse().unwrap_or(0), body.to_string())
    }

    /// Publishes a message straight to a queue (default exchange).
    pub fn publish(&self, queue: &str) {
        let r = self.request(
            "POST",
            "/exchanges/{vhost}/amq.default/publish",
            serde_json::json!({"properties": {}, "routing_key": queue, "payload": "keep me", "payload_encoding": "string"}),
        );
        assert_eq!(r["routed"], true, "{r}");
    }

    /// Messages in a queue, read by getting them (requeued), not from lagging statistics.
    pub fn messages(&self, queue: &str) -> usize {
        let r = self.request(
            "POST",
            &format!("/queues/{{vhost}}/{queue}/get"),
            serde_json::json!({"count": 100, "ackmode": "reject_requeue_true", "encoding": "auto"}),
        );
        r.as_array().map(Vec::len).unwrap_or(0)
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        let _ = http().delete_vhost(&self.name, true);
    }
}

/// Runs `command` with `input` on its stdin; its output (stdout and stderr captured).
pub fn with_stdin(command: &mut Command, input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} runs: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written from another thread: a command that answers before reading all of a large
    // input must not block both sides.
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("the command ends");
    writer
        .join()
        .expect("the writer thread ends")
        .expect("the command reads its input");
    out
}

/// The validator of a JSON Schema of `schemas/`.
pub fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas").join(name)).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

pub fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// Consumers the management API lists in a vhost, with their connection known.
pub fn consumers(vhost: &str) -> usize {
    let out = std::process::Command::new("curl")
        .args(["-s", "-u", "guest:guest"])
        .arg(format!("{MGMT}/consumers/{}", vhost.replace('/', "%2f")))
        .output()
        .expect("curl runs");
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| {
            v.as_array().map(|list| {
                list.iter()
                    .filter(|c| c["channel_details"]["connection_name"].is_string())
                    .count()
            })
        })
        .unwrap_or(0)
}

/// (action, kind, name) of each change of a plan document.
pub fn actions(doc: &serde_json::Value) -> Vec<(String, String, String)> {
    doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_string(),
                c["kind"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Writes a topology file into a new temporary directory.
pub fn topology_dir(xml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("queue_topology.xml"),
        format!(
            "<?xml version=\"1.0\"?>\n<config xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n{xml}\n</config>\n"
        ),
    )
    .unwrap();
    dir
}

/// Whether `program` runs (`program probe`): a test that needs it checks this first. With
/// `CI` set a missing tool fails the test (CI installs it: scripts/test.sh), elsewhere the
/// test is skipped with the reason printed.
pub fn tool(program: &str, probe: &str, debian_package: &str) -> bool {
    if Command::new(program).arg(probe).output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set and `{program}` is missing (Debian package {debian_package})"
    );
    eprintln!("SKIPPED: `{program}` is not installed (Debian package {debian_package})");
    false
}
