//! The pre-commit hook runs its entry the way pre-commit does: from the repository root,
//! with the hook's `args` and (here) no file names, and fails the commit on exit 1.

use crate::util;
use crate::util::assert_contains;

use std::path::Path;

use serde::Deserialize;

#[derive(Deserialize)]
struct Hook {
    id: String,
    entry: String,
    language: String,
    files: String,
    pass_filenames: bool,
    #[serde(default)]
    args: Vec<String>,
}

fn hooks() -> Vec<Hook> {
    let text = std::fs::read_to_string(util::root().join(".pre-commit-hooks.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn hook() -> Hook {
    hooks().remove(0)
}

/// Runs the hook's entry in `repo`, as pre-commit would with `pass_filenames: false`.
fn run_hook(hook: &Hook, repo: &Path) -> util::Output {
    let mut words = hook.entry.split_whitespace();
    assert_eq!(
        words.next(),
        Some("topology"),
        "the entry runs the installed binary"
    );
    let mut args: Vec<&str> = words.collect();
    args.extend(hook.args.iter().map(String::as_str));
    util::run_in(repo, &args, &[])
}

fn module(repo: &Path, name: &str, xml: &str) {
    let dir = repo.join("app/code/Vendor").join(name).join("etc");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("queue_topology.xml"), xml).unwrap();
}

#[test]
fn hook_definition() {
    let h = hook();
    assert_eq!(h.id, "topology-lint");
    assert_eq!(
        h.language, "rust",
        "pre-commit builds the hook with cargo install"
    );
    assert!(!h.pass_filenames, "the tree is merged as a whole");
    assert!(h.files.contains("queue_topology"));
}

/// The second hook runs the same check with a binary installed once (`language: system`):
/// same entry, same files, so a team can switch without other changes.
#[test]
fn system_hook_is_the_same_check_without_a_build() {
    let all = hooks();
    assert_eq!(all.len(), 2, "one hook built by pre-commit, one using PATH");
    let (rust, system) = (&all[0], &all[1]);
    assert_eq!(system.id, "topology-lint-system");
    assert_eq!(system.language, "system");
    assert_eq!(
        (
            &system.entry,
            &system.files,
            system.pass_filenames,
            &system.args
        ),
        (&rust.entry, &rust.files, rust.pass_filenames, &rust.args)
    );
}

#[test]
fn hook_passes_a_clean_tree_and_fails_a_bad_one() {
    let h = hook();
    let repo = tempfile::tempdir().unwrap();
    module(
        repo.path(),
        "A",
        r#"<config><exchange name="ex" connection="amqp"><binding id="b" topic="t" destination="q"/></exchange></config>"#,
    );
    let ok = run_hook(&h, repo.path());
    assert_eq!(ok.code, 0, "{}", ok.stderr);

    // An override in another module makes the merged queue invalid: only the whole tree shows it.
    // (Both name the connection: Magento merges <exchange> elements only then.)
    module(
        repo.path(),
        "B",
        r#"<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><exchange name="ex" connection="amqp"><binding id="b"><arguments>
           <argument name="x-max-priority" xsi:type="number">300</argument></arguments></binding></exchange></config>"#,
    );
    let bad = run_hook(&h, repo.path());
    assert_eq!(bad.code, 1);
    assert_contains(&bad.stderr, "app/code/Vendor/B/etc/queue_topology.xml:2:");
    assert_contains(&bad.stderr, "x-max-priority");
}
