//! A private RabbitMQ cluster for one test, started with `scripts/private-rabbit.sh` (own
//! node names, ports, data directory and cookie; never the shared broker) and stopped when
//! dropped, also when the test panics.
//!
//! Node k (1-based) of a cluster started on base port P answers AMQP on 127.0.0.1:P+k-1 and
//! the management API on 127.0.0.1:P+10000+k-1 (the script's header has the whole scheme).
//! Give each test its own name and a base port of its own (at least `nodes` apart).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub struct PrivateCluster {
    pub name: String,
    pub nodes: usize,
    pub base_port: u16,
}

fn script() -> PathBuf {
    super::root().join("scripts/private-rabbit.sh")
}

/// Runs the script; Err holds its whole output when it fails.
fn run_script(args: &[&str]) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "`scripts/private-rabbit.sh {}` failed ({}):\n{text}",
            args.join(" "),
            out.status
        ))
    }
}

/// Percent-encodes a vhost for a URL path segment.
pub fn encode(vhost: &str) -> String {
    vhost
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill {sig} {pid}");
}

impl PrivateCluster {
    /// Starts (or finds already running) the cluster; panics with the script's output.
    pub fn start(name: &str, nodes: usize, base_port: u16) -> PrivateCluster {
        Self::try_start(name, nodes, base_port, &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts the cluster; `options`: more of the script's options (`--tls DIR`).
    pub fn try_start(
        name: &str,
        nodes: usize,
        base_port: u16,
        options: &[&str],
    ) -> Result<PrivateCluster, String> {
        let cluster = PrivateCluster {
            name: name.to_string(),
            nodes,
            base_port,
        };
        let (n, p) = (nodes.to_string(), base_port.to_string());
        let args = ["start", "--name", name, "--nodes", &n, "--base-port", &p];
        // From here on Drop stops whatever the script left, even after a failure.
        run_script(&[&args[..], options].concat()).map(|_| cluster)
    }

    /// For tests that need a private cluster: with `CI` set, a cluster that cannot start is
    /// a failure (panic); locally the test is skipped (None) with the reason printed.
    pub fn start_or_skip(
        name: &str,
        nodes: usize,
        base_port: u16,
        options: &[&str],
    ) -> Option<PrivateCluster> {
        match Self::try_start(name, nodes, base_port, options) {
            Ok(c) => Some(c),
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("CI is set and a private RabbitMQ cannot be started:\n{e}")
            }
            Err(e) => {
                eprintln!(
                    "SKIPPED: a private RabbitMQ cannot be started here (CI would fail):\n{e}"
                );
                None
            }
        }
    }

    fn check(&self, node: usize) {
        assert!(
            (1..=self.nodes).contains(&node),
            "node {node} of a {}-node cluster",
            self.nodes
        );
    }

    pub fn node_name(&self, node: usize) -> String {
        self.check(node);
        format!("{}-{node}@localhost", self.name)
    }

    pub fn amqp_port(&self, node: usize) -> u16 {
        self.check(node);
        self.base_port + node as u16 - 1
    }

    pub fn management_port(&self, node: usize) -> u16 {
        self.check(node);
        self.base_port + 10000 + node as u16 - 1
    }

    /// A node's AMQPS port (a cluster started with `--tls`).
    pub fn amqps_port(&self, node: usize) -> u16 {
        self.check(node);
        self.base_port + 40000 + node as u16 - 1
    }

    /// A node's HTTPS management port (a cluster started with `--tls`).
    pub fn https_port(&self, node: usize) -> u16 {
        self.check(node);
        self.base_port + 50000 + node as u16 - 1
    }

    /// `amqp://guest:guest@127.0.0.1:PORT/VHOST` of a node.
    pub fn amqp_url(&self, node: usize, vhost: &str) -> String {
        format!(
            "amqp://guest:guest@127.0.0.1:{}/{}",
            self.amqp_port(node),
            encode(vhost)
        )
    }

    /// `http://guest:guest@127.0.0.1:PORT` of a node's management API.
    pub fn management_url(&self, node: usize) -> String {
        format!(
            "http://guest:guest@127.0.0.1:{}",
            self.management_port(node)
        )
    }

    fn node_cmd(&self, cmd: &str, node: usize, extra: &[&str]) {
        self.check(node);
        let k = node.to_string();
        let mut args = vec![cmd, "--name", &self.name, "--node", &k];
        args.extend_from_slice(extra);
        if let Err(e) = run_script(&args) {
            panic!("{e}");
        }
    }

    /// Stops one node gracefully (as `rabbitmqctl stop`; about 6 s); its data is kept.
    pub fn stop_node(&self, node: usize) {
        self.node_cmd("stop-node", node, &[]);
    }

    /// Kills one node at once (SIGKILL, as a crash); its data is kept.
    /// The pid of node K's Erlang VM (from its pid file).
    pub fn vm_pid(&self, node: usize) -> u32 {
        self.check(node);
        let base = std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".into());
        let file = format!("{base}/topology-rabbit-{}/node-{node}/pid", self.name);
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .trim()
            .parse()
            .expect("a pid")
    }

    /// Freezes node K (SIGSTOP): it keeps its connections open and answers nothing, as a
    /// stalled broker does. `thaw_node` (SIGCONT) lets it go on.
    pub fn freeze_node(&self, node: usize) {
        signal(self.vm_pid(node), "-STOP");
    }

    pub fn thaw_node(&self, node: usize) {
        signal(self.vm_pid(node), "-CONT");
    }

    pub fn kill_node(&self, node: usize) {
        self.node_cmd("stop-node", node, &["--kill"]);
    }

    /// Starts a stopped node again and waits until it answers.
    pub fn start_node(&self, node: usize) {
        self.node_cmd("start-node", node, &[]);
    }

    /// A management API call on a node, by curl: (HTTP status, JSON body or Null). `path` is
    /// under /api; `timeout` bounds the call (a queue without quorum can keep it waiting).
    pub fn api_with_timeout(
        &self,
        node: usize,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        timeout: Duration,
    ) -> (u16, serde_json::Value) {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-u", "guest:guest", "-X", method])
            .args(["-m", &timeout.as_secs_f64().to_string()])
            .args(["-w", "\n%{http_code}"]);
        if let Some(body) = body {
            cmd.args(["-H", "content-type: application/json", "-d"])
                .arg(body.to_string());
        }
        let url = format!("http://127.0.0.1:{}/api{path}", self.management_port(node));
        let out = cmd.arg(&url).output().expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
        let code = code.trim().parse().unwrap_or(0);
        (
            code,
            serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
        )
    }

    pub fn api(
        &self,
        node: usize,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        self.api_with_timeout(node, method, path, body, Duration::from_secs(30))
    }

    /// Like `api`, but panics unless the status is 2xx.
    pub fn api_ok(
        &self,
        node: usize,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let (code, answer) = self.api(node, method, path, body);
        assert!(
            (200..300).contains(&code),
            "{method} /api{path} on node {node}: HTTP {code} {answer}"
        );
        answer
    }

    /// Creates a vhost (afresh) with all permissions for guest.
    pub fn create_vhost(&self, node: usize, vhost: &str) {
        let v = encode(vhost);
        let _ = self.api(node, "DELETE", &format!("/vhosts/{v}"), None);
        self.api_ok(node, "PUT", &format!("/vhosts/{v}"), None);
        self.api_ok(
            node,
            "PUT",
            &format!("/permissions/{v}/guest"),
            Some(serde_json::json!({"configure": ".*", "write": ".*", "read": ".*"})),
        );
    }

    /// Messages in a queue, counted by getting them (requeued, up to 1000), not from the
    /// lagging statistics; None when the queue does not answer (missing, or no quorum)
    /// within `timeout`.
    pub fn messages(
        &self,
        node: usize,
        vhost: &str,
        queue: &str,
        timeout: Duration,
    ) -> Option<usize> {
        let (code, r) = self.api_with_timeout(
            node,
            "POST",
            &format!("/queues/{}/{}/get", encode(vhost), encode(queue)),
            Some(serde_json::json!({"count": 1000, "ackmode": "reject_requeue_true", "encoding": "auto"})),
            timeout,
        );
        if code == 200 {
            r.as_array().map(Vec::len)
        } else {
            None
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if let Err(e) = run_script(&["stop", "--name", &self.name]) {
            eprintln!("{e}");
        }
    }
}
