//! Synchronisation hypercalls: host mutexes and condition variables.
//!
//! The kernel builds its own locks (mutex, rwlock, condvar) on its virtual
//! CPU and uses host objects only to sleep: one host mutex *is* the
//! virtual CPU, and each kernel thread parks on a host condition variable
//! of its own. Everything the kernel guards with the virtual CPU relies on
//! that mutex excluding other threads, so both traits are `unsafe` to
//! implement. Objects are created by the host and freed when dropped;
//! none is recursive.
//!
//! Since 2.0 the interface has no host rwlock and no `try_enter`: the
//! kernel never called them (its rwlock sleeps on the virtual CPU too).

use alloc::boxed::Box;

use crate::memory::MemoryError;
use crate::thread::ThreadId;

/// The outcome of a timed wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitResult {
    /// Woken by a signal, or spuriously.
    Woken,
    /// The deadline passed first.
    TimedOut,
}

/// A host mutex.
///
/// # Implementation safety
///
/// Between a thread's return from [`HostMutex::enter`] and its
/// [`HostMutex::exit`], no other thread returns from `enter` (mutual
/// exclusion), and everything a holder wrote before `exit` is visible to
/// the next holder after its `enter` (release/acquire ordering).
/// [`HostMutex::owner`] names the holder exactly when asked by the
/// holder itself.
#[allow(unsafe_code, reason = "the kernel's memory safety rests on exclusion")]
pub unsafe trait HostMutex: Send + Sync {
    /// Takes the mutex, waiting for the holder to release it. *May block.*
    /// The caller does not already hold it.
    fn enter(&self);

    /// Releases the mutex, waking one waiter if there is any. The caller
    /// holds it. Never blocks.
    fn exit(&self);

    /// The thread holding the mutex, if any. Never blocks.
    fn owner(&self) -> Option<ThreadId>;
}

/// A host condition variable.
///
/// Waits may wake spuriously; callers re-check their condition in a loop.
/// A wait is always made with a [`HostMutex`] held, and no wakeup sent
/// after the waiter released that mutex is lost.
///
/// # Implementation safety
///
/// Both waits hold `mutex` again, with the guarantees of
/// [`HostMutex`], when they return.
#[allow(unsafe_code, reason = "waits hand the kernel's exclusion back")]
pub unsafe trait HostCondvar: Send + Sync {
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
}

/// Synchronisation hypercalls: constructors of the objects above.
pub trait Synchronization {
    /// Creates an unlocked mutex. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] when the host has no memory for it.
    fn mutex_create(&self) -> Result<Box<dyn HostMutex>, MemoryError>;

    /// Creates a condition variable with no waiters. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] when the host has no memory for it.
    fn condvar_create(&self) -> Result<Box<dyn HostCondvar>, MemoryError>;
}
