//! A kernel service thread that sleeps until it has work.
//!
//! The clock thread and the softint threads each register their lwp here
//! when they start; producers of work call [`Worker::wake`]. A wake before
//! the thread has registered is not needed: the thread looks for work
//! before its first sleep. A wake that arrives while a handler of the
//! thread waits for a lock is consumed by that wait; that loses nothing,
//! because the thread looks for work again before every sleep.

use alloc::sync::Arc;

use crate::context::Context;
use crate::cpu_cell::CpuCell;
use crate::lwp::Lwp;

/// The lwp of a service thread, once it runs.
pub(crate) struct Worker {
    lwp: CpuCell<Option<Arc<Lwp>>>,
}

impl Worker {
    pub(crate) const fn new() -> Self {
        Self {
            lwp: CpuCell::new(None),
        }
    }

    /// Called by the service thread itself when it starts.
    pub(crate) fn register(&self, context: &Context<'_>) {
        let lwp = context.lwp().clone();
        self.lwp.with(context, |slot| *slot = Some(lwp));
    }

    /// Makes the service thread look for work.
    pub(crate) fn wake(&self, context: &Context<'_>) {
        self.lwp.with(context, |slot| {
            if let Some(lwp) = slot {
                lwp.unpark();
            }
        });
    }
}
