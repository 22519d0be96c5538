//! The event loop's connections and its poll set, side by side and
//! charged to the services' account.
//!
//! `polled[0]` is the listener; `polled[i + 1]` is `connections[i]`'s
//! socket. Removing swaps the last entry into the hole in both vectors,
//! which keeps them aligned. Both grow by doubling; what their capacity
//! holds is charged before they grow and released when they shrink, so
//! the kernel's accounting sees the loop's own cost per connection.

use alloc::vec::Vec;

use kernel::base::memory::Account;
use kernel::net::{Fd, PollEvents, PollFd};

use crate::connection::Connection;

/// Entries both vectors hold at least once they have grown.
const MINIMUM_CAPACITY: usize = 16;

/// The connections and the poll set.
pub(crate) struct Table<S> {
    pub(crate) polled: Vec<PollFd>,
    pub(crate) connections: Vec<Connection<S>>,
    account: Account,
    /// Bytes charged for both vectors' capacity.
    charged: usize,
}

/// The account refused the room for one more connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoRoom;

impl<S> Table<S> {
    /// A table polling `listener` for connections.
    pub(crate) fn new(listener: Fd, account: Account) -> Self {
        Self {
            polled: alloc::vec![PollFd::new(listener, PollEvents::READABLE)],
            connections: Vec::new(),
            account,
            charged: 0,
        }
    }

    /// Bytes one entry costs (a connection and its poll entry).
    pub(crate) const fn entry_bytes() -> usize {
        core::mem::size_of::<Connection<S>>() + core::mem::size_of::<PollFd>()
    }

    /// Open connections.
    pub(crate) fn len(&self) -> usize {
        self.connections.len()
    }

    /// Makes sure one more connection fits, charging any growth.
    ///
    /// # Errors
    /// [`NoRoom`] when the account refuses.
    pub(crate) fn reserve_one(&mut self) -> Result<(), NoRoom> {
        if self.connections.len() < self.connections.capacity() {
            return Ok(());
        }
        let capacity = (2 * self.connections.len()).max(MINIMUM_CAPACITY);
        self.resize(capacity)
    }

    /// Adds `connection`, polled for `events` (after [`Table::reserve_one`]).
    pub(crate) fn push(&mut self, connection: Connection<S>, events: PollEvents) {
        self.polled.push(PollFd::new(connection.fd, events));
        self.connections.push(connection);
    }

    /// Removes connection `index`; the last one takes its place.
    pub(crate) fn remove(&mut self, index: usize) -> Connection<S> {
        self.polled.swap_remove(index + 1);
        let connection = self.connections.swap_remove(index);
        let capacity = self.connections.capacity();
        if capacity > MINIMUM_CAPACITY && self.connections.len() < capacity / 4 {
            let _ = self.resize(capacity / 2);
        }
        connection
    }

    /// Brings both vectors to `capacity` entries, charging or releasing
    /// the difference first.
    fn resize(&mut self, capacity: usize) -> Result<(), NoRoom> {
        let bytes = capacity * Self::entry_bytes();
        if bytes > self.charged {
            self.account
                .charge(bytes - self.charged)
                .map_err(|_| NoRoom)?;
        }
        let additional = capacity.saturating_sub(self.connections.len());
        self.connections.reserve_exact(additional);
        self.polled
            .reserve_exact((capacity + 1).saturating_sub(self.polled.len()));
        self.connections.shrink_to(capacity);
        self.polled.shrink_to(capacity + 1);
        if bytes < self.charged {
            self.account.release(self.charged - bytes);
        }
        self.charged = bytes;
        Ok(())
    }
}

impl<S> Drop for Table<S> {
    fn drop(&mut self) {
        self.account.release(self.charged);
    }
}
