//! Synchronisation hypercalls: host mutex and condvar on std::sync.
//!
//! Every object is a small state record in a `std::sync::Mutex` plus one or
//! two `std::sync::Condvar`s; the internal lock is held only for a few
//! instructions, never across a call into another object (the condvar
//! releases its own state lock before it takes the kernel's mutex again).
//! Misuse that the interface calls a kernel bug (releasing a lock one does
//! not hold, taking a non-recursive lock twice) panics with a message
//! rather than deadlocking or corrupting state.

mod condvar;
mod mutex;

use std::sync::{Condvar, LockResult, Mutex, MutexGuard, PoisonError};

use hypercall::{HostCondvar, HostMutex, MemoryError, Synchronization};

use crate::Posix;

pub(crate) use condvar::PosixCondvar;
pub(crate) use mutex::PosixMutex;

/// Takes a std mutex, ignoring poisoning: every internal state record is
/// consistent whenever its lock is released, since the deliberate panics
/// above happen before any change (and after the guard is dropped).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits on a std condvar, ignoring poisoning (see [`lock`]).
pub(crate) fn wait<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    unpoison(condvar.wait(guard))
}

/// The value of a lock result, poisoned or not (see [`lock`]).
pub(crate) fn unpoison<T>(result: LockResult<T>) -> T {
    result.unwrap_or_else(PoisonError::into_inner)
}

impl Synchronization for Posix {
    fn mutex_create(&self) -> Result<Box<dyn HostMutex>, MemoryError> {
        Ok(Box::new(PosixMutex::new()))
    }

    fn condvar_create(&self) -> Result<Box<dyn HostCondvar>, MemoryError> {
        Ok(Box::new(PosixCondvar::new(self.clock)))
    }
}
