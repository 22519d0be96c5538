//! The host mutex: a cell for the owner and a queue with hand-off.

use core::cell::Cell;

use hypercall::{HostMutex, ThreadId};

use super::WaitQueue;
use crate::global::scheduler;

/// A mutex on the cooperative scheduler.
pub(crate) struct BareMutex {
    /// The owner's thread id, 0 when free.
    owner: Cell<u64>,
    queue: WaitQueue,
}

// SAFETY: single CPU, no preemption, never used by interrupt handlers (see
// the module docs of `sync`): accesses from different threads never overlap.
unsafe impl Sync for BareMutex {}
// SAFETY: the cells hold plain ids; moving them between threads is fine.
unsafe impl Send for BareMutex {}

impl BareMutex {
    pub(crate) const fn new() -> Self {
        Self {
            owner: Cell::new(0),
            queue: WaitQueue::new(),
        }
    }
}

// SAFETY: `owner` admits one thread at a time: `enter` takes a free mutex
// or sleeps until `exit` hands it over, and only the owner may `exit`. One
// CPU without preemption orders every access (see the module docs).
unsafe impl HostMutex for BareMutex {
    fn enter(&self) {
        let me = scheduler().current().0;
        if self.owner.get() == 0 {
            self.owner.set(me);
            return;
        }
        assert_ne!(self.owner.get(), me, "host mutex entered twice");
        self.queue.enqueue_current();
        scheduler().block();
        // `exit` handed the mutex over before waking us.
        debug_assert_eq!(self.owner.get(), me);
    }

    fn exit(&self) {
        assert_eq!(
            self.owner.get(),
            scheduler().current().0,
            "host mutex released by a thread that does not hold it"
        );
        match self.queue.pop_front() {
            Some(next) => {
                self.owner.set(next.0);
                scheduler().wake(next);
            }
            None => self.owner.set(0),
        }
    }

    fn owner(&self) -> Option<ThreadId> {
        Some(self.owner.get()).filter(|&id| id != 0).map(ThreadId)
    }
}
