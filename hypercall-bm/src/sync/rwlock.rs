//! The host rwlock: writer-preferring, with hand-off on release.

use core::cell::Cell;

use hypercall::{HostRwLock, RwMode};

use super::WaitQueue;
use crate::global::scheduler;

/// What the lock is held for: readers count up, a writer is `WRITER`.
const WRITER: isize = -1;

/// A reader/writer lock on the cooperative scheduler.
pub(crate) struct BareRwLock {
    /// Number of readers, or `WRITER`.
    state: Cell<isize>,
    /// The writing thread's id, 0 when none.
    writer: Cell<u64>,
    queue: WaitQueue<RwMode>,
}

// SAFETY: single CPU, no preemption, never used by interrupt handlers (see
// the module docs of `sync`).
unsafe impl Sync for BareRwLock {}
// SAFETY: the cells hold plain values.
unsafe impl Send for BareRwLock {}

impl BareRwLock {
    pub(crate) const fn new() -> Self {
        Self {
            state: Cell::new(0),
            writer: Cell::new(0),
            queue: WaitQueue::new(),
        }
    }

    fn can_take(&self, mode: RwMode) -> bool {
        match mode {
            RwMode::Read => self.state.get() >= 0 && !self.queue.contains_kind(RwMode::Write),
            RwMode::Write => self.state.get() == 0,
        }
    }

    fn take(&self, mode: RwMode, thread: u64) {
        match mode {
            RwMode::Read => self.state.set(self.state.get() + 1),
            RwMode::Write => {
                self.state.set(WRITER);
                self.writer.set(thread);
            }
        }
    }

    /// Hands the free lock to the first queued writer, or else to every
    /// queued reader.
    fn grant(&self) {
        if let Some(writer) = self.queue.pop_kind(RwMode::Write) {
            self.take(RwMode::Write, writer.0);
            scheduler().wake(writer);
            return;
        }
        while self.queue.front_kind() == Some(RwMode::Read) {
            let (reader, _) = self.queue.pop_front().expect("front exists");
            self.take(RwMode::Read, reader.0);
            scheduler().wake(reader);
        }
    }
}

impl HostRwLock for BareRwLock {
    fn enter(&self, mode: RwMode) {
        if self.try_enter(mode) {
            return;
        }
        self.queue.enqueue_current(mode);
        scheduler().block();
    }

    fn try_enter(&self, mode: RwMode) -> bool {
        if !self.can_take(mode) {
            return false;
        }
        self.take(mode, scheduler().current().0);
        true
    }

    fn exit(&self) {
        match self.state.get() {
            WRITER => {
                self.state.set(0);
                self.writer.set(0);
            }
            readers => {
                assert!(readers > 0, "rwlock released while not held");
                self.state.set(readers - 1);
            }
        }
        if self.state.get() == 0 {
            self.grant();
        }
    }

    fn is_held(&self, mode: RwMode) -> bool {
        match mode {
            RwMode::Read => self.state.get() > 0,
            RwMode::Write => {
                self.state.get() == WRITER && self.writer.get() == scheduler().current().0
            }
        }
    }
}
