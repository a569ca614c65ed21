//! Links the `topology` binary as a position-dependent executable on Linux with glibc
//! (`-no-pie`): the loader then has no relocation to apply to the 15,000 pointers of a
//! position-independent one, and no page of data to copy for them, at every start. That is
//! about half of what `topology --version` costs beyond `/bin/true`, and start-up is most of
//! a `lint` of a Magento code base (BENCHMARKS.md). The libraries it loads are still placed
//! at random addresses.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let var = |name| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
