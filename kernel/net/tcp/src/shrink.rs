//! The engine's memory as its caller sees it: the budget it charges, what
//! it holds, and giving back the buffers of idle connections.
//!
//! A connection that holds no data (nothing queued, in flight, readable
//! or out of order) keeps the storage its rings and flight records grew
//! to, so the next burst costs no allocation. Under memory pressure the
//! kernel's pagedaemon asks [`Tcp::shrink_idle`] to give that storage
//! back from connections that have received nothing for a while; a ring
//! is allocated again (and charged again) when data next comes, and the
//! window the connection advertises does not change.

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::engine::Tcp;
use crate::memory::MemoryBudget;
use crate::tcb::Tcb;

impl Tcp {
    /// Charges everything the engine holds to `budget` from now on (what
    /// is held already moves over). False if `budget` refuses that.
    pub fn set_memory_budget(&mut self, budget: Arc<dyn MemoryBudget>) -> bool {
        self.context.memory.set_budget(budget)
    }

    /// Bytes the engine holds and has charged: control blocks, table
    /// shares, buffers, flight records, accept queues.
    pub fn memory_held(&self) -> usize {
        self.context.memory.held()
    }

    /// Gives back the buffers of every connection that holds no data and
    /// has received nothing for `idle_ns` (0: however recently); returns
    /// the bytes freed. Visits every socket once.
    pub fn shrink_idle(&mut self, now_ns: u64, idle_ns: u64) -> usize {
        self.indexed(|tcp| tcp.shrink_connections(now_ns, idle_ns))
    }

    fn shrink_connections(&mut self, now_ns: u64, idle_ns: u64) -> usize {
        let idle = |tcb: &&Tcb| {
            tcb.storage_bytes() > 0
                && tcb.role.listener().is_none()
                && tcb.holds_no_data()
                && now_ns.saturating_sub(tcb.last_received_ns) >= idle_ns
        };
        let candidates: Vec<u32> = self
            .table
            .iter()
            .filter(idle)
            .map(|tcb| tcb.handle.index())
            .collect();
        let mut freed = 0;
        for index in candidates {
            if let Some(tcb) = self.table.at(index) {
                freed += tcb.shrink(&mut self.context.memory);
                self.context.stats.buffers_shrunk += 1;
            }
        }
        freed
    }
}
