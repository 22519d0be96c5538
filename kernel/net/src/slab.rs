//! A slab of values addressed by generation-checked handles.
//!
//! Sockets and UDP endpoints live here: a freed slot is reused, and its
//! generation bumped, so a stale handle (a descriptor closed by another
//! thread) finds nothing instead of someone else's socket.

use alloc::vec::Vec;

/// A slot number and the generation it was handed out in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlabKey {
    index: u32,
    generation: u32,
}

impl SlabKey {
    /// The slot number (small, dense: usable as a descriptor number).
    pub fn index(self) -> u32 {
        self.index
    }
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// The slab.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    limit: usize,
}

impl<T> Slab<T> {
    /// An empty slab holding at most `limit` values.
    pub const fn new(limit: usize) -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            limit,
        }
    }

    /// Stores `value`; `None` when the slab is full.
    pub fn insert(&mut self, value: T) -> Option<SlabKey> {
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            return Some(SlabKey {
                index,
                generation: slot.generation,
            });
        }
        if self.slots.len() >= self.limit {
            return None;
        }
        let index = u32::try_from(self.slots.len()).ok()?;
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        Some(SlabKey {
            index,
            generation: 0,
        })
    }

    /// The value behind `key`, if it is still there.
    pub fn get(&self, key: SlabKey) -> Option<&T> {
        let slot = self.slots.get(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.value.as_ref()
    }

    /// The value behind `key`, writable.
    pub fn get_mut(&mut self, key: SlabKey) -> Option<&mut T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.value.as_mut()
    }

    /// Takes the value out and frees the slot.
    pub fn remove(&mut self, key: SlabKey) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(key.index);
        Some(value)
    }

    /// Values stored.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Every stored value with its key.
    pub fn iter(&self) -> impl Iterator<Item = (SlabKey, &T)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let key = SlabKey {
                index: index as u32,
                generation: slot.generation,
            };
            slot.value.as_ref().map(|value| (key, value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_find_nothing_and_slots_are_reused() {
        let mut slab = Slab::new(2);
        let a = slab.insert("a").unwrap();
        let b = slab.insert("b").unwrap();
        assert!(slab.insert("c").is_none(), "full");
        assert_eq!(slab.remove(a), Some("a"));
        assert_eq!(slab.get(a), None);
        let c = slab.insert("c").unwrap();
        assert_eq!(c.index(), a.index());
        assert_ne!(c, a);
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.get(c), Some(&"c"));
        assert_eq!(slab.get(b), Some(&"b"));
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.iter().count(), 2);
    }
}
