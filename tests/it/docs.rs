//! The documentation lists every diagnostic code.

use topology::diagnostic::Code;

/// Every diagnostic code is produced by some fixture (under `fixtures/`, linted in both
/// dialects), so that each rule has an input that shows it — except `unreadable`, which
/// needs a file the OS refuses to read (tests/robustness.rs makes one at run time).
#[test]
fn every_code_is_produced_by_a_fixture() {
    let fixtures = util::root().join("fixtures");
    let mut dirs = Vec::new();
    for group in [fixtures.clone(), fixtures.join("bad")] {
        for entry in std::fs::read_dir(&group).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "bad") {
                dirs.push(path);
            }
        }
    }
    let mut produced = std::collections::BTreeSet::new();
    for dir in &dirs {
        for dialect in ["magento", "rabbitmq"] {
            let dir = dir.to_str().unwrap();
            let out = util::run(&["lint", "--format", "json", "--dialect", dialect, dir]);
            for d in out.json()["diagnostics"].as_array().unwrap() {
                produced.insert(d["code"].as_str().unwrap().to_string());
            }
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !produced.contains(*c) && *c != "unreadable")
        .collect();
    assert!(missing.is_empty(), "no fixture produces {missing:?}");
}

/// Every code, and so every code a lint rule reports, is listed in docs/diagnostics.md; each
/// rule of the lint table says what it finds.
#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md"))
        .unwrap();
    let rule_codes = topology::lint::RULES.iter().flat_map(|rule| rule.codes);
    for code in Code::ALL.iter().chain(rule_codes) {
        assert!(
            doc.contains(&format!("| `{}` |", code.as_str())),
            "{} is not in docs/diagnostics.md",
            code.as_str()
        );
    }
    for rule in topology::lint::RULES {
        assert!(
            !rule.doc.trim().is_empty(),
            "a rule of {:?} has no doc",
            rule.codes
        );
    }
}

use crate::util;
use crate::util::assert_contains;

/// `topology completions SHELL` prints a script that knows the commands and their flags;
/// the bash one is valid bash (and zsh's/fish's valid for their shells where installed).
#[test]
fn completions_for_every_shell() {
    for (shell, checker) in [
        ("bash", Some(("bash", "-n"))),
        ("zsh", Some(("zsh", "-n"))),
        ("fish", Some(("fish", "--no-execute"))),
        ("powershell", None),
    ] {
        let out = util::run(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for word in ["lint", "plan", "apply", "detailed-exitcode", "dialect"] {
            assert!(out.stdout.contains(word), "{shell} lacks {word}");
        }
        let Some((program, flag)) = checker else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("topology.completion");
        std::fs::write(&script, &out.stdout).unwrap();
        match std::process::Command::new(program)
            .arg(flag)
            .arg(&script)
            .output()
        {
            Ok(check) => assert!(
                check.status.success(),
                "{program} refuses the {shell} script: {}",
                String::from_utf8_lossy(&check.stderr)
            ),
            // Only bash is sure to be there; the others are checked where installed.
            Err(_) if program != "bash" => eprintln!("note: {program} not installed"),
            Err(e) => panic!("bash: {e}"),
        }
    }
    let out = util::run(&["completions", "tcsh"]);
    assert_eq!(out.code, 64, "an unknown shell is a usage error");
}

/// `topology man` prints one roff page with every command's options; where groff is
/// installed, it formats without a warning.
#[test]
fn man_page_documents_every_command() {
    let out = util::run(&["man"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with(".ie") || out.stdout.contains(".TH topology"));
    for section in ["TOPOLOGY LINT", "TOPOLOGY PLAN", "TOPOLOGY APPLY"] {
        assert!(out.stdout.contains(section), "no {section} section");
    }
    // Flags are escaped for roff (`\-\-`), each command's own among them.
    for flag in ["detailed\\-exitcode", "allow\\-recreate", "deny\\-warnings"] {
        assert!(out.stdout.contains(flag), "no {flag}");
    }
    match std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(mut groff) => {
            use std::io::Write;
            groff
                .stdin
                .take()
                .unwrap()
                .write_all(out.stdout.as_bytes())
                .unwrap();
            let done = groff.wait_with_output().unwrap();
            assert!(done.status.success());
            let warnings = String::from_utf8_lossy(&done.stderr);
            assert!(warnings.trim().is_empty(), "groff: {warnings}");
        }
        Err(_) => eprintln!("note: groff not installed; the page's formatting is not checked"),
    }
}

/// `-q` prints only errors: warnings, plans and notes are left out, errors are not.
#[test]
fn quiet_prints_only_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Two bindings to one queue with one topic: a warning (the later wins), no error.
    std::fs::write(
        dir.path().join("queue_topology.xml"),
        r#"<config><exchange name="ex" connection="amqp">
             <binding id="a" topic="t" destination="q"/>
             <binding id="b" topic="t" destination="q"/>
           </exchange></config>"#,
    )
    .unwrap();
    let loud = util::run_in(dir.path(), &["lint", "."], &[]);
    assert_eq!(loud.code, 0);
    assert_contains(&loud.stderr, "warning");
    let quiet = util::run_in(dir.path(), &["lint", "-q", "."], &[]);
    assert_eq!(
        (quiet.code, quiet.stdout.as_str(), quiet.stderr.as_str()),
        (0, "", "")
    );

    let plan = util::run_in(dir.path(), &["plan", "--offline", "-q", "."], &[]);
    assert_eq!(
        (plan.code, plan.stdout.as_str(), plan.stderr.as_str()),
        (0, "", "")
    );
    let detailed = util::run_in(
        dir.path(),
        &["plan", "--offline", "-q", "--detailed-exitcode", "."],
        &[],
    );
    assert_eq!((detailed.code, detailed.stdout.as_str()), (2, ""));
    // JSON is asked for explicitly: still printed.
    let json = util::run_in(
        dir.path(),
        &["plan", "--offline", "-q", "--format", "json", "."],
        &[],
    );
    assert_eq!(json.json()["changes"].as_array().unwrap().len(), 3);

    std::fs::write(
        dir.path().join("queue_topology.xml"),
        r#"<config><exchange name="ex" type="nope" connection="amqp"/></config>"#,
    )
    .unwrap();
    for command in ["lint", "plan"] {
        let bad = util::run_in(dir.path(), &[command, "-q", "."], &[]);
        assert_eq!(bad.code, 1, "{command}");
        assert!(bad.stderr.contains("error"), "{command}: {}", bad.stderr);
        assert_eq!(bad.stdout, "", "{command}");
    }
}

