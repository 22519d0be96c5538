//! A slab of values threaded on one intrusive recency list, O(1) throughout.
//!
//! Values live in one `Vec` of slots and are named by slot number. An
//! occupied slot links to its neighbours towards the newest and the oldest
//! end; a vacant slot links to the next vacant one, so a freed slot is
//! reused before the vector grows. Slot numbers are stable while a value
//! lives, which is what lets the hash index hold four-byte slot numbers
//! instead of pointers (and keeps this crate free of `unsafe`).
//!
//! Growth is explicit: the vector doubles (at least 16 slots) through
//! `try_reserve_exact`, so [`Lru::growth_bytes`] can tell the store the
//! cost of the next insertion before it happens, and an allocation failure
//! is an answer, not an abort.

use alloc::vec::Vec;

/// The end of a list; no slot has this number (inserts stop before it).
const NONE: u32 = u32::MAX;
const MINIMUM_GROWTH: usize = 16;

/// The name of an occupied slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotNumber(u32);

#[derive(Debug)]
enum Slot<T> {
    Occupied { value: T, newer: u32, older: u32 },
    Vacant { next_vacant: u32 },
}

/// Values in recency order: promoted or inserted at the newest end,
/// evicted from the oldest.
#[derive(Debug)]
pub(crate) struct Lru<T> {
    slots: Vec<Slot<T>>,
    newest: u32,
    oldest: u32,
    first_vacant: u32,
    len: usize,
}

impl<T> Lru<T> {
    pub(crate) const fn new() -> Lru<T> {
        Lru {
            slots: Vec::new(),
            newest: NONE,
            oldest: NONE,
            first_vacant: NONE,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held by the slot vector, vacant and spare slots included.
    pub(crate) fn allocation_bytes(&self) -> usize {
        self.slots.capacity() * core::mem::size_of::<Slot<T>>()
    }

    /// Bytes the next [`Lru::insert_newest`] would add to the allocation.
    pub(crate) fn growth_bytes(&self) -> usize {
        if self.first_vacant != NONE || self.slots.len() < self.slots.capacity() {
            return 0;
        }
        self.growth_slots() * core::mem::size_of::<Slot<T>>()
    }

    fn growth_slots(&self) -> usize {
        self.slots.capacity().max(MINIMUM_GROWTH)
    }

    /// Inserts `value` as the newest; hands it back if no slot can be had.
    pub(crate) fn insert_newest(&mut self, value: T) -> Result<SlotNumber, T> {
        let number = match self.take_vacant() {
            Some(number) => number,
            None => match self.push_slot() {
                Some(number) => number,
                None => return Err(value),
            },
        };
        let older = self.newest;
        self.slots[number as usize] = Slot::Occupied {
            value,
            newer: NONE,
            older,
        };
        self.attach_newest(number, older);
        self.len += 1;
        Ok(SlotNumber(number))
    }

    fn take_vacant(&mut self) -> Option<u32> {
        let number = self.first_vacant;
        match self.slots.get(number as usize)? {
            Slot::Vacant { next_vacant } => self.first_vacant = *next_vacant,
            Slot::Occupied { .. } => return None,
        }
        Some(number)
    }

    fn push_slot(&mut self) -> Option<u32> {
        let number = u32::try_from(self.slots.len())
            .ok()
            .filter(|&n| n != NONE)?;
        if self.slots.len() == self.slots.capacity() {
            self.slots.try_reserve_exact(self.growth_slots()).ok()?;
        }
        self.slots.push(Slot::Vacant { next_vacant: NONE });
        Some(number)
    }

    /// Links an occupied slot at the newest end; `older` is the old newest.
    fn attach_newest(&mut self, number: u32, older: u32) {
        match self.slots.get_mut(older as usize) {
            Some(Slot::Occupied { newer, .. }) => *newer = number,
            _ => self.oldest = number,
        }
        self.newest = number;
    }

    /// Unlinks a slot from the list, leaving its value in place.
    fn detach(&mut self, number: u32) -> Option<()> {
        let Slot::Occupied { newer, older, .. } = *self.slots.get(number as usize)? else {
            return None;
        };
        match self.slots.get_mut(newer as usize) {
            Some(Slot::Occupied { older: link, .. }) => *link = older,
            _ => self.newest = older,
        }
        match self.slots.get_mut(older as usize) {
            Some(Slot::Occupied { newer: link, .. }) => *link = newer,
            _ => self.oldest = newer,
        }
        Some(())
    }

    /// Removes a value; its slot becomes the first vacant one.
    pub(crate) fn remove(&mut self, slot: SlotNumber) -> Option<T> {
        self.detach(slot.0)?;
        let vacant = Slot::Vacant {
            next_vacant: self.first_vacant,
        };
        let Slot::Occupied { value, .. } =
            core::mem::replace(&mut self.slots[slot.0 as usize], vacant)
        else {
            return None;
        };
        self.first_vacant = slot.0;
        self.len -= 1;
        Some(value)
    }

    /// Makes a value the newest (a use).
    pub(crate) fn promote(&mut self, slot: SlotNumber) {
        if self.newest == slot.0 || self.detach(slot.0).is_none() {
            return;
        }
        let older = self.newest;
        if let Some(Slot::Occupied {
            newer, older: link, ..
        }) = self.slots.get_mut(slot.0 as usize)
        {
            *newer = NONE;
            *link = older;
        }
        self.attach_newest(slot.0, older);
    }

    /// The least recently used value's slot.
    pub(crate) fn oldest(&self) -> Option<SlotNumber> {
        (self.oldest != NONE).then_some(SlotNumber(self.oldest))
    }

    pub(crate) fn get(&self, slot: SlotNumber) -> Option<&T> {
        match self.slots.get(slot.0 as usize)? {
            Slot::Occupied { value, .. } => Some(value),
            Slot::Vacant { .. } => None,
        }
    }

    pub(crate) fn get_mut(&mut self, slot: SlotNumber) -> Option<&mut T> {
        match self.slots.get_mut(slot.0 as usize)? {
            Slot::Occupied { value, .. } => Some(value),
            Slot::Vacant { .. } => None,
        }
    }

    /// Drops every value; the slot vector keeps its capacity.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        *self = Lru {
            slots: core::mem::take(&mut self.slots),
            ..Lru::new()
        };
    }

    /// Bytes one slot takes (tests hold the documentation to it).
    #[cfg(test)]
    pub(crate) const SLOT_BYTES: usize = core::mem::size_of::<Slot<T>>();

    /// Values from the newest to the oldest (tests and invariant checks).
    #[cfg(test)]
    pub(crate) fn newest_first(&self) -> impl Iterator<Item = &T> {
        let mut number = self.newest;
        core::iter::from_fn(move || match self.slots.get(number as usize)? {
            Slot::Occupied { value, older, .. } => {
                number = *older;
                Some(value)
            }
            Slot::Vacant { .. } => None,
        })
    }
}
