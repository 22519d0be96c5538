//! Per-host-thread state: thread identity, kernel slot, "created by us".
//!
//! All three are `thread_local!` and therefore shared by every
//! [`crate::Posix`] instance in the process. That is right for identities
//! (they are unique per process) and for the slot because a host thread
//! runs inside at most one kernel at a time: a kernel that hands a thread
//! over to another would have to save and restore the slot itself.
//!
//! Identities are assigned lazily, so threads that `thread_create` did not
//! make (the test harness's, `main`) get one on first use.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use hypercall::ThreadId;

/// The next identity to hand out; 0 is never used.
static NEXT_IDENTITY: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's identity, 0 until assigned.
    static IDENTITY: Cell<u64> = const { Cell::new(0) };
    /// The kernel's word for this thread (`curlwp`), 0 initially.
    static SLOT: Cell<usize> = const { Cell::new(0) };
    /// Whether `thread_create` made this thread (so `thread_exit` may end
    /// it).
    static CREATED: Cell<bool> = const { Cell::new(false) };
}

/// A fresh identity, never handed out before in this process.
pub(crate) fn allocate() -> ThreadId {
    ThreadId(NEXT_IDENTITY.fetch_add(1, Ordering::Relaxed))
}

/// The calling thread's identity, assigned now if it has none yet.
pub(crate) fn current() -> ThreadId {
    IDENTITY.with(|identity| {
        if identity.get() == 0 {
            identity.set(allocate().0);
        }
        ThreadId(identity.get())
    })
}

/// Marks the calling thread as one `thread_create` made, with `identity`.
/// Called first thing in every created thread.
pub(crate) fn adopt(identity: ThreadId) {
    IDENTITY.with(|cell| cell.set(identity.0));
    CREATED.with(|cell| cell.set(true));
}

/// Whether `thread_create` made the calling thread.
pub(crate) fn created_by_us() -> bool {
    CREATED.with(Cell::get)
}

/// The calling thread's kernel slot.
pub(crate) fn slot() -> usize {
    SLOT.with(Cell::get)
}

/// Sets the calling thread's kernel slot.
pub(crate) fn set_slot(value: usize) {
    SLOT.with(|slot| slot.set(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_nonzero_stable_and_distinct_per_thread() {
        let mine = current();
        assert_ne!(mine.0, 0);
        assert_eq!(current(), mine);
        let other = std::thread::spawn(|| (current(), current()))
            .join()
            .expect("no panic");
        assert_eq!(other.0, other.1);
        assert_ne!(other.0, mine);
    }

    #[test]
    fn foreign_threads_are_not_created_by_us_and_slots_start_at_zero() {
        std::thread::spawn(|| {
            assert!(!created_by_us());
            assert_eq!(slot(), 0);
            set_slot(7);
            assert_eq!(slot(), 7);
        })
        .join()
        .expect("no panic");
        assert_eq!(std::thread::spawn(slot).join().expect("no panic"), 0);
    }
}
