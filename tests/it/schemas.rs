//! Every JSON output (lint, plan, export definitions) validates against its JSON Schema in
//! `schemas/`, and the XSD accepts the valid fixtures and the Magento corpus (checked with
//! xmllint where it is installed).

use crate::util;

use crate::util::{assert_valid, offline_plan, root, run, validator};

#[test]
fn lint_json_matches_its_schema() {
    let v = validator("lint.schema.json");
    for path in ["fixtures/bad", "fixtures/merge", "fixtures/retry-triple"] {
        let out = run(&["lint", "--format", "json", path]);
        if out.code == 64 {
            continue;
        }
        assert_valid(&v, &out.json(), path);
    }
    // A diagnostic without a place (no file found) has null file/line/column.
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["lint", "--format", "json", dir.path().to_str().unwrap()]);
    let doc = out.json();
    assert_eq!(doc["diagnostics"][0]["code"], "no-topology-files");
    assert_valid(&v, &doc, "empty dir");
}

#[test]
fn plan_json_matches_its_schema() {
    let v = validator("plan.schema.json");
    for path in [
        "fixtures/merge",
        "fixtures/retry-triple",
        "fixtures/bad/arguments",
        "fixtures/proposal-connection-mismatch",
    ] {
        let out = offline_plan("json", &[path]);
        assert_valid(&v, &out.json(), path);
    }
    if let Some(corpus) = util::corpus() {
        let out = offline_plan("json", &[corpus.to_str().unwrap()]);
        assert_valid(&v, &out.json(), "corpus");
    }
}

/// `--format json` prints one JSON document on stdout whatever happens: a usage error, a
/// broker out of reach. It carries the error and the exit code, and never the password.
#[test]
fn json_is_one_document_also_when_the_run_fails() {
    let lint = validator("lint.schema.json");
    let plan = validator("plan.schema.json");
    let unreachable = "amqp=amqp://guest:Pw-s3cret@127.0.0.1:1/%2f";
    // `COMMAND --format json fixtures/retry-triple` against a broker out of reach
    let unreachable_run = |command| {
        let args = ["--format", "json", "fixtures/retry-triple", "--connection"];
        [&[command][..], &args, &[unreachable, "--timeout", "1"]].concat()
    };
    let cases: [(Vec<&str>, i32); 6] = [
        (vec!["lint", "--format", "json", "fixtures/no-such-dir"], 64),
        (vec!["plan", "--format", "json", "fixtures/no-such-dir"], 64),
        (
            vec!["plan", "--format", "json", "fixtures/retry-triple"],
            64,
        ),
        (unreachable_run("plan"), 69),
        (unreachable_run("apply"), 69),
        (
            vec!["apply", "--format", "json", "--plan", "no-such-plan.json"],
            64,
        ),
    ];
    for (args, code) in cases {
        let out = run(&args);
        assert_eq!(out.code, code, "{args:?}: {}", out.stderr);
        let doc = out.json();
        let schema = if args[0] == "lint" { &lint } else { &plan };
        assert_valid(schema, &doc, &format!("{args:?}"));
        assert_eq!(doc["error"]["exit_code"], code, "{args:?}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(!message.is_empty(), "{args:?}");
        assert!(!out.stdout.contains("Pw-s3cret"), "{}", out.stdout);
    }
    // A broker out of reach: what was read is in the document too.
    let out = run(&unreachable_run("plan"));
    let doc = out.json();
    assert_eq!(doc["topology"]["queues"].as_array().unwrap().len(), 3);
    // Files with errors: apply refuses (1), and its document lists the diagnostics as plan's.
    let out = run(&[
        "apply",
        "--format",
        "json",
        "fixtures/bad/arguments",
        "--connection",
        unreachable,
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    assert_valid(&plan, &doc, "apply of files with errors");
    assert_eq!(doc["error"]["exit_code"], 1);
    let diagnostics = doc["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics.iter().any(|d| d["severity"] == "error"),
        "{doc}"
    );
}

/// The schema rejects what it must: a wrong action fails validation.
#[test]
fn plan_schema_is_not_vacuous() {
    let v = validator("plan.schema.json");
    let mut doc = offline_plan("json", &["--dialect", "rabbitmq", "fixtures/outbox"]).json();
    doc["changes"][0]["action"] = "bogus".into();
    assert!(!v.is_valid(&doc));
}

#[test]
fn xsd_accepts_valid_files_and_rejects_bad_ones() {
    if !util::tool("xmllint", "--version", "libxml2-utils") {
        return;
    }
    let xsd = root().join("schemas/topology.xsd");
    let check = |file: &std::path::Path| {
        std::process::Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(&xsd)
            .arg(file)
            .output()
            .unwrap()
            .status
            .success()
    };
    for ok in [
        "retry-triple",
        "outbound-queue",
        "outbox",
        "proposal-priority",
        "merge/ModuleB/etc",
        "sync/etc",
    ] {
        assert!(
            check(&root().join("fixtures").join(ok).join("queue_topology.xml")),
            "{ok}"
        );
    }
    for bad in ["schema", "wrong-root", "malformed"] {
        assert!(
            !check(
                &root()
                    .join("fixtures/bad")
                    .join(bad)
                    .join("queue_topology.xml")
            ),
            "{bad}"
        );
    }
    if let Some(corpus) = util::corpus() {
        for dir in [
            "app/code/Magento/Catalog/etc",
            "dev/tests/integration/_files/Magento/TestModuleMessageQueueConfiguration/etc",
        ] {
            assert!(check(&corpus.join(dir).join("queue_topology.xml")), "{dir}");
        }
    }
}

/// `export definitions` matches its schema (fixtures with integer, string and empty
/// arguments, a Magento install, exchange-to-exchange bindings), and the schema rejects a
/// binding without its destination type.
#[test]
fn definitions_match_their_schema() {
    let v = validator("definitions.schema.json");
    for args in [
        &["fixtures/retry-triple"][..],
        &["fixtures/two-connections"],
        &["fixtures/merge"],
        &["fixtures/magento-install", "--vhost", "shop"],
        &["--dialect", "rabbitmq", "fixtures/outbox"],
    ] {
        let out = run(&[&["export", "definitions"], args].concat());
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert_valid(&v, &out.json(), &format!("{args:?}"));
    }
    let mut doc = run(&["export", "definitions", "fixtures/retry-triple"]).json();
    assert!(v.is_valid(&doc));
    doc["bindings"][0]
        .as_object_mut()
        .unwrap()
        .remove("destination_type");
    assert!(!v.is_valid(&doc));
}