// ---------------------------------------------------------------------------------------
// The documentation stands alone and its examples run.
//
// Users get the repository alone, so README.md and docs/**/*.md:
// - link only to files that exist in the repository (relative links; `http(s)://` and
//   `mailto:` links are left alone), and to headings that exist (`page.md#anchor`, GitHub's
//   anchors); they never mention `../shared` or `shared/spec`;
// - are the command reference: docs/commands.md names every command, every long flag and
//   every environment variable the command line knows;
// - show commands that run. The rule for examples:
//   * A fenced block whose info string is `console` is run. Each line starting with `$ ` is
//     a command line: `topology …`, optionally after `NAME=value` environment assignments;
//     a line ending with `\` continues on the next. It runs through `bash -c` with
//     `pipefail` (so a pipe or a redirection works, and topology's exit code counts), with
//     the built `topology` first on PATH, NO_COLOR=1 and no other `TOPOLOGY_*` variable, in
//     a scratch directory holding a link to the repository's `fixtures/`: relative paths
//     read as from the repository root, and files the examples write stay out of it.
//     The lines up to the next `$ ` line are the output shown: each non-empty one, trimmed,
//     must appear in the command's stdout or stderr (`...` lines are wildcards, left out).
//     The command must not exit 64 (usage error), 69 (broker unreachable) or 101 (panic);
//     a line ending with `# exit N` must exit exactly N.
//   * Broker URLs are written `amqp://guest:guest@localhost:5672/shop`. Each file that has
//     one gets a fresh vhost on the local RabbitMQ (127.0.0.1:5672, guest/guest), removed
//     afterwards; `localhost:5672/shop` is rewritten to it in the command and back in the
//     output. A file's blocks run in order, sharing that vhost and the scratch directory.
//     Without a broker the lines that need one are skipped with a note (a failure when
//     `CI` is set).
//   * Any other block (`sh` for illustration: production URLs, other tools) is not run,
//     but each `topology …` command in an `sh` block is parsed by the real command line.
// ---------------------------------------------------------------------------------------

use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

