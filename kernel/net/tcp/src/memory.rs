//! The engine's memory: every byte it holds is charged to a budget the
//! caller supplies (the kernel's limit), and a refused charge is a clean
//! failure.
//!
//! What a socket holds is its *footprint* ([`Tcb::footprint`]): the boxed
//! control block, its share of the table ([`TABLE_BYTES_PER_SOCKET`]), the
//! storage of its two byte rings and of its flight records, and for a
//! listener its accept queue. Each is charged where it grows and released
//! where it shrinks:
//!
//! | what | charged | released |
//! | --- | --- | --- |
//! | control block and table share | `Table::allocate` (open, a SYN) | `Table::free` |
//! | ring storage | `Ring::reserve` (data arrives or is queued) | `Ring::release` (idle, closed), `Table::free` |
//! | flight records | `Flight::make_room` (before new data is sent) | `Flight::release`, `Table::free` |
//! | accept queue | `listen` | `Table::free` |
//! | TIME-WAIT record (96 bytes, 192 for IPv6: `table/time_waits.rs`) | `Table::bury` | `Table::end_time_wait`, `Table::expire_time_waits` |
//!
//! A refused charge means: a SYN is dropped, `open` and `listen` fail with
//! `NoBuffers`, a segment's data is dropped (the peer retransmits), `send`
//! takes nothing (`NoBuffers`) and new data waits. Nothing is charged per
//! segment once the rings have grown. The invariant check asserts that
//! [`Charges::held`] equals the sum of the footprints and of the records'
//! charges.

use alloc::sync::Arc;

/// Where the engine's memory is charged: the kernel's limit, or nothing.
pub trait MemoryBudget: Send + Sync {
    /// Asks for `bytes` more; false refuses.
    fn charge(&self, bytes: usize) -> bool;
    /// Gives back `bytes` charged before.
    fn release(&self, bytes: usize);
}

/// Bytes of the engine's tables per socket, besides its box: its slot
/// (about 32 bytes), its entry in its family's connection map (20 bytes of
/// key and value for IPv4, 48 for IPv6, in B-tree nodes a little over half
/// full: about 40 or 90), in the timer index (16 bytes, up to twice over
/// with stale entries) and in the event queue (8). An estimate, sized for
/// IPv6; the hosted accounting test checks it against the allocator.
pub const TABLE_BYTES_PER_SOCKET: usize = 160;

/// The engine's running total and its budget.
#[derive(Default)]
pub struct Charges {
    budget: Option<Arc<dyn MemoryBudget>>,
    held: usize,
    refusals: u64,
}

impl Charges {
    /// Charges to `budget` from now on, moving what is held already.
    /// Returns false (and keeps the old budget) if the new one refuses it.
    pub fn set_budget(&mut self, budget: Arc<dyn MemoryBudget>) -> bool {
        if self.held > 0 && !budget.charge(self.held) {
            return false;
        }
        if let Some(old) = self.budget.replace(budget) {
            old.release(self.held);
        }
        true
    }

    /// Asks for `bytes` more; false when the budget refuses.
    pub fn charge(&mut self, bytes: usize) -> bool {
        if bytes == 0 {
            return true;
        }
        if let Some(budget) = &self.budget
            && !budget.charge(bytes)
        {
            self.refusals += 1;
            return false;
        }
        self.held += bytes;
        true
    }

    /// Gives back `bytes`.
    pub fn release(&mut self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        debug_assert!(bytes <= self.held, "released more than was charged");
        let bytes = bytes.min(self.held);
        self.held -= bytes;
        if let Some(budget) = &self.budget {
            budget.release(bytes);
        }
    }

    /// Bytes charged now.
    pub const fn held(&self) -> usize {
        self.held
    }

    /// Charges the budget refused so far.
    pub const fn refusals(&self) -> u64 {
        self.refusals
    }
}

impl Drop for Charges {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.release(self.held);
        }
    }
}

impl core::fmt::Debug for Charges {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("Charges")
            .field("held", &self.held)
            .field("budgeted", &self.budget.is_some())
            .finish()
    }
}
