//! Saved plans (`plan --out`, `apply --plan`), with the meaning a Terraform user expects: the
//! plan says how to read the files again (paths, Magento root, default connection, dialect,
//! `--prune`), a digest of every file it read, and the changes it will make.
//!
//! `apply --plan` reads the files again only to check that they did not change (any file
//! changed, added or gone refuses the plan, naming it), takes the broker URLs from flags and
//! environment, plans again, and runs the plan only when it makes the same changes. A change
//! on the broker that the plan does not touch (a new unrelated queue) does not void it; a
//! change to anything it touches or relies on does (an exchange it counted on gone, a queue
//! already replaced by someone else), and the refusal names those entities. Message counts
//! and reasons are not compared: they move with traffic.
//!
//! Digests are SHA-256 of the file's text: stable across builds and Rust versions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::lint::Dialect;
use crate::load::{Loaded, Options};
use crate::plan::Plan;

/// The format this build writes; older ones are refused with a clear message.
pub const VERSION: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    pub version: u32,
    /// The PATHs as given, relative to `dir`.
    pub paths: Vec<PathBuf>,
    /// The working directory `plan` ran in.
    pub dir: PathBuf,
    pub magento_root: Option<PathBuf>,
    /// `--default-connection` as given (None: env.php's, else `amqp`).
    pub default_connection: Option<String>,
    pub dialect: Dialect,
    pub prune: bool,
    /// The connections the files use.
    pub connections: Vec<String>,
    /// Every file read, in order: its name as shown, and the SHA-256 of its text.
    pub files: Vec<FileDigest>,
    pub changes: Vec<SavedChange>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub path: String,
    pub sha256: String,
}

/// What a change does, without what moves with traffic (message counts, reasons).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedChange {
    pub action: String,
    pub kind: String,
    pub connection: String,
    pub name: String,
    pub differences: serde_json::Value,
}

impl SavedChange {
    fn label(&self) -> String {
        format!("{} `{}` on `{}`", self.kind, self.name, self.connection)
    }
}

/// The changes of `plan` as they are saved and compared.
pub fn changes(plan: &Plan) -> Vec<SavedChange> {
    crate::render::json::changes(&plan.changes)
        .into_iter()
        .map(|c| SavedChange {
            action: c.action.to_string(),
            kind: c.kind.to_string(),
            connection: c.connection,
            name: c.name,
            differences: serde_json::to_value(&c.differences).expect("wire types always serialize"),
        })
        .collect()
}

/// The digests of every file `loaded` read, and of a Magento install's config.php and
/// env.php (module list and brokers).
pub fn digests(loaded: &Loaded) -> Vec<FileDigest> {
    let digest = |bytes: &[u8]| format!("{:x}", Sha256::digest(bytes));
    let mut out: Vec<FileDigest> = loaded
        .sources
        .iter()
        .map(|(_, s)| FileDigest {
            path: s.name.clone(),
            // A file that changed since it was parsed matches no digest of it.
            sha256: match s.full_text() {
                Ok(text) => digest(text.as_bytes()),
                Err(why) => format!("unavailable: {why}"),
            },
        })
        .collect();
    for install in &loaded.installs {
        for rel in ["app/etc/config.php", "app/etc/env.php"] {
            let path = install.root.join(rel);
            let sha256 = match std::fs::read(&path) {
                Ok(bytes) => digest(&bytes),
                Err(_) => "absent".to_string(),
            };
            out.push(FileDigest {
                path: path.display().to_string(),
                sha256,
            });
        }
    }
    out
}

impl SavedPlan {
    /// `connections`: those the files use.
    pub fn new(
        plan: &Plan,
        connections: Vec<String>,
        loaded: &Loaded,
        paths: &[PathBuf],
        options: &Options,
        prune: bool,
    ) -> SavedPlan {
        SavedPlan {
            version: VERSION,
            paths: paths.to_vec(),
            dir: std::env::current_dir().unwrap_or_default(),
            magento_root: options.magento_root.clone(),
            default_connection: options.default_connection.clone(),
            dialect: options.dialect,
            prune,
            connections,
            files: digests(loaded),
            changes: changes(plan),
        }
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("wire types always serialize");
        std::fs::write(path, text + "\n")
    }