/// README.md and every Markdown file under docs/, as (path relative to the root, text).
fn markdown_files() -> Vec<(PathBuf, String)> {
    let root = util::root();
    let mut files = vec![PathBuf::from("README.md")];
    let mut dirs = vec![PathBuf::from("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(root.join(&dir)).unwrap() {
            let name = dir.join(entry.unwrap().file_name());
            if root.join(&name).is_dir() {
                dirs.push(name);
            } else if name.extension().is_some_and(|e| e == "md") {
                files.push(name);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(root.join(&f)).unwrap();
            (f, text)
        })
        .collect()
}

/// A fenced code block: its info string and text.
struct Block {
    info: String,
    text: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                current = Some(Block {
                    info: info.to_string(),
                    text: String::new(),
                })
            }
            Event::Text(text) => {
                if let Some(block) = current.as_mut() {
                    block.text.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    out
}

/// The anchors of a Markdown page's headings, as GitHub makes them: lower case, spaces to
/// `-`, punctuation other than `-` and `_` left out.
fn anchors(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut heading: Option<String> = None;
    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(text) | Event::Code(text) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let text = heading.take().unwrap_or_default().to_lowercase();
                out.push(
                    text.chars()
                        .filter_map(|c| match c {
                            ' ' => Some('-'),
                            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                            _ => None,
                        })
                        .collect(),
                );
            }
            _ => {}
        }
    }
    out
}

