//! A connection's byte buffer: allocated on first use, charged to the
//! services' memory account, freed (and the charge released) once empty.
//!
//! An idle connection holds no bytes: an empty [`Buffer`] is one null
//! pointer. Bytes go in at the back and leave at the front; the storage
//! is compacted when the front passes half of it, so a buffer that keeps
//! receiving and sending does not creep. What the buffer holds is charged
//! as its capacity plus its own header, released on emptying and on drop.

use alloc::boxed::Box;
use alloc::vec::Vec;

use kernel::base::memory::Account;

/// The smallest storage a buffer allocates.
const MINIMUM_CAPACITY: usize = 256;

/// Bytes waiting, charged while held.
#[derive(Debug, Default)]
pub struct Buffer {
    held: Option<Box<Held>>,
}

/// The buffer's storage and the account it is charged to.
#[derive(Debug)]
struct Held {
    account: Account,
    bytes: Vec<u8>,
    /// Bytes at the front already taken.
    start: usize,
    /// Bytes charged now.
    charged: usize,
}

/// The memory account refused the buffer's growth; nothing was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

impl Buffer {
    /// An empty buffer (no allocation).
    pub const fn new() -> Self {
        Self { held: None }
    }

    /// The bytes waiting.
    pub fn as_slice(&self) -> &[u8] {
        self.held
            .as_ref()
            .map_or(&[], |held| &held.bytes[held.start..])
    }

    /// How many bytes wait.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.held.is_none()
    }

    /// Adds `bytes` at the back, charging `account` for any growth.
    ///
    /// # Errors
    /// [`Refused`] when the account refuses; the buffer is as it was.
    pub fn extend(&mut self, account: &Account, bytes: &[u8]) -> Result<(), Refused> {
        if bytes.is_empty() {
            return Ok(());
        }
        let held = match &mut self.held {
            Some(held) => held,
            None => self.held.insert(Held::new(account)?),
        };
        let grown = held.grow(bytes);
        if grown.is_err() && held.bytes.is_empty() {
            self.held = None;
        }
        grown
    }

    /// Takes `count` bytes off the front; an emptied buffer is freed.
    pub fn consume(&mut self, count: usize) {
        let Some(held) = &mut self.held else {
            return;
        };
        held.start = (held.start + count).min(held.bytes.len());
        if held.start == held.bytes.len() {
            self.held = None;
        } else if held.start > held.bytes.len() / 2 {
            held.compact();
        }
    }

    /// Bytes this buffer has charged (0 when empty).
    pub fn charged(&self) -> usize {
        self.held.as_ref().map_or(0, |held| held.charged)
    }
}

impl Held {
    /// An empty holding, its header charged.
    fn new(account: &Account) -> Result<Box<Self>, Refused> {
        let header = core::mem::size_of::<Self>();
        account.charge(header).map_err(|_| Refused)?;
        Ok(Box::new(Self {
            account: account.clone(),
            bytes: Vec::new(),
            start: 0,
            charged: header,
        }))
    }

    /// Appends `bytes`, charging the storage first. (`reserve_exact`
    /// gives a `Vec<u8>` exactly the capacity asked for, so the charge is
    /// its storage.)
    fn grow(&mut self, bytes: &[u8]) -> Result<(), Refused> {
        let needed = self.bytes.len() + bytes.len();
        let capacity = self.bytes.capacity();
        if needed > capacity {
            let wanted = needed.max(2 * capacity).max(MINIMUM_CAPACITY);
            self.account
                .charge(wanted - capacity)
                .map_err(|_| Refused)?;
            self.bytes.reserve_exact(wanted - self.bytes.len());
            self.charged += wanted - capacity;
        }
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    /// Moves the waiting bytes to the front of the storage.
    fn compact(&mut self) {
        self.bytes.drain(..self.start);
        self.start = 0;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.account.release(self.charged);
    }
}

#[cfg(test)]
mod tests;
