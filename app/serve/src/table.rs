//! The event loop's connections: a slab whose slot numbers are the
//! tokens the loop's watch set reports them by, charged to the services'
//! account.
//!
//! A slot keeps its number while its connection lives (the kernel holds
//! it as the token); a freed slot is reused by the next connection. The
//! slab grows by doubling and keeps its largest size, like a descriptor
//! table: what its capacity holds is charged before it grows, so the
//! kernel's accounting sees the loop's own cost per connection.

use alloc::vec::Vec;

use kernel::base::memory::Account;

use crate::connection::Connection;

/// Slots the slab holds at least once it has grown.
const MINIMUM_CAPACITY: usize = 16;

/// The connections.
pub(crate) struct Table<S> {
    slots: Vec<Option<Connection<S>>>,
    /// Free slot numbers, reused last freed first.
    free: Vec<u32>,
    open: usize,
    account: Account,
    /// Bytes charged for the capacity.
    charged: usize,
}

/// The account refused the room for one more connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoRoom;

impl<S> Table<S> {
    /// An empty table charging `account`.
    pub(crate) fn new(account: Account) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            open: 0,
            account,
            charged: 0,
        }
    }

    /// Bytes one slot costs (a connection and its place in the free list).
    pub(crate) const fn entry_bytes() -> usize {
        core::mem::size_of::<Option<Connection<S>>>() + core::mem::size_of::<u32>()
    }

    /// Open connections.
    pub(crate) fn len(&self) -> usize {
        self.open
    }

    /// Makes sure one more connection fits, charging any growth.
    ///
    /// # Errors
    /// [`NoRoom`] when the account refuses.
    pub(crate) fn reserve_one(&mut self) -> Result<(), NoRoom> {
        if !self.free.is_empty() || self.slots.len() < self.slots.capacity() {
            return Ok(());
        }
        let capacity = (2 * self.slots.len()).max(MINIMUM_CAPACITY);
        let bytes = capacity * Self::entry_bytes();
        self.account
            .charge(bytes - self.charged)
            .map_err(|_| NoRoom)?;
        self.charged = bytes;
        self.slots.reserve_exact(capacity - self.slots.len());
        self.free.reserve_exact(capacity - self.free.len());
        Ok(())
    }

    /// Stores `connection` (after [`Table::reserve_one`]); its slot number.
    pub(crate) fn insert(&mut self, connection: Connection<S>) -> usize {
        self.open += 1;
        if let Some(slot) = self.free.pop() {
            self.slots[slot as usize] = Some(connection);
            return slot as usize;
        }
        self.slots.push(Some(connection));
        self.slots.len() - 1
    }

    /// The connection in `slot`, if one is there.
    pub(crate) fn get_mut(&mut self, slot: usize) -> Option<&mut Connection<S>> {
        self.slots.get_mut(slot)?.as_mut()
    }

    /// Takes the connection out of `slot`, freeing the slot.
    pub(crate) fn remove(&mut self, slot: usize) -> Option<Connection<S>> {
        let connection = self.slots.get_mut(slot)?.take()?;
        self.open -= 1;
        self.free.push(slot as u32);
        Some(connection)
    }

    /// Slot numbers, every one that may hold a connection.
    pub(crate) fn slots(&self) -> core::ops::Range<usize> {
        0..self.slots.len()
    }
}

impl<S> Drop for Table<S> {
    fn drop(&mut self) {
        self.account.release(self.charged);
    }
}
