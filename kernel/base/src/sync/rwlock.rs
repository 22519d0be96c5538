//! The kernel reader/writer lock, writer-preferring, with hand-off.
//!
//! Counters are read and written only under the virtual CPU. A waiting
//! writer stops new readers; releasing hands the lock to the next writer,
//! or to all queued readers at once when no writer waits.

#![allow(
    unsafe_code,
    reason = "the guarded value is reached through its guards (contract: the writer/reader protocol under the virtual CPU)"
)]

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

use super::sleep_queue::{WaitKind, park_while_queued, sleep_key};
use super::{KernelBinding, bump};
use crate::context::Context;

/// Shared or exclusive access for kernel code; see the module docs.
pub struct RwLock<T: ?Sized> {
    binding: KernelBinding,
    /// The writing lwp's id, 0 when no writer holds the lock.
    writer: AtomicU64,
    readers: AtomicU32,
    waiting_writers: AtomicU32,
    waiting_readers: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through guards; the protocol (run under
// the single virtual CPU of the bound kernel) allows either one write guard
// or any number of read guards. `T: Send + Sync` because readers on several
// threads share it.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: moving the lock moves the value; nothing refers to it then.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}

impl<T> RwLock<T> {
    /// A free lock holding `value`.
    pub const fn new(value: T) -> Self {
        Self {
            binding: KernelBinding::new(),
            writer: AtomicU64::new(0),
            readers: AtomicU32::new(0),
            waiting_writers: AtomicU32::new(0),
            waiting_readers: AtomicU32::new(0),
            value: UnsafeCell::new(value),
        }
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Takes the lock for reading.
    pub fn read<'a>(&'a self, context: &'a Context<'_>) -> RwLockReadGuard<'a, T> {
        self.binding.check(context);
        if self.writer.load(Relaxed) == 0 && self.waiting_writers.load(Relaxed) == 0 {
            bump(&self.readers, 1);
        } else {
            self.wait(context, WaitKind::RwReader, &self.waiting_readers);
        }
        RwLockReadGuard {
            lock: self,
            context,
        }
    }

    /// Takes the lock for writing.
    ///
    /// # Panics
    /// If the current thread already holds it for writing.
    pub fn write<'a>(&'a self, context: &'a Context<'_>) -> RwLockWriteGuard<'a, T> {
        self.binding.check(context);
        let me = context.lwp_id().0;
        assert_ne!(self.writer.load(Relaxed), me, "rwlock write-locked twice");
        if self.writer.load(Relaxed) == 0 && self.readers.load(Relaxed) == 0 {
            self.writer.store(me, Relaxed);
        } else {
            self.wait(context, WaitKind::RwWriter, &self.waiting_writers);
        }
        RwLockWriteGuard {
            lock: self,
            context,
        }
    }

    /// Queues and parks until a releaser grants the lock.
    #[cold]
    fn wait(&self, context: &Context<'_>, kind: WaitKind, counter: &AtomicU32) {
        let queues = &context.kernel().sleep_queues;
        queues.enqueue(context, sleep_key(self), kind);
        bump(counter, 1);
        park_while_queued(context, sleep_key(self), None);
    }

    fn read_unlock(&self, context: &Context<'_>) {
        bump(&self.readers, -1);
        if self.readers.load(Relaxed) == 0 && self.waiting_writers.load(Relaxed) > 0 {
            self.grant_writer(context);
        }
    }

    fn write_unlock(&self, context: &Context<'_>) {
        self.writer.store(0, Relaxed);
        if self.waiting_writers.load(Relaxed) > 0 {
            self.grant_writer(context);
        } else if self.waiting_readers.load(Relaxed) > 0 {
            let queues = &context.kernel().sleep_queues;
            let woken = queues.wake_all(context, sleep_key(self), WaitKind::RwReader);
            bump(&self.waiting_readers, -(woken as i32));
            bump(&self.readers, woken as i32);
        }
    }

    fn grant_writer(&self, context: &Context<'_>) {
        let queues = &context.kernel().sleep_queues;
        let next = queues
            .dequeue_first(context, sleep_key(self), WaitKind::RwWriter)
            .expect("a counted rwlock writer is queued");
        bump(&self.waiting_writers, -1);
        self.writer.store(next.id().0, Relaxed);
        next.unpark();
    }

    /// Whether a writer holds the lock.
    pub fn is_write_locked(&self) -> bool {
        self.writer.load(Relaxed) != 0
    }

    /// How many readers hold the lock.
    pub fn reader_count(&self) -> u32 {
        self.readers.load(Relaxed)
    }

    /// How many writers wait for the lock.
    pub fn waiting_writers(&self) -> u32 {
        self.waiting_writers.load(Relaxed)
    }

    /// How many readers wait for the lock.
    pub fn waiting_readers(&self) -> u32 {
        self.waiting_readers.load(Relaxed)
    }
}

impl<T: ?Sized> core::fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RwLock")
            .field("write_locked", &self.is_write_locked())
            .field("readers", &self.reader_count())
            .finish_non_exhaustive()
    }
}

/// Shared access to a [`RwLock`]'s value.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    context: &'a Context<'a>,
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: while a read guard exists no write guard does.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.read_unlock(self.context);
    }
}

/// Exclusive access to a [`RwLock`]'s value.
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
    context: &'a Context<'a>,
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the write guard is the only guard of the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the write guard is the only guard, and `&mut self` the
        // only reference through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.write_unlock(self.context);
    }
}

impl<T: ?Sized + core::fmt::Debug> core::fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + core::fmt::Debug> core::fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&**self, f)
    }
}