    /// Reads a saved plan; the error says what is wrong in the user's terms.
    pub fn read(path: &Path) -> Result<SavedPlan, String> {
        let bytes = crate::source::read_bytes(path)?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
            "not a saved plan: it is not JSON (write one with `topology plan --out FILE`)"
                .to_string()
        })?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) if v < u64::from(VERSION) => {
                return Err(format!(
                    "it was written by an older topology (plan format {v}): run `topology plan --out` again"
                ));
            }
            Some(v) => {
                return Err(format!(
                    "it was written by a newer topology (plan format {v}): use that version to apply it"
                ));
            }
            None => {
                return Err(
                    "not a saved plan (no `version`): write one with `topology plan --out FILE`"
                        .to_string(),
                );
            }
        }
        serde_json::from_value(value).map_err(|e| format!("not a saved plan of this version: {e}"))
    }

    /// The load options and PATHs that read the files as `plan` did.
    pub fn load_options(&self) -> (Vec<PathBuf>, Options) {
        let here = std::env::current_dir().unwrap_or_default();
        let locate = |p: &PathBuf| {
            if p.is_relative() && here != self.dir {
                self.dir.join(p)
            } else {
                p.clone()
            }
        };
        (
            self.paths.iter().map(locate).collect(),
            Options {
                default_connection: self.default_connection.clone(),
                dialect: self.dialect,
                magento_root: self.magento_root.as_ref().map(locate),
            },
        )
    }

    /// Why the files read now are not the ones the plan was made from, if they are not.
    pub fn files_changed(&self, now: &[FileDigest]) -> Option<String> {
        let before: BTreeMap<&str, &str> = self
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .collect();
        let after: BTreeMap<&str, &str> = now
            .iter()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .collect();
        let mut what = Vec::new();
        for (path, digest) in &after {
            match before.get(path) {
                None => what.push(format!("`{path}` is new")),
                Some(d) if d != digest => what.push(format!("`{path}` changed")),
                Some(_) => {}
            }
        }
        for path in before.keys().filter(|p| !after.contains_key(*p)) {
            what.push(format!("`{path}` is gone"));
        }
        (!what.is_empty()).then(|| enumerate(&what))
    }

    /// The entities whose change is not the one planned, if any: the plan is stale.
    pub fn stale(&self, now: &[SavedChange]) -> Option<String> {
        let key = |c: &SavedChange| (c.kind.clone(), c.connection.clone(), c.name.clone());
        let before: BTreeMap<_, &SavedChange> = self.changes.iter().map(|c| (key(c), c)).collect();
        let after: BTreeMap<_, &SavedChange> = now.iter().map(|c| (key(c), c)).collect();
        let mut what = Vec::new();
        for (k, b) in &before {
            match after.get(k) {
                Some(a) if a.action == b.action && a.differences == b.differences => {}
                Some(a) if a.action == b.action => {
                    what.push(format!(
                        "{}: planned {} with other values",
                        b.label(),
                        b.action
                    ));
                }
                Some(a) => what.push(format!(
                    "{}: planned {}, now {}",
                    b.label(),
                    b.action,
                    a.action
                )),
                None => what.push(format!("{}: planned {}, now gone", b.label(), b.action)),
            }
        }
        for (k, a) in &after {
            if !before.contains_key(k) {
                what.push(format!("{}: not in the plan, now {}", a.label(), a.action));
            }
        }
        (!what.is_empty()).then(|| enumerate(&what))
    }
}

/// `a; b; c` — at most ten, then how many more.
fn enumerate(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(10).map(String::as_str).collect();
    match items.len().saturating_sub(10) {
        0 => shown.join("; "),
        n => format!("{}; and {n} more", shown.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: &str, name: &str, ttl: i64) -> SavedChange {
        SavedChange {
            action: action.into(),
            kind: "queue".into(),
            connection: "amqp".into(),
            name: name.into(),
            differences: serde_json::json!([{"property": "x-message-ttl", "ours": ttl}]),
        }
    }

    fn saved(changes: Vec<SavedChange>, files: Vec<FileDigest>) -> SavedPlan {
        SavedPlan {
            version: VERSION,
            paths: vec![],
            dir: PathBuf::new(),
            magento_root: None,
            default_connection: None,
            dialect: Dialect::Magento,
            prune: false,
            connections: vec!["amqp".into()],
            files,
            changes,
        }
    }

    fn file(path: &str, sha256: &str) -> FileDigest {
        FileDigest {
            path: path.into(),
            sha256: sha256.into(),
        }
    }

    /// Stale means: some change is not the one planned. Each such entity is named.
    #[test]
    fn stale_names_every_entity_whose_change_differs() {
        let plan = saved(
            vec![
                change("create", "a", 1),
                change("replace", "b", 2),
                change("unchanged", "c", 0),
            ],
            vec![],
        );
        let same = [
            change("create", "a", 1),
            change("replace", "b", 2),
            change("unchanged", "c", 0),
        ];
        assert_eq!(plan.stale(&same), None);
        let now = [
            change("unchanged", "a", 1),
            change("replace", "b", 3),
            change("create", "d", 0),
        ];
        let why = plan.stale(&now).unwrap();
        assert!(
            why.contains("queue `a` on `amqp`: planned create, now unchanged"),
            "{why}"
        );
        assert!(
            why.contains("queue `b` on `amqp`: planned replace with other values"),
            "{why}"
        );
        assert!(
            why.contains("queue `c` on `amqp`: planned unchanged, now gone"),
            "{why}"
        );
        assert!(
            why.contains("queue `d` on `amqp`: not in the plan, now create"),
            "{why}"
        );
    }

    #[test]
    fn files_changed_names_changed_new_and_gone_files() {
        let plan = saved(vec![], vec![file("a.xml", "1"), file("b.xml", "2")]);
        assert_eq!(
            plan.files_changed(&[file("a.xml", "1"), file("b.xml", "2")]),
            None
        );
        let why = plan
            .files_changed(&[file("a.xml", "9"), file("c.xml", "3")])
            .unwrap();
        assert_eq!(why, "`a.xml` changed; `c.xml` is new; `b.xml` is gone");
    }

    #[test]
    fn other_versions_are_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        for (text, expected) in [
            (r#"{"version": 1, "changes": []}"#, "older topology"),
            (r#"{"version": 99}"#, "newer topology"),
            ("{}", "no `version`"),
            ("not json", "not JSON"),
        ] {
            std::fs::write(&path, text).unwrap();
            let why = SavedPlan::read(&path).unwrap_err();
            assert!(why.contains(expected), "{text}: {why}");
        }
        let plan = saved(vec![change("create", "a", 1)], vec![file("a.xml", "1")]);
        plan.write(&path).unwrap();
        let back = SavedPlan::read(&path).unwrap();
        assert_eq!(back.changes, plan.changes);
        assert_eq!(back.files, plan.files);
    }
}
