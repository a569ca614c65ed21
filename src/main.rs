//! The `topology` binary: parse arguments, run, exit with the code `app` decides.

fn main() {
    topology::app::redact_panics();
    let code = topology::commands::main(std::env::args_os());
    std::process::exit(code);
}

/// The C library's `pow`, defined here from the pure-Rust `libm` (musl's algorithm, under
/// 1 ulp): `f64::powf` in indicatif's rate estimate and tokio's scheduler statistics is the
/// only call into the platform's libm.so, which every start would otherwise load and
/// relocate for it (an offline lint of a few files: 2% of its time, `--version` 5%). The
/// executable's definition is the one the dynamic linker binds, so libm.so is not needed.
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}
