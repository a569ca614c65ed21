//! `topology apply`.

use crate::cli::{ApplyArgs, Cli};

pub fn run(_cli: &Cli, _args: &ApplyArgs) -> i32 {
    crate::app::err("error: apply is not built yet\n");
    1
}
