//! A stalled broker never holds apply: every broker operation is bounded by `--timeout`.
//! On a private node of its own (scripts/private-rabbit.sh): apply replaces a queue holding
//! 30,000 messages, and the node's VM is frozen (SIGSTOP: connections stay open, nothing is
//! answered) in the middle of the move. apply must give up within a few deadlines, not hang;
//! once the node goes on (SIGCONT), apply again finishes the replace with every message.

mod util;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::amqp::{self, names};
use util::cluster::PrivateCluster;
use util::{run, topology_dir};

const HOUR: u64 = 3_600_000;
const MESSAGES: u64 = 30_000;

fn files(ttl: u64) -> tempfile::TempDir {
    topology_dir(&format!(
        r#"<exchange name="ex"><binding id="a" topic="a.#" destination="q"/></exchange>
           <queue name="q"><arguments><argument name="x-message-ttl" xsi:type="number">{ttl}</argument></arguments></queue>"#
    ))
}

#[test]
fn a_frozen_broker_never_holds_apply_and_nothing_is_lost() {
    let Some(cluster) = PrivateCluster::start_or_skip("stall", 1, 5900, &[]) else {
        return;
    };
    cluster.create_vhost(1, "v");
    let amqp_url = cluster.amqp_url(1, "v");
    let conn_arg = format!("amqp={amqp_url}");
    let mgmt_arg = format!("amqp={}", cluster.management_url(1));
    let broker = ["--connection", &conn_arg, "--management", &mgmt_arg];
    let first = files(HOUR);
    let p = first.path().to_str().unwrap();
    let out = run(&[&["apply", p], &broker[..]].concat());
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    let rt = amqp::runtime();
    let sent = rt.block_on(async {
        let conn = amqp::connect_uri(&amqp_url, "publisher").await;
        let sent = amqp::publish(&conn, "ex", "a.b", 0..MESSAGES).await;
        let _ = conn.close(200, "done".into()).await;
        sent
    });
    assert_eq!(sent.len() as u64, MESSAGES);

    let second = files(2 * HOUR);
    let p2 = second.path().to_str().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_topology"))
        .args(
            [
                &["apply", p2, "--allow-recreate", "--timeout", "3"],
                &broker[..],
            ]
            .concat(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    cluster.freeze_node(1);
    let frozen = Instant::now();
    let mut ended = None;
    while frozen.elapsed() < Duration::from_secs(60) {
        if let Some(status) = child.try_wait().unwrap() {
            ended = Some((status, frozen.elapsed()));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    cluster.thaw_node(1);
    let Some((status, took)) = ended else {
        let _ = child.kill();
        panic!("apply still runs 60 s after the broker froze (--timeout 3)");
    };
    let output = child.wait_with_output().unwrap();
    eprintln!(
        "apply ended {:.1}s after the freeze: {status}\n{}",
        took.as_secs_f64(),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        took < Duration::from_secs(20),
        "apply gave up {took:?} after the broker froze, with --timeout 3"
    );

    // The broker goes on: apply again finishes, and every message is there.
    std::thread::sleep(Duration::from_secs(2));
    let out = run(&[&["apply", p2, "--allow-recreate"], &broker[..]].concat());
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let (got, _) = rt.block_on(async {
        let conn = amqp::connect_uri(&amqp_url, "reader").await;
        amqp::payloads(&conn, "q").await
    });
    let missing = names(sent.iter().copied()).difference(&got).count();
    assert_eq!(missing, 0, "every message survived the stall");
    let check = run(&[&["plan", p2, "--detailed-exitcode"], &broker[..]].concat());
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}
