//! The clean buffers' least-recently-used order, kept lazily.
//!
//! Every use of a clean buffer makes it the most recent. A sorted map
//! costs a removal and an insertion per use, and a sequential reader
//! uses every block it reads; here a use only appends `(order, key)`
//! and the buffer remembers its newest order. Entries whose buffer has
//! since been used again, left the clean order or gone are stale: the
//! oldest live entry is found by dropping stale ones from the front, and
//! when stale entries outnumber the live ones the queue is compacted, so
//! it stays within twice the buffers (plus a little) and each entry is
//! dropped once: every operation is constant time on average.

use alloc::collections::VecDeque;

use super::Key;

/// Entries kept before stale ones are worth a compaction.
const SLACK: usize = 64;

/// Clean buffers, oldest use first, stale entries among them.
#[derive(Debug, Default)]
pub(crate) struct Recency {
    queue: VecDeque<(u64, Key)>,
}

impl Recency {
    /// `key` was used at `order` (each order is used once, increasing);
    /// `live` tells whether an entry still stands for its buffer, and
    /// `buffers` how many buffers there are.
    pub(crate) fn push(
        &mut self,
        order: u64,
        key: Key,
        buffers: usize,
        live: impl Fn(u64, &Key) -> bool,
    ) {
        if self.queue.len() >= 2 * buffers + SLACK {
            self.queue.retain(|(order, key)| live(*order, key));
        }
        self.queue.push_back((order, key));
    }

    /// The least recently used buffer that `live` accepts, if any; the
    /// stale entries before it are dropped (it stays).
    pub(crate) fn oldest(&mut self, live: impl Fn(u64, &Key) -> bool) -> Option<Key> {
        while let Some((order, key)) = self.queue.front() {
            if live(*order, key) {
                return Some(*key);
            }
            self.queue.pop_front();
        }
        None
    }

    /// Entries held, stale ones included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(block: u64) -> Key {
        Key {
            disk: 0,
            block_size: 512,
            block,
        }
    }

    #[test]
    fn the_oldest_live_entry_comes_first() {
        let mut recency = Recency::default();
        let newest = |order: u64, key: &Key| order == [3, 1, 2][key.block as usize];
        for (order, block) in [(0, 0), (1, 1), (2, 2), (3, 0)] {
            recency.push(order, key(block), 3, newest);
        }
        assert_eq!(recency.oldest(newest), Some(key(1)));
        assert_eq!(recency.len(), 3, "the stale entry of block 0 is gone");
        assert_eq!(recency.oldest(|_, _| false), None);
    }

    #[test]
    fn many_uses_of_one_buffer_stay_bounded() {
        let mut recency = Recency::default();
        let mut latest = 0;
        for order in 0..10_000 {
            latest = order;
            recency.push(order, key(7), 1, |order, _| order == latest);
        }
        assert!(recency.len() <= 2 + SLACK + 1, "{} entries", recency.len());
        assert_eq!(recency.oldest(|order, _| order == latest), Some(key(7)));
    }
}
