//! Commands, one file each, as the newer ones are written (`lint`, `plan` and `apply` still
//! run from `app` and `apply_cmd`). A command takes the parsed command line and gives the
//! process exit code; it prints through `app`'s writers, which redact secrets.

pub mod completions;
pub mod export;
pub mod import;
