//! No input makes the pipeline panic or hang: every fixture and corpus file, mutated at
//! random (bytes flipped, cut short, runs repeated, hostile pieces inserted), goes through
//! read → parse → merge → lint → plan → every renderer; and each hostile input found so
//! far (a FIFO, `/dev/zero`, a minified file, control characters, ...) is answered with a
//! located diagnostic.

use std::path::PathBuf;

mod util;

/// xorshift: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces of XML that make interesting damage.
const XML_PIECES: &[&[u8]] = &[
    b"<",
    b">",
    b"&",
    b"\"",
    b"</config>",
    b"<exchange",
    b"&#0;",
    b"\xff",
    b"\xef\xbb\xbf",
    b"<!DOCTYPE x [<!ENTITY e \"e\">]>",
    b"xsi:type=\"number\"",
    b"-1",
    b"<![CDATA[",
];

/// Cuts, inserts one of `pieces`, flips a byte, or repeats a run, 1 to 4 times.
fn mutate(rng: &mut Rng, mut bytes: Vec<u8>, pieces: &[&[u8]]) -> Vec<u8> {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 => bytes.truncate(at),
            1 => {
                let p = pieces[rng.below(pieces.len())];
                bytes.splice(at..at, p.iter().copied());
            }
            2 if at < bytes.len() => bytes[at] = rng.next() as u8,
            _ => {
                let end = (at + rng.below(40)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    bytes
}

fn fixture_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "xml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Pieces of hostile input: characters XML forbids (raw and as references), terminal
/// escapes, encodings.
const HOSTILE_PIECES: &[&[u8]] = &[
    b"\x1b]0;pwned\x07",
    b"\x1b[2J",
    b"\x00",
    b"&#1;",
    b"&#x1b;",
    b"&#x9b;",
    b"&#xfffe;",
    b"\xc2\x9b",
    b"\xe2\x80\xae",
    b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
    b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>",
    b"\xff\xfe",
    b"\r",
    b"\t",
    b" name=\"n\"",
    b"<binding id=\"b\" topic=\"#\" destinationType=\"queue\" destination=\"q\"/>",
    b"<queue name=\"q\"><arguments><argument name=\"x-message-ttl\" xsi:type=\"number\">1</argument></arguments></queue>",
];

/// Cases of [`fuzz_offline_pipeline`]: `TOPOLOGY_FUZZ_CASES`, else a budget of a few
/// seconds in a debug build.
fn fuzz_cases() -> usize {
    std::env::var("TOPOLOGY_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// The seeds: every XML file of `fixtures/`, and the Magento corpus's topology and
/// communication files (read where they are, never copied).
fn seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = fixture_files();
    if let Some(corpus) = util::corpus() {
        let mut stack = vec![corpus];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .file_name()
                    .is_some_and(|n| n == "queue_topology.xml" || n == "communication.xml")
                {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap();
            (f, bytes)
        })
        .collect()
}

/// A heavier mutation, now and then: a run repeated up to 4,000 times (long lines, many
/// diagnostics), or every line break removed (a minified file).
fn stretch(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    match rng.below(24) {
        0 if !bytes.is_empty() => {
            let at = rng.below(bytes.len());
            let end = (at + 1 + rng.below(60)).min(bytes.len());
            let run = bytes[at..end].to_vec();
            let times = 1 + rng.below(4000);
            bytes.splice(at..at, run.iter().copied().cycle().take(run.len() * times));
        }
        1 => bytes.retain(|b| *b != b'\n'),
        _ => {}
    }
    bytes
}

/// Every span of every diagnostic lies inside its file.
fn assert_spans_inside(loaded: &topology::load::Loaded) {
    for d in &loaded.diagnostics {
        for label in &d.labels {
            let span = label.span;
            assert!(
                (span.file.0 as usize) < loaded.sources.len(),
                "{d:?}: no such file"
            );
            let len = loaded.sources.get(span.file).text.len();
            assert!(
                span.start <= span.end && span.end as usize <= len,
                "{d:?}: span {}..{} outside its file of {len} bytes",
                span.start,
                span.end
            );
        }
    }
}

/// Human output shows no control character but line breaks and tabs (colour off).
fn assert_inert(what: &str, text: &str) {
    if let Some(c) = text
        .chars()
        .find(|c| topology::render::is_control(*c) && !matches!(c, '\n' | '\t'))
    {
        panic!("{what} holds the raw control character {c:?}:\n{text}");
    }
}

/// The whole offline pipeline on the files under `dir`: read → syntax → schema → merge →
/// lint → every renderer (human, JSON, GitHub diagnostics; human and JSON plans).
fn pipeline(dir: &std::path::Path) {
    let loaded = topology::load::load(
        &[dir.to_path_buf()],
        &topology::load::Options::with_default_connection("amqp"),
    )
    .expect("the directory is readable");
    assert_spans_inside(&loaded);
    let human = topology::render::diagnostics::render(&loaded.diagnostics, &loaded.sources, false);
    assert_inert("human diagnostics", &human);
    let _ = topology::render::diagnostics::render(&loaded.diagnostics, &loaded.sources, true);
    let json = topology::render::json::lint(&loaded.diagnostics, &loaded.sources);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("lint JSON parses");
    assert_eq!(
        doc["diagnostics"].as_array().map(Vec::len),
        Some(loaded.diagnostics.len()),
        "JSON lists every diagnostic"
    );
    let github = topology::render::github::render(&loaded.diagnostics, &loaded.sources);
    assert_inert("GitHub annotations", &github);
    let desired = topology::spec::desired_by_connection(&loaded.topology);
    let states = desired
        .keys()
        .map(|c| (c.clone(), topology::broker::ConnectionState::Offline))
        .collect();
    let plan = topology::plan::plan(desired, &states, false);
    let verbose = topology::render::plan::Options {
        verbose: true,
        ..Default::default()
    };
    let human = topology::render::plan::render(&plan, &Default::default(), &verbose);
    assert_inert("human plan", &human);
    let colour = topology::render::plan::Options {
        color: true,
        ..Default::default()
    };
    let _ = topology::render::plan::render(&plan, &Default::default(), &colour);
    let json = topology::render::json::plan(
        &loaded.topology,
        &loaded.diagnostics,
        &loaded.sources,
        &plan,
    );
    serde_json::from_str::<serde_json::Value>(&json).expect("plan JSON parses");
}

/// A fuzz harness over the whole offline pipeline, seeded with `fixtures/` and the Magento
/// corpus: no input makes it panic, every span stays inside its file, and human output
/// stays inert. `TOPOLOGY_FUZZ_CASES` raises the budget (CI can run it longer) and
/// `TOPOLOGY_FUZZ_SEED` changes the sequence; a failing input is saved under
/// `target/fuzz-findings/` to become a fixture.
#[test]
fn fuzz_offline_pipeline() {
    let seed = std::env::var("TOPOLOGY_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9e3779b97f4a7c15u64);
    let mut rng = Rng(seed.max(1));
    let seeds = seeds();
    assert!(seeds.len() > 10);
    let pieces: Vec<&[u8]> = XML_PIECES.iter().chain(HOSTILE_PIECES).copied().collect();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("queue_topology.xml");
    for case in 0..fuzz_cases() {
        let (from, original) = &seeds[rng.below(seeds.len())];
        let mutated = mutate(&mut rng, original.clone(), &pieces);
        let input = stretch(&mut rng, mutated);
        std::fs::write(&target, &input).unwrap();
        // Now and then a communication.xml beside it (synchronous topics infer queues).
        let beside = dir.path().join("communication.xml");
        let communication: Vec<&Vec<u8>> = seeds
            .iter()
            .filter(|(p, _)| p.ends_with("communication.xml"))
            .map(|(_, bytes)| bytes)
            .collect();
        if !communication.is_empty() && rng.below(4) == 0 {
            let original = communication[rng.below(communication.len())].clone();
            std::fs::write(&beside, mutate(&mut rng, original, &pieces)).unwrap();
        } else {
            let _ = std::fs::remove_file(&beside);
        }
        if std::panic::catch_unwind(|| pipeline(dir.path())).is_err() {
            let findings = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-findings");
            std::fs::create_dir_all(&findings).unwrap();
            let saved = findings.join(format!("case-{seed}-{case}.xml"));
            std::fs::write(&saved, &input).unwrap();
            panic!(
                "case {case} (seed {seed}), mutated from {}: saved as {}",
                from.display(),
                saved.display()
            );
        }
    }
}

/// The PHP array reader (config.php, env.php) never panics, whatever it is given.
#[test]
fn mutated_php_files_never_panic() {
    const PHP_PIECES: &[&[u8]] = &[
        b"[",
        b"]",
        b"(",
        b")",
        b"'",
        b"\"",
        b"\\",
        b"$",
        b"{$",
        b"=>",
        b",",
        b".",
        b"-",
        b"1e",
        b"0x",
        b"/*",
        b"*/",
        b"//",
        b"#",
        b"\n",
        b"array(",
        b"?>",
        "é".as_bytes(),
        b"9999999999999999999999",
        b"<<<",
    ];
    let original = "<?php\n/** doc */\nreturn [\n  'queue' => ['amqp' => ['host' => \"h\\n\", 'port' => 5672, 'ssl' => 'true'], # c\n    'x' => array(1, -2.5e3, true, null, 'it\\'s')],\n  // line\n  '5' => 'five',\n];\n";
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for _ in 0..20_000 {
        let bytes = mutate(&mut rng, original.as_bytes().to_vec(), PHP_PIECES);
        let _ = topology::source::php::parse_return(&String::from_utf8_lossy(&bytes));
    }
}

/// Runs the binary in `dir`, killed (and the test failed) if it has not finished within a
/// minute: a hang is a failure, not a stuck test run.
fn run_or_hang(dir: &std::path::Path, args: &[&str]) -> util::Output {
    use std::process::{Command, Stdio};
    let child = Command::new(env!("CARGO_BIN_EXE_topology"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || send.send(child.wait_with_output()));
    let Ok(out) = receive.recv_timeout(std::time::Duration::from_secs(60)) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("topology {args:?} hangs");
    };
    let out = out.unwrap();
    util::Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

/// A minified file over 64 KB with a problem past column 65,536 (miette's formatting
/// width overflowed: exit 101). The snippet is a window of the line, `…` where it is cut,
/// and the header gives the true column.
#[test]
fn a_problem_past_column_65536_is_shown_in_a_window() {
    let dir = tempfile::tempdir().unwrap();
    let padding = format!("<!--{}-->", "x".repeat(70_000));
    let text = format!("<config>{padding}<exchange name=\"e\" bogus=\"1\"/></config>");
    std::fs::write(dir.path().join("queue_topology.xml"), &text).unwrap();
    let column = text.find("bogus").unwrap() + 1;
    for args in [&["lint", "."][..], &["plan", "--offline", "."][..]] {
        let out = run_or_hang(dir.path(), args);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("[queue_topology.xml:1:{column}]")),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains(" 1 │ …xxxxxxxxxx"), "{}", out.stderr);
        assert!(
            out.stderr
                .contains("xxxx--><exchange name=\"e\" bogus=\"1\"/></config>\n"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.len() < 4_000, "the line is not printed whole");
    }
}

/// A FIFO named queue_topology.xml, met in a walk or given as a path, is refused before it
/// is opened (it blocked `open` for ever).
#[test]
fn a_fifo_is_refused_not_opened() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("etc")).unwrap();
    mkfifo(&dir.path().join("etc/queue_topology.xml"));
    let out = run_or_hang(dir.path(), &["lint", "--format", "json", "."]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "unreadable");
    assert_eq!(d["file"], "etc/queue_topology.xml");
    assert!(d["message"].as_str().unwrap().contains("FIFO"), "{d}");
    let out = run_or_hang(dir.path(), &["lint", "etc/queue_topology.xml"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
}

/// `/dev/zero` (its metadata says 0 bytes) and a link to it are refused, never read until
/// memory runs out.
#[test]
fn a_device_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("queue_topology.xml")).unwrap();
    for path in ["/dev/zero", "/dev/urandom", "queue_topology.xml", "."] {
        let out = run_or_hang(dir.path(), &["lint", "--format", "json", path]);
        assert_eq!(out.code, 1, "{path}: {}", out.stderr);
        let doc = out.json();
        assert_eq!(doc["diagnostics"][0]["code"], "unreadable", "{path}: {doc}");
        assert!(
            doc["diagnostics"][0]["message"]
                .as_str()
                .unwrap()
                .contains("character device"),
            "{doc}"
        );
    }
}

/// 10,000 problems on one line: the human output shows 50 and counts the rest (it printed
/// the 80 KB line 10,000 times: 1.4 GB), JSON lists all with their true columns.
#[test]
fn many_problems_are_capped_in_human_output_and_all_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let n = 10_000;
    let text = format!(
        "<config><exchange name=\"e\">{}</exchange></config>",
        "<bogus/>".repeat(n)
    );
    std::fs::write(dir.path().join("queue_topology.xml"), &text).unwrap();
    let out = run_or_hang(dir.path(), &["lint", "."]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr.matches("unknown-element").count(),
        51,
        "{}",
        &out.stderr[..2000]
    );
    assert!(
        out.stderr.contains(
            "... and 9,950 more errors of this kind (unknown-element): --format json lists them all"
        ),
        "{}",
        &out.stderr[out.stderr.len().saturating_sub(2000)..]
    );
    assert!(out.stderr.contains(&format!("{n} errors, 0 warnings")));
    let out = run_or_hang(dir.path(), &["lint", "--format", "github", "."]);
    assert_eq!(out.stdout.lines().count(), 51);
    assert!(
        out.stdout
            .contains("::notice title=unknown-element::... and 9,950 more errors")
    );
    let out = run_or_hang(dir.path(), &["lint", "--format", "json", "."]);
    let doc = out.json();
    let list = doc["diagnostics"].as_array().unwrap();
    assert_eq!(list.len(), n);
    let last = text.rfind("<bogus/>").unwrap() + 2;
    assert_eq!(list[n - 1]["column"], last);
}

/// Characters XML forbids (libxml2 refuses the file) are a located `xml-syntax` error,
/// raw or as character references; and nothing a file holds reaches the terminal raw.
#[test]
fn forbidden_characters_are_refused_and_never_echoed() {
    let dir = util::topology_dir(
        "<exchange name=\"a\u{1b}]0;PWNED\u{7}\u{1b}[2Jb\"><binding id=\"b\" topic=\"t\" destination=\"q\u{0}x\"/></exchange>",
    );
    let out = run_or_hang(dir.path(), &["lint", "--format", "json", "."]);
    assert_eq!(out.code, 1);
    let doc = out.json();
    assert_eq!(
        util::diag_summary(&doc),
        [("e".to_string(), "xml-syntax".to_string(), 3, 18)],
        "{doc}"
    );
    assert!(
        doc["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("U+001B (ESC)")
    );
    for args in [&["lint", "."][..], &["plan", "--offline", "."][..]] {
        let out = run_or_hang(dir.path(), args);
        assert!(
            !out.stderr.contains('\u{1b}') && !out.stdout.contains('\u{1b}'),
            "{args:?}"
        );
        assert!(out.stderr.contains("␛]0;PWNED␇␛[2Jb"), "{}", out.stderr);
    }

    // As references: refused where they are; C1 characters (allowed) are escaped.
    let dir =
        util::topology_dir("<exchange name=\"c&#x1b;[2Jd\"/>\n<exchange name=\"e&#x9b;2Jf\"/>");
    let out = run_or_hang(dir.path(), &["lint", "--format", "json", "."]);
    assert_eq!(
        util::diag_summary(&out.json()),
        [("e".to_string(), "xml-syntax".to_string(), 3, 18)]
    );
    let out = run_or_hang(dir.path(), &["plan", "--offline", "."]);
    assert_eq!(out.code, 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(!all.contains('\u{1b}') && !all.contains('\u{9b}'), "{all}");
    assert!(
        out.stdout.contains("+ exchange c\\u{1b}[2Jd"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("+ exchange e\\u{9b}2Jf"),
        "{}",
        out.stdout
    );
}

/// The same file given twice, or reached twice, is read once.
#[test]
fn the_same_file_twice_is_read_once() {
    let dir = util::topology_dir("<exchange name=\"e\" bogus=\"1\"/>");
    std::os::unix::fs::symlink(".", dir.path().join("again")).unwrap();
    let out = run_or_hang(
        dir.path(),
        &[
            "lint",
            "--format",
            "json",
            "queue_topology.xml",
            ".",
            "./queue_topology.xml",
        ],
    );
    let doc = out.json();
    let list = doc["diagnostics"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{doc}");
    assert_eq!(list[0]["file"], "queue_topology.xml");
}

/// A Magento install named twice (PATH and --magento-root) is read once: its warnings are
/// not repeated.
#[test]
fn the_same_install_twice_is_read_once() {
    let install = util::root().join("fixtures/magento-install");
    let install = install.to_str().unwrap();
    let once = run_or_hang(&util::root(), &["lint", "--format", "json", install]);
    let twice = run_or_hang(
        &util::root(),
        &[
            "lint",
            "--format",
            "json",
            install,
            "--magento-root",
            install,
        ],
    );
    assert_eq!(once.json(), twice.json());
    assert!(!once.json()["diagnostics"].as_array().unwrap().is_empty());
}

/// Symlinked module directories (Composer path repositories) are followed; a link loop
/// ends the descent.
#[test]
fn symlinked_directories_are_followed_and_loops_end() {
    let outside = util::topology_dir("<exchange name=\"linked\"/>");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("vendor/acme")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("vendor/acme/module")).unwrap();
    std::os::unix::fs::symlink("../..", dir.path().join("vendor/acme/loop")).unwrap();
    let out = run_or_hang(dir.path(), &["plan", "--offline", "--format", "json", "."]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let names: Vec<&str> = doc["topology"]["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["linked"]);
    assert!(doc["diagnostics"].as_array().unwrap().is_empty(), "{doc}");
}

/// A file gone between discovery and read (here a dangling link the walk finds) is an
/// `unreadable` diagnostic of that file, and the JSON document is still printed.
#[test]
fn a_vanished_file_is_a_diagnostic_not_a_usage_error() {
    let dir = util::topology_dir("<exchange name=\"e\"/>");
    std::fs::create_dir(dir.path().join("gone")).unwrap();
    std::os::unix::fs::symlink("nowhere.xml", dir.path().join("gone/queue_topology.xml")).unwrap();
    let out = run_or_hang(dir.path(), &["plan", "--offline", "--format", "json", "."]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    assert_eq!(doc["diagnostics"][0]["code"], "unreadable");
    assert_eq!(doc["diagnostics"][0]["file"], "gone/queue_topology.xml");
    assert_eq!(doc["topology"]["exchanges"][0]["name"], "e");
}

/// A subdirectory that cannot be listed is named, not the directory given.
#[test]
fn an_unreadable_subdirectory_is_named() {
    if std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
    {
        eprintln!("SKIPPED: root reads every directory");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("a/locked");
    std::fs::create_dir_all(&sub).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = run_or_hang(dir.path(), &["lint", "."]);
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.code, 64);
    assert!(
        out.stderr.contains("cannot read `./a/locked`"),
        "{}",
        out.stderr
    );
}

/// The XML declaration's encoding is honoured as libxml2 honours it: ISO-8859-1 decoded,
/// an encoding this tool does not read refused at its name.
#[test]
fn declared_encodings_are_decoded_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("queue_topology.xml");
    std::fs::write(
        &file,
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<config><exchange name=\"caf\xe9\"/></config>\n",
    )
    .unwrap();
    let out = run_or_hang(dir.path(), &["plan", "--offline", "--format", "json", "."]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["topology"]["exchanges"][0]["name"], "caf\u{e9}");
    std::fs::write(
        &file,
        b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<config/>\n",
    )
    .unwrap();
    let out = run_or_hang(dir.path(), &["lint", "--format", "json", "."]);
    assert_eq!(out.code, 1);
    let doc = out.json();
    assert_eq!(
        util::diag_summary(&doc),
        [("e".to_string(), "xml-encoding".to_string(), 1, 31)],
        "{doc}"
    );
}
