//! Shared parts of the fuzz targets: a heap that counts, per thread, and
//! a buffer that plays physical memory for the boot-time parsers.
//!
//! The targets live in `tests/` (one file per area: `wire`, `tcp`, `dhcp`,
//! `stack`, `ipv6`, `bootinfo`, `acpi`, `ext2`) and use `bolero`: under `cargo test` each runs on
//! random inputs for a while (`BOLERO_RANDOM_TEST_TIME_MS`, default one
//! second), and `cargo xtask fuzz` runs them longer, coverage-guided under
//! libFuzzer when `cargo-bolero` and a nightly toolchain are installed.
//!
//! "Bounded memory" is a property the targets assert, so each test binary
//! installs [`CountingAllocator`] as its global allocator and wraps one
//! input's run in [`measure`]: it reports how many allocations the run
//! made on this thread and how far the live bytes rose. Counting is per
//! thread, so tests running in parallel do not disturb each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Bytes allocated minus bytes freed by this thread (frees of memory
    /// another thread allocated may take it below zero).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` since the last reset.
    static PEAK: Cell<isize> = const { Cell::new(0) };
    /// Allocations (and reallocations) by this thread.
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting per thread; install it with
/// `#[global_allocator]` in a test binary to use [`measure`].
#[derive(Debug, Clone, Copy)]
pub struct CountingAllocator;

fn counted(grown: isize) {
    // `try_with`: a thread's locals may be gone while it exits.
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + grown);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
    if grown > 0 {
        let _ = COUNT.try_with(|count| count.set(count.get() + 1));
    }
}

fn signed(size: usize) -> isize {
    isize::try_from(size).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are thread-local `Cell`s with const
// initialisers and no destructors, so updating them never allocates or
// re-enters the allocator.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted(signed(layout.size()));
        // SAFETY: the caller's `layout` contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        counted(-signed(layout.size()));
        // SAFETY: `pointer` came from `System` (every allocation does) with
        // this `layout`, as the caller guarantees.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        counted(signed(layout.size()));
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counted(signed(new_size) - signed(layout.size()));
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

/// What a run allocated on the calling thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapUse {
    /// Allocations and growing reallocations.
    pub allocations: usize,
    /// How far the live bytes rose above where they started.
    pub peak_bytes: usize,
    /// Live bytes at the end minus at the start: what the run kept.
    pub kept_bytes: isize,
}

/// Runs `run` and reports its heap use on this thread. Meaningful only in a
/// binary whose global allocator is [`CountingAllocator`].
pub fn measure<R>(run: impl FnOnce() -> R) -> (R, HeapUse) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let count = COUNT.with(Cell::get);
    let result = run();
    let usage = HeapUse {
        allocations: COUNT.with(Cell::get) - count,
        peak_bytes: usize::try_from(PEAK.with(Cell::get) - start).unwrap_or(0),
        kept_bytes: LIVE.with(Cell::get) - start,
    };
    (result, usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static ALLOCATOR: CountingAllocator = CountingAllocator;

    #[test]
    fn measure_counts_allocations_the_peak_and_what_is_kept() {
        let (kept, usage) = measure(|| {
            let temporary = vec![0u8; 10_000];
            drop(temporary);
            Box::new([0u8; 100])
        });
        assert_eq!(usage.allocations, 2);
        assert!(usage.peak_bytes >= 10_000, "{usage:?}");
        assert_eq!(usage.kept_bytes, 100);
        drop(kept);
        let ((), nothing) = measure(|| ());
        assert_eq!(
            (nothing.allocations, nothing.peak_bytes, nothing.kept_bytes),
            (0, 0, 0)
        );
    }
}

/// A byte buffer that plays physical memory from address `base` on, its
/// first byte 8-aligned in host memory too (multiboot2's reader checks the
/// pointer), for the platform's boot-information and ACPI parsers.
#[derive(Debug)]
pub struct PlacedMemory {
    base: u64,
    bytes: Vec<u8>,
    start: usize,
}

impl PlacedMemory {
    /// `content` at physical address `base`.
    pub fn new(base: u64, content: &[u8]) -> Self {
        let mut bytes = vec![0u8; content.len() + 8];
        let start = bytes.as_ptr().align_offset(8);
        bytes[start..start + content.len()].copy_from_slice(content);
        bytes.truncate(start + content.len());
        Self { base, bytes, start }
    }
}

impl platform::bootinfo::PhysicalMemory for PlacedMemory {
    fn readable(&self, address: u64, length: usize) -> &[u8] {
        let Some(offset) = address
            .checked_sub(self.base)
            .and_then(|o| usize::try_from(o).ok())
        else {
            return &[];
        };
        let held = &self.bytes[self.start..];
        let from = offset.min(held.len());
        &held[from..from + length.min(held.len() - from)]
    }
}
