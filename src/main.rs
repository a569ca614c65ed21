//! The `topology` binary: parse arguments, run, exit with the code `app` decides.

fn main() {
    let code = topology::app::main(std::env::args_os());
    std::process::exit(code);
}
