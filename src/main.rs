//! The `topology` binary: parse arguments, run, exit with the code `app` decides.

fn main() {
    let code = topology::app::main(std::env::args_os());
    std::process::exit(code);
}

// Parsing a large topology makes millions of small allocations; mimalloc halves their cost.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
