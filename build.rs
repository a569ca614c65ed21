//! Links the unwinder statically on Linux with glibc, as `-static-libgcc` does for C++.
//!
//! Rust's standard library asks for `-lgcc_s`, the shared unwinder, on `*-linux-gnu`. Loading
//! it costs every start of the binary a library to map and relocate and, in its constructor,
//! a CPU feature detection whose CPUID instructions trap to the hypervisor in a virtual
//! machine: 10% of `topology --version`, 4% of a lint of a Magento install, for code that
//! runs only when a panic unwinds. The same unwinder exists as a static archive,
//! `libgcc_eh.a`, beside the C compiler (it is what Rust links when the C library is static
//! too). This script offers it under the name `libgcc_s.a` in a directory searched before
//! the system's, so `-lgcc_s` resolves to it and `libgcc_s.so.1` is no longer needed.
//!
//! Only for a native build (the host's C compiler knows the host's archive, not a cross
//! target's); when the archive cannot be found, nothing changes and the shared unwinder is
//! used as before. Panics unwind the same either way.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let static_crt = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if !linux_gnu || static_crt || var("TARGET") != var("HOST") {
        return;
    }
    let Some(archive) = static_unwinder() else {
        return;
    };
    let dir = PathBuf::from(var("OUT_DIR")).join("static-unwinder");
    let link = dir.join("libgcc_s.a");
    // (`copy` replaces the copy an earlier build made.)
    let placed = std::fs::create_dir_all(&dir).is_ok() && std::fs::copy(&archive, &link).is_ok();
    if placed {
        println!("cargo:rustc-link-search=native={}", dir.display());
    }
}

/// The path of `libgcc_eh.a` as the C compiler (the linker Rust drives) finds it.
fn static_unwinder() -> Option<PathBuf> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let out = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    // A compiler that does not know the file prints its bare name back.
    (out.status.success() && path.is_absolute() && path.is_file()).then_some(path)
}
