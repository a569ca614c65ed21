//! The process's memory between stages: pages that a finished stage freed are handed back
//! to the operating system, so that they do not count twice in the peak (freed, glibc's
//! allocator keeps them for later allocations, which the next stage's large vectors, mapped
//! afresh, never use).

/// Below this many bytes freed nothing is worth handing back: the pages would be faulted in
/// again by the next stage's allocations (at 10,000 bindings, a trim after merge cost more
/// than it saved: lint 4% faster without it; peak memory at 100,000 bindings 54 MiB either
/// way, within 2 MiB).
const WORTH_FROM: usize = 4 * 1024 * 1024;

/// [`give_back_freed`] after a stage freed about `bytes` (a file's syntax tree, indexes),
/// when that is worth a call.
pub fn give_back_after(bytes: usize) {
    if bytes >= WORTH_FROM {
        give_back_freed();
    }
}

/// Hands back to the OS the free pages of the heap (glibc's `malloc_trim`); elsewhere,
/// nothing. Takes about a millisecond for a heap of a hundred megabytes.
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory that is free in glibc's heaps; it is safe to
    // call at any time, from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
