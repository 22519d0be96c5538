//! The kernel mutex: a sleep lock whose uncontended path is a load and a
//! store.
//!
//! `owner` holds the holder's lwp id (0 when free) and `waiters` the number
//! of parked lwps; both are read and written only under the virtual CPU, so
//! relaxed loads and stores suffice. Release hands the mutex straight to
//! the first waiter.

#![allow(
    unsafe_code,
    reason = "the guarded value is reached through its guard (contract: the owner protocol under the virtual CPU)"
)]

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

use super::sleep_queue::{WaitKind, park_while_queued, sleep_key};
use super::{KernelBinding, bump};
use crate::context::Context;
use crate::lwp::LwpId;

/// Mutual exclusion for kernel code; see the module docs.
pub struct Mutex<T: ?Sized> {
    binding: KernelBinding,
    owner: AtomicU64,
    waiters: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard, and the owner protocol
// (run under the one virtual CPU of the kernel the mutex is bound to) hands
// out at most one guard at a time. `T: Send` lets the value be used from
// whichever thread holds the guard.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: moving the mutex moves the value; nothing refers to it then.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    /// A free mutex holding `value`.
    pub const fn new(value: T) -> Self {
        Self {
            binding: KernelBinding::new(),
            owner: AtomicU64::new(0),
            waiters: AtomicU32::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex, returning the value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Takes the mutex, sleeping while another thread holds it.
    ///
    /// # Panics
    /// If the current thread already holds it (no recursion).
    #[inline]
    pub fn lock<'a>(&'a self, context: &'a Context<'_>) -> MutexGuard<'a, T> {
        self.binding.check(context);
        let me = context.lwp_id().0;
        match self.owner.load(Relaxed) {
            0 => self.owner.store(me, Relaxed),
            owner if owner == me => panic!("kernel mutex locked twice by {}", context.lwp_id()),
            _ => self.lock_contended(context),
        }
        MutexGuard {
            mutex: self,
            context,
        }
    }

    /// Takes the mutex if it is free.
    pub fn try_lock<'a>(&'a self, context: &'a Context<'_>) -> Option<MutexGuard<'a, T>> {
        self.binding.check(context);
        if self.owner.load(Relaxed) != 0 {
            return None;
        }
        self.owner.store(context.lwp_id().0, Relaxed);
        Some(MutexGuard {
            mutex: self,
            context,
        })
    }

    /// The lwp holding the mutex, if any.
    pub fn owner(&self) -> Option<LwpId> {
        match self.owner.load(Relaxed) {
            0 => None,
            id => Some(LwpId(id)),
        }
    }

    /// The value, through exclusive access to the mutex itself.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    #[cold]
    fn lock_contended(&self, context: &Context<'_>) {
        let queues = &context.kernel().sleep_queues;
        queues.enqueue(context, sleep_key(self), WaitKind::Mutex);
        bump(&self.waiters, 1);
        park_while_queued(context, sleep_key(self), None);
        debug_assert_eq!(self.owner.load(Relaxed), context.lwp_id().0);
    }

    /// Releases the mutex, handing it to the first waiter if there is one.
    fn unlock(&self, context: &Context<'_>) {
        if self.waiters.load(Relaxed) == 0 {
            self.owner.store(0, Relaxed);
            return;
        }
        let queues = &context.kernel().sleep_queues;
        let next = queues
            .dequeue_first(context, sleep_key(self), WaitKind::Mutex)
            .expect("a counted mutex waiter is queued");
        bump(&self.waiters, -1);
        self.owner.store(next.id().0, Relaxed);
        next.unpark();
    }
}

impl<T: ?Sized + core::fmt::Debug> core::fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mutex")
            .field("owner", &self.owner())
            .finish_non_exhaustive()
    }
}

/// Access to a [`Mutex`]'s value; dropping it releases the mutex.
#[must_use = "dropping the guard releases the mutex at once"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    context: &'a Context<'a>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The context the mutex was taken in.
    pub fn context(&self) -> &'a Context<'a> {
        self.context
    }

    /// Splits the guard for a condition wait: the caller must release the
    /// mutex with [`Mutex::unlock`] through [`MutexGuard::release_for_wait`].
    pub(crate) fn into_parts(self) -> (&'a Mutex<T>, &'a Context<'a>) {
        let parts = (self.mutex, self.context);
        core::mem::forget(self);
        parts
    }

    /// Releases the mutex of a guard split by [`MutexGuard::into_parts`].
    pub(crate) fn release_for_wait(mutex: &Mutex<T>, context: &Context<'_>) {
        mutex.unlock(context);
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread owns the mutex.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while this thread owns the mutex,
        // and `&mut self` makes this the only reference through it.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock(self.context);
    }
}

impl<T: ?Sized + core::fmt::Debug> core::fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}
