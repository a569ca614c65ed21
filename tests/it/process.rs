//! What the binary's own start-up (src/main.rs) guarantees before any command runs: a reader
//! that stops early does not kill it with SIGPIPE, closed standard descriptors are not
//! taken by the files it opens, and its arguments arrive whole.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

use crate::util;

/// A topology whose offline plan is far larger than a pipe's buffer.
fn large_topology() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir(&etc).unwrap();
    let exchanges: String = (0..3000)
        .map(|i| {
            format!(
                r#"<exchange name="exchange.{i}" type="topic" connection="amqp"><binding id="b{i}" topic="t.{i}" destinationType="queue" destination="queue.{i}"/></exchange>"#
            )
        })
        .collect();
    std::fs::write(
        etc.join("queue_topology.xml"),
        format!(r#"<?xml version="1.0"?><config>{exchanges}</config>"#),
    )
    .unwrap();
    dir
}

#[test]
fn a_reader_that_stops_early_does_not_kill_it() {
    let dir = large_topology();
    let mut child = Command::new(env!("CARGO_BIN_EXE_topology"))
        .args(["plan", "--offline"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe is closed here, long before the plan is written.
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), None, "killed by a signal: {status:?}");
    assert!(
        matches!(status.code(), Some(0..=2)),
        "a closed pipe is no crash: {status:?}"
    );
}

#[test]
fn closed_standard_descriptors_are_not_taken_by_a_file() {
    // A broker that accepts and never answers holds the run while its descriptors are read.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_topology"));
    command
        .args([
            "plan",
            "fixtures/retry-triple",
            "--no-management",
            "--timeout",
            "30",
        ])
        .args(["--connection", &format!("amqp=amqp://127.0.0.1:{port}")])
        .current_dir(util::root())
        .stderr(Stdio::null());
    // SAFETY: between fork and exec only close(2), which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::close(0);
            libc::close(1);
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let _held = silent.accept().unwrap();
    let fd = |n: u32| std::fs::read_link(format!("/proc/{}/fd/{n}", child.id()));
    let (stdin, stdout) = (fd(0), fd(1));
    child.kill().unwrap();
    child.wait().unwrap();
    for (name, link) in [("stdin", stdin), ("stdout", stdout)] {
        assert_eq!(
            link.unwrap(),
            std::path::Path::new("/dev/null"),
            "{name}, closed, is /dev/null (the first file opened would be taken for it)"
        );
    }
}

#[test]
fn arguments_arrive_whole() {
    // Spaces, UTF-8 and an empty argument, each one argument.
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("dir with spaces é");
    std::fs::create_dir(&odd).unwrap();
    std::fs::copy(
        util::root().join("fixtures/retry-triple/queue_topology.xml"),
        odd.join("queue_topology.xml"),
    )
    .unwrap();
    let output = util::run(&["lint", odd.to_str().unwrap()]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(
        output.stderr.contains("1 file checked"),
        "{}",
        output.stderr
    );
    let empty = util::run(&["lint", ""]);
    assert_eq!(empty.code, 64, "{}", empty.stderr);
}
