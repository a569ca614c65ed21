//! Helpers shared by the integration tests: run the built binary from the project root.

#![allow(dead_code)]

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
