//! The CI examples in docs/examples/ are valid YAML of the expected shape, and every
//! `topology` command line in them parses with the real command line, so that they cannot
//! rot when a flag changes.

use crate::util;

use clap::Parser;
use serde_yaml::Value;
use topology::cli::{Cli, Command, LintFormat, PlanFormat};

fn example(name: &str) -> Value {
    let text = std::fs::read_to_string(util::root().join("docs/examples").join(name)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name} is not YAML: {e}"))
}

/// Every shell script in `doc` (GitHub's `run`, GitLab's `script` and `before_script`), one
/// line each.
fn script_lines(doc: &Value, out: &mut Vec<String>) {
    match doc {
        Value::Mapping(map) => {
            for (key, value) in map {
                let script = matches!(key.as_str(), Some("run" | "script" | "before_script"));
                match value {
                    Value::String(s) if script => out.extend(s.lines().map(str::to_string)),
                    Value::Sequence(items) if script => {
                        for item in items.iter().filter_map(Value::as_str) {
                            out.extend(item.lines().map(str::to_string));
                        }
                    }
                    other => script_lines(other, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| script_lines(i, out)),
        _ => {}
    }
}

/// The `topology …` commands of the scripts, `$TOPOLOGY_PATHS` replaced by `paths`, each cut
/// at a redirection; parsed by clap as the binary parses them.
fn commands(doc: &Value, paths: &str) -> Vec<Cli> {
    let mut lines = Vec::new();
    script_lines(doc, &mut lines);
    let mut out = Vec::new();
    for line in lines {
        let line = line.replace("$TOPOLOGY_PATHS", paths);
        for part in line.split(['(', ')', ';']).flat_map(|p| p.split("&&")) {
            let part = part.trim();
            let Some(args) = part.strip_prefix("topology ") else {
                continue;
            };
            let args = args.split(['>', '|']).next().unwrap_or_default();
            let argv: Vec<&str> = std::iter::once("topology")
                .chain(args.split_whitespace())
                .collect();
            match Cli::try_parse_from(&argv) {
                Ok(cli) => out.push(cli),
                Err(e) => panic!("`{}` does not parse: {e}", argv.join(" ")),
            }
        }
    }
    out
}

/// The example's value of `TOPOLOGY_PATHS` (GitHub: `env`, GitLab: `variables`).
fn paths(doc: &Value, key: &str) -> String {
    doc[key]["TOPOLOGY_PATHS"]
        .as_str()
        .expect("TOPOLOGY_PATHS is set")
        .to_string()
}

/// lint with annotations, a Markdown plan, an apply: each there, and each parses.
fn assert_lint_plan_apply(commands: &[Cli], lint_format: LintFormat) {
    let lint = commands
        .iter()
        .filter(|c| matches!(&c.command, Command::Lint(a) if a.format == lint_format))
        .count();
    let plans = commands
        .iter()
        .filter(|c| matches!(&c.command, Command::Plan(a) if a.format == PlanFormat::Markdown))
        .count();
    let applies = commands
        .iter()
        .filter(|c| matches!(&c.command, Command::Apply(_)))
        .count();
    assert_eq!((lint, plans, applies), (1, 1, 2), "{commands:#?}");
}

#[test]
fn github_actions_example() {
    let doc = example("github-actions.yml");
    let job = &doc["jobs"]["topology"];
    assert_eq!(
        job["services"]["rabbitmq"]["image"].as_str(),
        Some("rabbitmq:3-management")
    );
    // serde_yaml reads the key `on` as a string (YAML 1.2).
    assert!(doc["on"]["pull_request"].is_null() && doc["on"].get("pull_request").is_some());
    assert_eq!(doc["on"]["push"]["branches"][0].as_str(), Some("main"));
    let steps = job["steps"].as_sequence().unwrap();
    let apply = steps
        .iter()
        .find(|s| s["name"].as_str() == Some("Apply to the production broker"))
        .unwrap();
    assert_eq!(
        apply["if"].as_str(),
        Some("github.event_name == 'push' && github.ref == 'refs/heads/main'")
    );
    assert_eq!(
        apply["env"]["TOPOLOGY_CONNECTION_AMQP"].as_str(),
        Some("${{ secrets.TOPOLOGY_CONNECTION_AMQP }}")
    );
    let commands = commands(&doc, &paths(&doc, "env"));
    assert_lint_plan_apply(&commands, LintFormat::Github);
}

#[test]
fn gitlab_ci_example() {
    let doc = example("gitlab-ci.yml");
    assert_eq!(
        doc["plan"]["services"][0]["name"].as_str(),
        Some("rabbitmq:3-management")
    );
    assert_eq!(
        doc["plan"]["artifacts"]["paths"][0].as_str(),
        Some("plan.md")
    );
    assert_eq!(
        doc["apply"]["rules"][0]["if"].as_str(),
        Some("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")
    );
    let commands = commands(&doc, &paths(&doc, "variables"));
    assert_lint_plan_apply(&commands, LintFormat::Human);
}
