//! One module per command: each takes its parsed arguments and returns the exit code.

pub mod completions;
