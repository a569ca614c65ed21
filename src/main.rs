//! The `topology` binary: parse arguments, run, exit with the code `app` decides.
//!
//! On Unix the binary has its own C `main` instead of Rust's start-up (`lang_start`), which
//! before `main` reads /proc/self/maps and sets up an alternate signal stack to tell a
//! stack overflow of the main thread from another crash: 18 system calls at every start,
//! 3% of a lint of a Magento install. What the tool relies on from it is done here: writing
//! to a closed pipe is an error (`EPIPE`), not a silent kill by `SIGPIPE`; descriptors 0-2
//! are open (else the first file opened would be taken for stdout); a panic exits 101. A
//! stack overflow of the main thread ends the process all the same, with no message.

// (Not in the test harness of this file, whose `main` is libtest's.)
#![cfg_attr(all(unix, not(test)), no_main)]

#[cfg(all(unix, not(test)))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // SAFETY: the C runtime passes `argc` NUL-terminated strings in `argv`, alive for the
    // whole process; the signal and descriptor calls run before any other thread exists.
    let args = unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        standard_streams_open();
        (0..usize::try_from(argc).unwrap_or(0))
            .map(|i| std::ffi::CStr::from_ptr(*argv.add(i)))
            .map(|arg| std::os::unix::ffi::OsStrExt::from_bytes(arg.to_bytes()))
            .map(std::ffi::OsStr::to_os_string)
            .collect::<Vec<_>>()
    };
    topology::app::redact_panics();
    let code = std::panic::catch_unwind(|| topology::commands::main(args)).unwrap_or(101);
    std::process::exit(code);
}

/// Opens /dev/null on each of the descriptors 0, 1 and 2 that is closed, as Rust's start-up
/// does: one `poll` tells which.
///
/// # Safety
/// Before any other thread exists (a descriptor opened meanwhile could take the number).
#[cfg(all(unix, not(test)))]
unsafe fn standard_streams_open() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: three valid pollfd entries; a zero timeout returns at once.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for _closed in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
        // SAFETY: a NUL-terminated path. The lowest free descriptor is taken: the closed
        // ones, in order.
        unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
    }
}

#[cfg(any(not(unix), test))]
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
