//! The deadline queue: an indexed binary min-heap of blocked threads.
//!
//! Entries order by deadline, then by insertion (equal deadlines wake in
//! the order they were set). `positions` maps a thread index to its place in
//! the heap, so a thread woken before its deadline is removed in O(log n)
//! instead of leaving a stale entry behind.

use alloc::{collections::TryReserveError, vec::Vec};

/// `positions` value of a thread that is not in the heap.
const ABSENT: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    deadline_ns: u64,
    /// Insertion order, for ties.
    sequence: u64,
    thread: u32,
}

impl Entry {
    fn key(&self) -> (u64, u64) {
        (self.deadline_ns, self.sequence)
    }
}

/// Blocked threads with a deadline, earliest first.
pub(crate) struct DeadlineQueue {
    heap: Vec<Entry>,
    /// Heap position of each thread index, or ABSENT.
    positions: Vec<u32>,
    next_sequence: u64,
}

impl DeadlineQueue {
    pub(crate) const fn new() -> Self {
        Self {
            heap: Vec::new(),
            positions: Vec::new(),
            next_sequence: 0,
        }
    }

    /// Makes room for threads with indices below `index_bound`, so that
    /// `insert` never allocates.
    pub(crate) fn reserve(&mut self, index_bound: usize) -> Result<(), TryReserveError> {
        self.heap
            .try_reserve(index_bound.saturating_sub(self.heap.len()))?;
        self.positions
            .try_reserve(index_bound.saturating_sub(self.positions.len()))?;
        if self.positions.len() < index_bound {
            self.positions.resize(index_bound, ABSENT);
        }
        Ok(())
    }

    /// Adds `thread` (not in the queue yet) with its deadline.
    pub(crate) fn insert(&mut self, thread: u32, deadline_ns: u64) {
        debug_assert_eq!(
            self.positions[thread as usize], ABSENT,
            "thread queued twice"
        );
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.heap.push(Entry {
            deadline_ns,
            sequence,
            thread,
        });
        let last = self.heap.len() - 1;
        self.place(last);
        self.sift_up(last);
    }

    /// Removes `thread`; false if it was not in the queue.
    pub(crate) fn remove(&mut self, thread: u32) -> bool {
        let position = self
            .positions
            .get(thread as usize)
            .copied()
            .unwrap_or(ABSENT);
        if position == ABSENT {
            return false;
        }
        self.remove_at(position as usize);
        true
    }

    /// The earliest deadline, if any thread waits.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.heap.first().map(|entry| entry.deadline_ns)
    }

    /// Removes and returns a thread whose deadline is at or before `now_ns`.
    pub(crate) fn pop_expired(&mut self, now_ns: u64) -> Option<u32> {
        let first = self.heap.first()?;
        if first.deadline_ns > now_ns {
            return None;
        }
        let thread = first.thread;
        self.remove_at(0);
        Some(thread)
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    fn remove_at(&mut self, position: usize) {
        let removed = self.heap.swap_remove(position);
        self.positions[removed.thread as usize] = ABSENT;
        if position < self.heap.len() {
            self.place(position);
            self.sift_up(position);
            self.sift_down(position);
        }
    }

    fn sift_up(&mut self, mut position: usize) {
        while position > 0 {
            let parent = (position - 1) / 2;
            if self.heap[parent].key() <= self.heap[position].key() {
                return;
            }
            self.swap(parent, position);
            position = parent;
        }
    }

    fn sift_down(&mut self, mut position: usize) {
        loop {
            let left = 2 * position + 1;
            let right = left + 1;
            let mut smallest = position;
            for child in [left, right] {
                if child < self.heap.len() && self.heap[child].key() < self.heap[smallest].key() {
                    smallest = child;
                }
            }
            if smallest == position {
                return;
            }
            self.swap(smallest, position);
            position = smallest;
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.place(a);
        self.place(b);
    }

    /// Records where the entry at `position` now is.
    fn place(&mut self, position: usize) {
        let thread = self.heap[position].thread as usize;
        self.positions[thread] =
            u32::try_from(position).expect("the heap holds fewer than 2^32 threads");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn queue_with(deadlines: &[u64]) -> DeadlineQueue {
        let mut queue = DeadlineQueue::new();
        queue
            .reserve(deadlines.len())
            .expect("memory for the test queue");
        for (thread, deadline) in deadlines.iter().enumerate() {
            queue.insert(u32::try_from(thread).expect("few threads"), *deadline);
        }
        queue
    }

    fn drain(queue: &mut DeadlineQueue, now_ns: u64) -> Vec<u32> {
        core::iter::from_fn(|| queue.pop_expired(now_ns)).collect()
    }

    #[test]
    fn threads_pop_in_deadline_order_and_ties_in_insertion_order() {
        let mut queue = queue_with(&[50, 10, 40, 10, 30, 20, 60, 10]);
        assert_eq!(queue.next_deadline(), Some(10));
        assert_eq!(drain(&mut queue, 35), [1, 3, 7, 5, 4]);
        assert_eq!(queue.next_deadline(), Some(40));
        assert_eq!(drain(&mut queue, u64::MAX), [2, 0, 6]);
        assert!(queue.is_empty());
    }

    #[test]
    fn removed_threads_never_pop_and_the_order_survives() {
        let mut queue = queue_with(&[70, 10, 40, 30, 20, 60, 50]);
        assert!(queue.remove(1));
        assert!(queue.remove(5));
        assert!(!queue.remove(5));
        assert!(!queue.remove(99));
        assert_eq!(queue.len(), 5);
        assert_eq!(drain(&mut queue, u64::MAX), [4, 3, 2, 6, 0]);
        queue.insert(5, 1);
        assert_eq!(drain(&mut queue, 0), []);
        assert_eq!(drain(&mut queue, 1), [5]);
    }
}
