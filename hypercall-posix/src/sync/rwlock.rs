//! The host rwlock: shared readers, one writer, writers preferred.
//!
//! Once a writer waits, new readers wait too (so a stream of readers
//! cannot starve writers); readers are let in again when no writer holds
//! or waits for the lock. Readers are counted, not named: a reader's
//! `exit` by a thread that holds nothing cannot be detected, a writer's
//! can and panics.

use std::sync::{Condvar, Mutex};

use hypercall::{HostRwLock, RwMode, ThreadId};

use crate::identity;
use crate::sync::{lock, wait};

/// Who holds and who waits.
#[derive(Debug, Default)]
struct RwState {
    /// Threads holding the lock for reading.
    readers: usize,
    /// The thread holding the lock for writing.
    writer: Option<ThreadId>,
    /// Writers sleeping in `enter(Write)`; while nonzero, readers wait.
    waiting_writers: usize,
    /// Readers sleeping in `enter(Read)` (for tests and diagnostics).
    waiting_readers: usize,
}

impl RwState {
    fn readers_may_enter(&self) -> bool {
        self.writer.is_none() && self.waiting_writers == 0
    }

    fn writer_may_enter(&self) -> bool {
        self.writer.is_none() && self.readers == 0
    }
}

/// A [`HostRwLock`] on std::sync.
#[derive(Debug, Default)]
pub(crate) struct PosixRwLock {
    state: Mutex<RwState>,
    /// Where readers sleep.
    readers_wake: Condvar,
    /// Where writers sleep.
    writers_wake: Condvar,
}

impl PosixRwLock {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn enter_read(&self) {
        let mut state = lock(&self.state);
        state.waiting_readers += 1;
        while !state.readers_may_enter() {
            state = wait(&self.readers_wake, state);
        }
        state.waiting_readers -= 1;
        state.readers += 1;
    }

    fn enter_write(&self) {
        let me = identity::current();
        let mut state = lock(&self.state);
        if state.writer == Some(me) {
            drop(state);
            panic!("HostRwLock::enter(Write) by thread {me}, which already holds it");
        }
        state.waiting_writers += 1;
        while !state.writer_may_enter() {
            state = wait(&self.writers_wake, state);
        }
        state.waiting_writers -= 1;
        state.writer = Some(me);
    }

    /// Wakes whoever may go next after a release: one writer if any waits,
    /// else all readers. Called with the state lock held.
    fn wake_next(&self, state: &RwState) {
        if state.waiting_writers > 0 {
            if state.writer_may_enter() {
                self.writers_wake.notify_one();
            }
        } else if state.writer.is_none() {
            self.readers_wake.notify_all();
        }
    }

    #[cfg(test)]
    fn waiting(&self) -> (usize, usize) {
        let state = lock(&self.state);
        (state.waiting_readers, state.waiting_writers)
    }
}

impl HostRwLock for PosixRwLock {
    fn enter(&self, mode: RwMode) {
        match mode {
            RwMode::Read => self.enter_read(),
            RwMode::Write => self.enter_write(),
        }
    }

    fn try_enter(&self, mode: RwMode) -> bool {
        let mut state = lock(&self.state);
        match mode {
            RwMode::Read if state.readers_may_enter() => state.readers += 1,
            RwMode::Write if state.writer_may_enter() => state.writer = Some(identity::current()),
            _ => return false,
        }
        true
    }

    fn exit(&self) {
        let me = identity::current();
        let mut state = lock(&self.state);
        match state.writer {
            Some(writer) if writer == me => state.writer = None,
            None if state.readers > 0 => state.readers -= 1,
            holder => {
                drop(state);
                panic!(
                    "HostRwLock::exit by thread {me}, which does not hold it (writer {holder:?})"
                );
            }
        }
        self.wake_next(&state);
    }

    fn is_held(&self, mode: RwMode) -> bool {
        let state = lock(&self.state);
        match mode {
            RwMode::Read => state.readers > 0,
            RwMode::Write => state.writer == Some(identity::current()),
        }
    }
}

#[cfg(test)]
mod tests;
