//! Saved plans (`plan --out`, `apply --plan`): the plan's changes plus a fingerprint of the
//! broker state it was made from, so that `apply` refuses a plan gone stale.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;

#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    pub version: u32,
    pub paths: Vec<PathBuf>,
    pub fingerprint: Option<String>,
    pub changes: serde_json::Value,
}

impl SavedPlan {
    pub fn new(plan: &Plan, fingerprint: Option<&str>, paths: &[PathBuf]) -> SavedPlan {
        SavedPlan {
            version: 1,
            paths: paths.to_vec(),
            fingerprint: fingerprint.map(str::to_string),
            changes: serde_json::to_value(crate::render::json::changes(&plan.changes))
                .expect("wire types always serialize"),
        }
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).expect("wire types always serialize");
        std::fs::write(path, text + "\n")
    }

    pub fn read(path: &Path) -> Result<SavedPlan, String> {
        let bytes = crate::source::read_bytes(path)?;
        serde_json::from_slice(&bytes).map_err(|e| format!("not a saved plan: {e}"))
    }
}
