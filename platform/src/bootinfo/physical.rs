//! Read access to physical memory, so that the parsers run on the host too.
//!
//! The boot parsers follow the loader's pointers only through
//! [`PhysicalMemory`]: in the image it is the identity map (see
//! `boot::info`), in host tests a byte buffer placed at a chosen address.

/// Bytes of physical memory by address.
pub trait PhysicalMemory {
    /// Up to `length` readable bytes at `address`: fewer where readable
    /// memory ends, none when `address` itself is not readable.
    fn readable(&self, address: u64, length: usize) -> &[u8];

    /// Exactly `length` bytes at `address`, or `None` if not all readable.
    fn bytes(&self, address: u64, length: usize) -> Option<&[u8]> {
        let bytes = self.readable(address, length);
        (bytes.len() == length).then_some(bytes)
    }
}

/// Little-endian u32 at `offset` of `bytes` (the caller checked the length).
pub(crate) fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("four bytes"))
}

/// Little-endian u64 at `offset` of `bytes` (the caller checked the length).
pub(crate) fn u64_at(bytes: &[u8], offset: usize) -> u64 {
    u64::from_le_bytes(bytes[offset..offset + 8].try_into().expect("eight bytes"))
}

/// Host-test memory: a buffer whose first byte has a chosen, 8-aligned
/// physical address; everything else is unreadable.
#[cfg(test)]
pub(crate) mod fake {
    use std::vec::Vec;

    use super::PhysicalMemory;

    /// A buffer mapped at `base`.
    pub struct FakeMemory {
        base: u64,
        storage: Vec<u8>,
        /// Index of the 8-aligned byte that has address `base`.
        first: usize,
        length: usize,
    }

    impl FakeMemory {
        /// `length` zero bytes at `base` (which must be 8-aligned).
        pub fn new(base: u64, length: usize) -> Self {
            assert!(base.is_multiple_of(8));
            let storage = std::vec![0; length + 8];
            let first = storage.as_ptr().align_offset(8);
            Self {
                base,
                storage,
                first,
                length,
            }
        }

        /// Writes `bytes` at physical `address`.
        pub fn write(&mut self, address: u64, bytes: &[u8]) {
            let offset = self.first + (address - self.base) as usize;
            self.storage[offset..offset + bytes.len()].copy_from_slice(bytes);
        }
    }

    impl PhysicalMemory for FakeMemory {
        fn readable(&self, address: u64, length: usize) -> &[u8] {
            let Some(offset) = address.checked_sub(self.base) else {
                return &[];
            };
            let offset = (offset as usize).min(self.length);
            let end = offset.saturating_add(length).min(self.length);
            &self.storage[self.first + offset..self.first + end]
        }
    }
}
