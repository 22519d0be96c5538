//! Kernel locks with a uniprocessor fast path.
//!
//! [`Mutex`], [`RwLock`] and [`Condvar`] are for kernel code holding a
//! [`Context`]. With one virtual CPU only one thread runs kernel code at a
//! time, so an uncontended lock is a plain load and store: no atomic
//! read-modify-write, no host call. A thread that must wait parks its lwp in
//! the kernel's sleep queues (`sleep_queue`) and the host call happens
//! only then.
//!
//! Locks are sleep locks with direct hand-off: releasing a contended lock
//! gives it to the first waiter, in arrival order, so no waiter starves.
//! None is recursive. Each lock binds itself to the first kernel that uses
//! it; using it from a second kernel is a bug and panics.

mod condvar;
mod mutex;
mod rwlock;
pub(crate) mod sleep_queue;

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

pub use condvar::Condvar;
pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::context::Context;

/// Which kernel a lock (or callout) belongs to, fixed at first use.
///
/// The lock's fast path is sound only under one virtual CPU, so a lock must
/// never be shared by two kernels.
#[derive(Debug)]
pub(crate) struct KernelBinding(AtomicU32);

impl KernelBinding {
    pub(crate) const fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Checks that `context`'s kernel owns the object, binding it on first
    /// use.
    #[inline]
    pub(crate) fn check(&self, context: &Context<'_>) {
        let kernel = context.kernel().id().0;
        if self.0.load(Relaxed) != kernel {
            self.bind(kernel);
        }
        if !context.holds_cpu() {
            not_on_cpu();
        }
    }

    #[cold]
    fn bind(&self, kernel: u32) {
        if let Err(other) = self.0.compare_exchange(0, kernel, Relaxed, Relaxed) {
            assert_eq!(other, kernel, "a kernel object was used by two kernels");
        }
    }
}

/// A context used while its thread has released the CPU: possible only by
/// smuggling it into [`Context::block_on_host`]'s closure (through a
/// thread-local, say). The fast path would race, so it stops here.
#[cold]
fn not_on_cpu() -> ! {
    panic!("kernel lock used with a context whose thread gave up the CPU")
}

/// Adds `delta` to a counter that only the virtual CPU's holder writes: a
/// plain load and store, no atomic read-modify-write (the fast path's
/// rule). Waiter counts never go below zero, so the wrap never happens.
fn bump(counter: &AtomicU32, delta: i32) {
    counter.store(counter.load(Relaxed).wrapping_add_signed(delta), Relaxed);
}
