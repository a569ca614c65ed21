//! The `topology` binary: parse arguments, run, exit with the code `app` decides.

fn main() {
    topology::app::redact_panics();
    let code = topology::commands::main(std::env::args_os());
    std::process::exit(code);
}
