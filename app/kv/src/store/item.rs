//! One cached item, its memory cost, and the shared handle to its value.
//!
//! An item's key and value share one reference-counted allocation (key
//! first). A `get` hands out a [`Value`], a second reference to that
//! allocation, so a session can send a large value without copying it and
//! the store can replace or evict the item meanwhile: the bytes live until
//! the last reference is sent, as memcached's item reference counts do.

use alloc::sync::Arc;
use core::ops::Deref;

use crate::clock::Deadline;

/// Bytes charged per item beyond its key and value: the reference counts
/// in front of the shared allocation (two words) and two more words for
/// the allocator's header and rounding. The item's slot and index bucket
/// are charged separately, as the index's whole allocation.
pub const ITEM_ALLOCATION_OVERHEAD: usize = 4 * core::mem::size_of::<usize>();

/// A stored item. Invariant: `data[..key_length]` is a valid key.
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) data: Arc<[u8]>,
    pub(crate) expires: Deadline,
    pub(crate) cas: u64,
    pub(crate) flags: u32,
    pub(crate) key_length: u8,
    /// Whether a `get` returned it since it was stored (for the
    /// `*_unfetched` statistics).
    pub(crate) fetched: bool,
}

impl Item {
    /// A new item: `key`, then the value made of `value_parts` end to end.
    pub(crate) fn new(key: &[u8], value_parts: [&[u8]; 3], flags: u32) -> Item {
        let [first, second, third] = value_parts;
        Item {
            data: concatenate([key, first, second, third]),
            expires: Deadline::NEVER,
            cas: 0,
            flags,
            key_length: u8::try_from(key.len()).unwrap_or(u8::MAX),
            fetched: false,
        }
    }

    pub(crate) fn key(&self) -> &[u8] {
        self.data.get(..usize::from(self.key_length)).unwrap_or(&[])
    }

    pub(crate) fn value(&self) -> &[u8] {
        self.data.get(usize::from(self.key_length)..).unwrap_or(&[])
    }

    /// The bytes this item is charged against the memory limit.
    pub(crate) fn cost(&self) -> usize {
        self.data.len() + ITEM_ALLOCATION_OVERHEAD
    }

    /// What a `get` returns: the metadata and a reference to the value.
    pub(crate) fn hit(&self) -> Hit {
        Hit {
            flags: self.flags,
            cas: self.cas,
            value: Value {
                data: Arc::clone(&self.data),
                start: usize::from(self.key_length),
            },
        }
    }
}

/// One shared allocation holding `parts` end to end: zeroed in place
/// (one allocation, no unsafe), then filled by `memcpy`.
fn concatenate(parts: [&[u8]; 4]) -> Arc<[u8]> {
    let length = parts.iter().map(|part| part.len()).sum();
    let mut data: Arc<[u8]> = core::iter::repeat_n(0, length).collect();
    if let Some(mut rest) = Arc::get_mut(&mut data) {
        for part in parts {
            let (head, tail) = rest.split_at_mut(part.len());
            head.copy_from_slice(part);
            rest = tail;
        }
    }
    data
}

/// An item as a retrieval returns it.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The client's opaque 32 bits, stored with the value.
    pub flags: u32,
    /// The item's CAS unique: it changes on every modification.
    pub cas: u64,
    /// The value's bytes, shared with the store.
    pub value: Value,
}

/// A reference to a stored value's bytes; cloning it is cheap.
#[derive(Clone, Debug)]
pub struct Value {
    data: Arc<[u8]>,
    start: usize,
}

impl Value {
    /// The value's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.data.get(self.start..).unwrap_or(&[])
    }
}

impl Deref for Value {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Value {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}
