//! The documentation lists every diagnostic code.

use topology::diagnostic::Code;

#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md"))
        .unwrap();
    for code in Code::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", code.as_str())),
            "{} is not in docs/diagnostics.md",
            code.as_str()
        );
    }
}

mod util;

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
    assert!(loud.stderr.contains("warning"), "{}", loud.stderr);
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