#[test]
fn links_stay_inside_the_repository() {
    let root = util::root().canonicalize().unwrap();
    let mut broken = Vec::new();
    for (file, text) in markdown_files() {
        for forbidden in ["../shared", "shared/spec"] {
            if text.contains(forbidden) {
                broken.push(format!("{}: mentions `{forbidden}`", file.display()));
            }
        }
        for event in Parser::new(&text) {
            let (Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. })) = event
            else {
                continue;
            };
            if dest_url.contains("://") || dest_url.starts_with("mailto:") {
                continue;
            }
            let (target, anchor) = dest_url.split_once('#').unwrap_or((&dest_url, ""));
            let resolved = if target.is_empty() {
                root.join(&file)
            } else {
                root.join(file.parent().unwrap()).join(target)
            };
            let Some(resolved) = resolved
                .canonicalize()
                .ok()
                .filter(|p| p.starts_with(&root) && p.is_file())
            else {
                broken.push(format!(
                    "{}: `{dest_url}` is not a file of the repository",
                    file.display()
                ));
                continue;
            };
            if !anchor.is_empty() {
                let page = std::fs::read_to_string(&resolved).unwrap_or_default();
                if !anchors(&page).iter().any(|a| a == anchor) {
                    broken.push(format!("{}: `{dest_url}`: no such heading", file.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// Every command, long flag and environment variable of the command line is in
/// docs/commands.md, so that the reference cannot fall behind.
#[test]
fn command_reference_is_complete() {
    use clap::CommandFactory;
    let doc = std::fs::read_to_string(util::root().join("docs/commands.md")).unwrap();
    let mut missing = Vec::new();
    let mut command = topology::cli::Cli::command();
    command.build();
    let mut stack = vec![command];
    while let Some(command) = stack.pop() {
        let name = command.get_name().to_string();
        if name != "topology" && name != "help" && !doc.contains(&format!("topology {name}")) {
            missing.push(format!("command `topology {name}`"));
        }
        for arg in command.get_arguments() {
            if let Some(long) = arg.get_long()
                && !doc.contains(&format!("--{long}"))
            {
                missing.push(format!("`--{long}` of `{name}`"));
            }
            if let Some(env) = arg.get_env()
                && !doc.contains(env.to_str().unwrap())
            {
                missing.push(format!("variable {env:?}"));
            }
        }
        stack.extend(command.get_subcommands().cloned());
    }
    for variable in [
        "TOPOLOGY_CONNECTION_<NAME>",
        "TOPOLOGY_MANAGEMENT_<NAME>",
        "NO_COLOR",
    ] {
        if !doc.contains(variable) {
            missing.push(variable.to_string());
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "docs/commands.md lacks {missing:#?}");
}

/// The placeholder broker URL of the examples.
const PLACEHOLDER: &str = "localhost:5672/shop";

/// One `$ ` command line of a console block, with the output shown after it.
struct Example {
    command: String,
    shown: Vec<String>,
    exit: Option<i32>,
}

fn examples(block: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut continued = false;
    for line in block.lines() {
        if continued {
            let example = out.last_mut().unwrap();
            continued = line.ends_with('\\');
            example.command.push('\n');
            example.command.push_str(line);
        } else if let Some(command) = line.strip_prefix("$ ") {
            continued = command.ends_with('\\');
            out.push(Example {
                command: command.to_string(),
                shown: Vec::new(),
                exit: None,
            });
        } else if let Some(example) = out.last_mut() {
            let line = line.trim();
            if !line.is_empty() && line != "..." {
                example.shown.push(line.to_string());
            }
        } else {
            assert!(
                line.trim().is_empty(),
                "output before any `$ ` line: {line}"
            );
        }
    }
    for example in &mut out {
        example.exit = example
            .command
            .rsplit_once("# exit ")
            .and_then(|(_, code)| code.trim().parse().ok());
    }
    out
}

/// `topology` after optional `NAME=value` assignments.
fn runs_topology(command: &str) -> bool {
    let mut words = command.split_whitespace();
    loop {
        match words.next() {
            Some("topology") => return true,
            Some(word) if word.contains('=') && !word.starts_with('-') => continue,
            _ => return false,
        }
    }
}

fn broker_available() -> bool {
    let up = ["127.0.0.1:5672", "127.0.0.1:15672"].iter().all(|addr| {
        std::net::TcpStream::connect_timeout(
            &addr.parse().unwrap(),
            std::time::Duration::from_secs(2),
        )
        .is_ok()
    });
    if !up && std::env::var_os("CI").is_some() {
        panic!("CI is set and RabbitMQ is not running on 127.0.0.1:5672 and :15672");
    }
    up
}

/// Runs `command` as the rule above says; (exit code, stdout and stderr).
fn run_example(dir: &Path, command: &str) -> (i32, String) {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_topology"));
    let path = std::env::join_paths(
        std::iter::once(binary.parent().unwrap().to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let mut shell = std::process::Command::new("bash");
    shell
        .arg("-c")
        .arg(format!("set -o pipefail\n{command}"))
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1");
    for (k, _) in std::env::vars() {
        if k.starts_with("TOPOLOGY_") {
            shell.env_remove(k);
        }
    }
    let out = shell.output().expect("bash runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn console_examples_run() {
    use clap::Parser as _;
    let broker = broker_available();
    let mut failures = Vec::new();
    let mut ran = 0;
    for (file, text) in markdown_files() {
        let scratch = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(
            util::root().join("fixtures"),
            scratch.path().join("fixtures"),
        )
        .unwrap();
        let mut vhost: Option<util::Vhost> = None;
        for block in blocks(&text) {
            if block.info == "sh" {
                // Not run, but no flag in it may be made up.
                for line in block.text.lines() {
                    let line = line.trim_start_matches("$ ");
                    let Some(args) = line.strip_prefix("topology ") else {
                        continue;
                    };
                    let args = args
                        .split(['>', '|', '#', '&', ';'])
                        .next()
                        .unwrap_or_default();
                    let argv = std::iter::once("topology").chain(args.split_whitespace());
                    if let Err(e) = topology::cli::Cli::try_parse_from(argv) {
                        failures.push(format!("{}: `{line}` does not parse: {e}", file.display()));
                    }
                }
                continue;
            }
            if block.info != "console" {
                continue;
            }
            for example in examples(&block.text) {
                let where_ = format!("{}: `$ {}`", file.display(), example.command);
                if !runs_topology(&example.command) {
                    failures.push(format!(
                        "{where_}: a console block runs `topology` only (use ```sh)"
                    ));
                    continue;
                }
                let mut command = example.command.clone();
                let mut shown_vhost = None;
                if command.contains(PLACEHOLDER) {
                    if !broker {
                        eprintln!("SKIPPED (no RabbitMQ): {where_}");
                        continue;
                    }
                    let vhost = vhost.get_or_insert_with(|| {
                        let stem = file
                            .file_stem()
                            .unwrap()
                            .to_string_lossy()
                            .replace('.', "-");
                        util::Vhost::new(&format!("docs-{stem}"))
                    });
                    let real = format!("localhost:5672/{}", vhost.name);
                    command = command.replace(PLACEHOLDER, &real);
                    shown_vhost = Some(real);
                }
                let (code, mut output) = run_example(scratch.path(), &command);
                ran += 1;
                if let Some(real) = shown_vhost {
                    output = output.replace(&real, PLACEHOLDER);
                }
                if let Some(expected) = example.exit {
                    if code != expected {
                        failures.push(format!("{where_}: exit {code}, not {expected}\n{output}"));
                        continue;
                    }
                } else if [64, 69, 101].contains(&code) {
                    failures.push(format!("{where_}: exit {code}\n{output}"));
                    continue;
                }
                for line in &example.shown {
                    if !output.contains(line.as_str()) {
                        failures.push(format!("{where_}: output lacks `{line}`:\n{output}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(ran >= 10, "only {ran} examples ran");
}
