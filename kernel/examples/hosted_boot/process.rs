//! What this process holds: heap bytes (a counting allocator), RSS, threads.
//!
//! The heap count is exact and covers every byte a hosted kernel gets from
//! Rust's allocator: its control structures and, through
//! `hypercall-posix`'s `memory_allocate`, its pages. Thread stacks are
//! mapped by the C library, not allocated, so they show in the RSS and the
//! address space (`/proc/self/status`), not in the heap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

/// The system allocator, counting live bytes and blocks of the process.
pub struct Counting;

static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static LIVE_BLOCKS: AtomicI64 = AtomicI64::new(0);

fn signed(size: usize) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

// SAFETY: every call is forwarded unchanged to `System`, which keeps the
// `GlobalAlloc` contract; the counters are relaxed atomics that neither
// allocate nor re-enter the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(signed(layout.size()), Relaxed);
        LIVE_BLOCKS.fetch_add(1, Relaxed);
        // SAFETY: the caller's layout contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(signed(layout.size()), Relaxed);
        LIVE_BLOCKS.fetch_add(1, Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(signed(layout.size()), Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Relaxed);
        // SAFETY: `pointer` came from `System` with this layout, as the
        // caller guarantees.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(signed(new_size) - signed(layout.size()), Relaxed);
        // SAFETY: as for `dealloc`; `new_size` is the caller's.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

/// A snapshot of the process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    /// Heap bytes allocated and not freed.
    pub heap: i64,
    /// Heap blocks allocated and not freed.
    pub blocks: i64,
    /// Resident set, bytes.
    pub resident: i64,
    /// Address space mapped, bytes (thread stacks at their full size).
    pub mapped: i64,
    /// Threads of the process.
    pub threads: i64,
}

impl Snapshot {
    /// The process now.
    pub fn now() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            let line = status.lines().find(|line| line.starts_with(name));
            let value = line.and_then(|line| line.split_whitespace().nth(1));
            value
                .and_then(|value| value.parse::<i64>().ok())
                .unwrap_or(0)
        };
        Self {
            heap: LIVE_BYTES.load(Relaxed),
            blocks: LIVE_BLOCKS.load(Relaxed),
            resident: field("VmRSS:") * 1024,
            mapped: field("VmSize:") * 1024,
            threads: field("Threads:"),
        }
    }

    /// What grew from `earlier` to `self`.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            heap: self.heap - earlier.heap,
            blocks: self.blocks - earlier.blocks,
            resident: self.resident - earlier.resident,
            mapped: self.mapped - earlier.mapped,
            threads: self.threads - earlier.threads,
        }
    }
}

/// Threads on the whole machine (the fourth field of `/proc/loadavg` is
/// `running/total`), and the machine's limit on process ids.
pub fn machine_threads() -> (i64, i64) {
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let total = loadavg
        .split_whitespace()
        .nth(3)
        .and_then(|field| field.split('/').nth(1))
        .and_then(|total| total.parse().ok())
        .unwrap_or(0);
    let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(32_768);
    (total, pid_max)
}

/// Where the calling thread's time went so far, nanoseconds: on a CPU
/// (`CLOCK_THREAD_CPUTIME_ID`) and runnable but waiting for one (the
/// second field of `/proc/thread-self/schedstat`, brought up to date each
/// time the thread is switched in, so exact once it runs again).
pub fn thread_times() -> (u64, u64) {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the valid pointer it is
    // given and keeps no reference to it.
    let on_cpu = match unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) } {
        0 => time.tv_sec as u64 * 1_000_000_000 + time.tv_nsec as u64,
        _ => 0,
    };
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let waiting = schedstat.split_whitespace().nth(1);
    (
        on_cpu,
        waiting.and_then(|field| field.parse().ok()).unwrap_or(0),
    )
}

/// Minor page faults of the whole process so far.
pub fn page_faults() -> i64 {
    // SAFETY: all-zero bytes are a valid `rusage` (integers and timevals).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage to the valid pointer it is given
    // and keeps no reference to it.
    match unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } {
        0 => usage.ru_minflt,
        _ => 0,
    }
}
