//! Giving memory back to the pagedaemon: clean buffers go, dirty ones are
//! handed to the syncer.
//!
//! At [`ReclaimLevel::Idle`] the older half of the clean buffers is
//! dropped; at [`ReclaimLevel::Urgent`] every clean buffer. Dirty buffers
//! cannot be dropped without losing writes, so the syncer is woken to
//! write them back, and the pagedaemon's next pass finds them clean. As
//! every reclaimer must, it never sleeps on the cache's lock: when the
//! lock is taken it gives nothing this pass.

use core::sync::atomic::Ordering::Relaxed;

use base::Context;
use base::memory::{Reclaim, ReclaimLevel};

use super::BUFFER_OVERHEAD;
use crate::registry::Block;

impl Reclaim for Block {
    fn reclaim(&self, context: &Context<'_>, level: ReclaimLevel) -> usize {
        let Some(mut table) = self.cache.table.try_lock(context) else {
            return 0;
        };
        let idle = table.bytes().saturating_sub(table.dirty_bytes());
        let target = match level {
            ReclaimLevel::Idle => idle / 2,
            ReclaimLevel::Urgent => usize::MAX,
        };
        let mut freed = 0;
        while freed < target {
            let Some(size) = table.evict_oldest_clean() else {
                break;
            };
            freed += size + BUFFER_OVERHEAD;
        }
        self.cache.account.release(freed);
        if table.dirty_bytes() > 0 {
            self.wake_syncer(context, &mut table);
        }
        let counters = &self.cache.counters;
        counters.reclaimed_bytes.fetch_add(freed as u64, Relaxed);
        freed
    }
}
