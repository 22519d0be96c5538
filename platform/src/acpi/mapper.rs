//! How the `acpi` crate reaches memory: [`PhysicalMemory`], never beyond it.
//!
//! The crate asks its `AcpiHandler` for `size` bytes holding a `T` at a
//! physical address and cannot be told no. [`Mapper`] lends the bytes
//! [`PhysicalMemory`] has there when all of `max(size, size_of::<T>())`
//! are readable, at most [`MAXIMUM_MAPPING`] long and aligned for `T`,
//! and `size` is at least a table header (or the whole `T` if smaller).
//! Anything else gets `UNREADABLE`: zero bytes. No ACPI structure
//! validates as zeroes (each starts with a signature), and the crate takes
//! every further length from the structure itself, so it reports the table
//! missing and reads nothing more. Nothing is unmapped: the image reads
//! through its identity map, host tests through a buffer.
//!
//! The same memory answers our guards ([`Mapper::bytes`]), so what they
//! check is what the crate then reads.

use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use acpi::sdt::SdtHeader;
use acpi::{AcpiHandler, PhysicalMapping};

use crate::bootinfo::PhysicalMemory;

/// Bytes of a system description table header.
pub const HEADER_LENGTH: usize = size_of::<SdtHeader>();
/// Tables larger than this are taken for garbage.
pub const MAXIMUM_MAPPING: usize = 1 << 20;

/// What the crate reads where memory is not readable (see the module
/// docs): as large as the largest structure it maps, the FADT (checked
/// for each `T` when it is compiled in).
#[repr(C, align(8))]
struct Zeroes([u8; 280]);

static UNREADABLE: Zeroes = Zeroes([0; 280]);

/// The crate's window on `memory`.
#[derive(Debug)]
pub struct Mapper<'m, M> {
    memory: &'m M,
}

impl<M> Clone for Mapper<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Mapper<'_, M> {}

impl<'m, M: PhysicalMemory> Mapper<'m, M> {
    /// A mapper that lends `memory`.
    pub fn new(memory: &'m M) -> Self {
        Self { memory }
    }

    /// Exactly `length` readable bytes at `address`, or `None`.
    pub fn bytes(&self, address: u64, length: usize) -> Option<&'m [u8]> {
        self.memory.bytes(address, length)
    }

    /// The bytes the crate may read as a `T` of `size` bytes at `address`
    /// (see the module docs for the rules).
    fn lend<T>(&self, address: usize, size: usize) -> Option<&'m [u8]> {
        let length = size.max(size_of::<T>());
        if size < size_of::<T>().min(HEADER_LENGTH) || length > MAXIMUM_MAPPING {
            return None;
        }
        let bytes = self.bytes(u64::try_from(address).ok()?, length)?;
        bytes.as_ptr().cast::<T>().is_aligned().then_some(bytes)
    }
}

impl<M: PhysicalMemory> AcpiHandler for Mapper<'_, M> {
    unsafe fn map_physical_region<T>(
        &self,
        address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        const {
            assert!(size_of::<T>() <= size_of::<Zeroes>() && align_of::<T>() <= 8);
        }
        let bytes = self.lend::<T>(address, size).unwrap_or(&UNREADABLE.0);
        let start = NonNull::from(bytes).cast::<T>();
        // SAFETY: `bytes` is readable memory that outlives the mapping
        // (it is borrowed from `self.memory`, which the mapping's copy of
        // `self` borrows too, or it is the static block), at least
        // `size_of::<T>()` long and aligned for `T`. The crate only reads
        // through mappings, so lending shared bytes is sound.
        unsafe { PhysicalMapping::new(address, start, bytes.len(), bytes.len(), *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootinfo::physical::fake::FakeMemory;

    fn lent<T>(memory: &FakeMemory, address: usize, size: usize) -> bool {
        // SAFETY: the mapper lends only readable bytes or the static block.
        let mapping = unsafe { Mapper::new(memory).map_physical_region::<T>(address, size) };
        !core::ptr::eq(
            mapping.virtual_start().as_ptr().cast::<u8>(),
            UNREADABLE.0.as_ptr(),
        )
    }

    #[test]
    fn lends_readable_memory_and_refuses_the_rest() {
        let memory = FakeMemory::new(0x1000, 0x1000);
        assert!(lent::<SdtHeader>(&memory, 0x1000, HEADER_LENGTH));
        assert!(lent::<u8>(&memory, 0x1fff, 1));
        assert!(
            !lent::<SdtHeader>(&memory, 0x1ff0, HEADER_LENGTH),
            "runs off"
        );
        assert!(!lent::<SdtHeader>(&memory, 0x1000, 0x1001), "runs off");
        assert!(
            !lent::<SdtHeader>(&memory, 0x1000, 35),
            "shorter than a header"
        );
        assert!(!lent::<u16>(&memory, 0x1001, 2), "misaligned");
        assert!(!lent::<SdtHeader>(&memory, 0, HEADER_LENGTH));
        let large = FakeMemory::new(0, MAXIMUM_MAPPING + 1);
        assert!(
            !lent::<SdtHeader>(&large, 0, MAXIMUM_MAPPING + 1),
            "too large"
        );
    }
}
