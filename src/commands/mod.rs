//! One file per command that has moved out of `app` (the others still run there): each takes
//! the parsed command line and gives the exit code, printing through `app`'s `out` and `err`.

pub mod completions;
pub mod import;
