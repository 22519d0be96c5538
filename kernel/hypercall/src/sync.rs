//! Synchronisation hypercalls: host mutexes, rwlocks and condition variables.
//!
//! The kernel builds its own locks on top of these and uses them only to
//! sleep: kernel mutexes have an uncontended fast path that never reaches
//! the host. Objects are created by the host and freed when dropped; none of
//! them is recursive.

use alloc::boxed::Box;

use crate::memory::MemoryError;
use crate::thread::ThreadId;

/// The outcome of a timed wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitResult {
    /// Woken by a signal or broadcast, or spuriously.
    Woken,
    /// The deadline passed first.
    TimedOut,
}

/// Whether a rwlock is taken for reading (shared) or writing (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RwMode {
    /// Shared with other readers.
    Read,
    /// Exclusive.
    Write,
}

/// A host mutex.
pub trait HostMutex: Send + Sync {
    /// Takes the mutex, waiting for the holder to release it. *May block.*
    /// The caller does not already hold it.
    fn enter(&self);

    /// Takes the mutex if it is free and says whether it did. Never blocks.
    fn try_enter(&self) -> bool;

    /// Releases the mutex, waking one waiter if there is any. The caller
    /// holds it. Never blocks.
    fn exit(&self);

    /// The thread holding the mutex, if any. Never blocks.
    fn owner(&self) -> Option<ThreadId>;
}

/// A host reader/writer lock. Writers are not starved by a stream of
/// readers: once a writer waits, new readers wait too.
pub trait HostRwLock: Send + Sync {
    /// Takes the lock in `mode`. *May block.* The caller does not hold it.
    fn enter(&self, mode: RwMode);

    /// Takes the lock in `mode` if that is possible without waiting.
    /// Never blocks.
    fn try_enter(&self, mode: RwMode) -> bool;

    /// Releases the caller's hold, whichever mode it was. Never blocks.
    fn exit(&self);

    /// Whether the lock is held for writing by the calling thread
    /// (`RwMode::Write`) or held for reading by anyone (`RwMode::Read`).
    /// Never blocks.
    fn is_held(&self, mode: RwMode) -> bool;
}

/// A host condition variable.
///
/// Waits may wake spuriously; callers re-check their condition in a loop.
/// A wait is always made with a [`HostMutex`] held, and no wakeup sent
/// after the waiter released that mutex is lost.
pub trait HostCondvar: Send + Sync {
    /// Atomically releases `mutex` and sleeps until woken, then takes
    /// `mutex` again before returning. *May block.* The caller holds
    /// `mutex`.
    fn wait(&self, mutex: &dyn HostMutex);

    /// As [`HostCondvar::wait`], but gives up at `deadline_ns` on the
    /// monotonic clock ([`crate::Clock::clock_monotonic_ns`]); `mutex` is
    /// held again on return either way. *May block.*
    fn wait_until(&self, mutex: &dyn HostMutex, deadline_ns: u64) -> WaitResult;

    /// Wakes one waiter, if any. Never blocks.
    fn signal(&self);

    /// Wakes all waiters. Never blocks.
    fn broadcast(&self);

    /// Whether any thread is waiting. Never blocks.
    fn has_waiters(&self) -> bool;
}

/// Synchronisation hypercalls: constructors of the objects above.
pub trait Synchronization {
    /// Creates an unlocked mutex. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] when the host has no memory for it.
    fn mutex_create(&self) -> Result<Box<dyn HostMutex>, MemoryError>;

    /// Creates an unlocked rwlock. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] when the host has no memory for it.
    fn rwlock_create(&self) -> Result<Box<dyn HostRwLock>, MemoryError>;

    /// Creates a condition variable with no waiters. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] when the host has no memory for it.
    fn condvar_create(&self) -> Result<Box<dyn HostCondvar>, MemoryError>;
}
