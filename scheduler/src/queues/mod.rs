//! The queues of threads waiting for the CPU: runnable and sleeping.
//!
//! Threads are named by their table index (u32). Both queues reserve their
//! memory when a thread is spawned, so scheduling never allocates.

mod deadline;

use alloc::collections::{TryReserveError, VecDeque};

pub(crate) use deadline::DeadlineQueue;

/// Runnable threads, first in first out.
pub(crate) struct RunQueue {
    /// Capacity is kept at least the number of threads (see `reserve`), and
    /// a thread is queued at most once, so pushing never allocates.
    queue: VecDeque<u32>,
}

impl RunQueue {
    pub(crate) const fn new() -> Self {
        Self {
            queue: VecDeque::new(),
        }
    }

    /// Makes room for `threads` queued threads.
    pub(crate) fn reserve(&mut self, threads: usize) -> Result<(), TryReserveError> {
        self.queue
            .try_reserve(threads.saturating_sub(self.queue.len()))
    }

    /// Appends a thread at the back.
    pub(crate) fn push(&mut self, thread: u32) {
        debug_assert!(
            self.queue.len() < self.queue.capacity(),
            "run queue has reserved room"
        );
        self.queue.push_back(thread);
    }

    /// Takes the thread at the front.
    pub(crate) fn pop(&mut self) -> Option<u32> {
        self.queue.pop_front()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_queue_is_first_in_first_out() {
        let mut queue = RunQueue::new();
        queue.reserve(3).expect("memory for 3 entries");
        [2, 0, 1].into_iter().for_each(|thread| queue.push(thread));
        assert_eq!(queue.len(), 3);
        assert_eq!(
            [queue.pop(), queue.pop(), queue.pop(), queue.pop()],
            [Some(2), Some(0), Some(1), None]
        );
    }
}
