//! Kernel data guarded by the virtual CPU instead of a lock.
//!
//! With one virtual CPU only the thread holding it runs kernel code, so data
//! touched only under the CPU needs no lock at all: this is the
//! uniprocessor fast path of the design. A [`CpuCell`] checks, with plain
//! loads, that the caller holds the CPU of the cell's kernel and that no
//! other borrow is active, then hands out `&mut T` for the length of a
//! closure.
//!
//! Cells are private to the base and always belong to one kernel's
//! structures.

#![allow(
    unsafe_code,
    reason = "the value is reached only under the virtual CPU (contract: hypercall::HostMutex)"
)]

use core::cell::{Cell, UnsafeCell};

use crate::context::Context;

/// `T`, reachable only by the thread holding the virtual CPU.
pub(crate) struct CpuCell<T> {
    value: UnsafeCell<T>,
    borrowed: Cell<bool>,
}

// SAFETY: every access goes through `with`, which first checks that the
// caller holds the kernel's only virtual CPU: `holder` names the caller's
// lwp. That check is exact for the caller. Lwp ids are unique in the
// process and an lwp runs on one thread at a time (a bound lwp stays with
// its `!Send` binding, an implicit one with its `Context`), so only the
// caller ever stores its own id, and a relaxed load returns either that
// store or a later one. A `Context` reached while its thread has released
// the CPU (smuggled into `block_on_host` through a thread-local) fails the
// check instead of racing. Taking and releasing the CPU is a host mutex,
// which orders all accesses of successive holders. So at most one thread
// touches `value` and `borrowed` at a time, and `T: Send` lets it move
// between those threads.
unsafe impl<T: Send> Sync for CpuCell<T> {}

impl<T> CpuCell<T> {
    /// Wraps `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self {
            value: UnsafeCell::new(value),
            borrowed: Cell::new(false),
        }
    }

    /// Runs `f` with exclusive access to the value.
    ///
    /// # Panics
    /// If the caller does not hold the virtual CPU, or on a nested access to
    /// the same cell: both are bugs in the base, never input-dependent.
    pub(crate) fn with<R>(&self, context: &Context<'_>, f: impl FnOnce(&mut T) -> R) -> R {
        assert!(
            context.holds_cpu(),
            "kernel data touched without the virtual CPU"
        );
        assert!(!self.borrowed.replace(true), "CpuCell borrowed twice");
        let _release = ReleaseOnDrop(&self.borrowed);
        // SAFETY: the caller holds the virtual CPU (checked above), so no
        // other thread can be in `with`; `borrowed` was false, so no outer
        // call on this thread holds a reference. The reference ends with
        // `f`, before `borrowed` is cleared.
        f(unsafe { &mut *self.value.get() })
    }
}

/// Clears the borrow flag even if the closure panics.
struct ReleaseOnDrop<'a>(&'a Cell<bool>);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}
