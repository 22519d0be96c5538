//! Memory-mapped device registers: one block, 32-bit volatile accesses.
//!
//! The local APIC, the I/O APIC and the HPET all expose 32-bit registers
//! at byte offsets of a small block. A [`Registers`] value maps such a
//! block uncached ([`paging::map_mmio`], identity, never unmapped) and
//! performs each access as one aligned volatile load or store inside it
//! (offsets are checked). A single access is valid from any context, so a
//! block may be shared with interrupt handlers; sequences that must not
//! interleave (the I/O APIC's index/data pair) need their owner's lock.

use core::ptr::NonNull;

use crate::paging::{self, MapError};

/// A block of 32-bit device registers.
#[derive(Debug)]
pub(crate) struct Registers {
    base: NonNull<u32>,
    length: usize,
}

// SAFETY: the block stays mapped for the life of the image and every
// access is a single aligned volatile operation (see the module docs),
// which is valid from any thread or interrupt handler.
unsafe impl Send for Registers {}
// SAFETY: as above; `&Registers` only performs such single accesses.
unsafe impl Sync for Registers {}

impl Registers {
    /// Maps the `length` bytes of registers at physical `address`.
    ///
    /// # Errors
    /// [`MapError::OutOfRange`] for an address that is not 4-aligned, and
    /// whatever [`paging::map_mmio`] refuses.
    ///
    /// # Safety
    /// `[address, address + length)` must hold device registers, not RAM,
    /// and no read or write of them may change memory the program uses
    /// (the device does no DMA on its own accord).
    pub(crate) unsafe fn map(address: u64, length: usize) -> Result<Self, MapError> {
        if !address.is_multiple_of(4) {
            return Err(MapError::OutOfRange);
        }
        let base = paging::map_mmio(address, length as u64)?;
        Ok(Self {
            base: base.cast(),
            length,
        })
    }

    /// Panics unless `offset` names a whole, aligned register of the block:
    /// offsets are constants of the owning driver, so a bad one is a bug.
    fn check(&self, offset: usize) {
        let inside = offset.checked_add(4).is_some_and(|end| end <= self.length);
        assert!(
            inside && offset.is_multiple_of(4),
            "register offset {offset:#x} outside a {}-byte block",
            self.length
        );
    }

    /// Reads the register at byte `offset`.
    pub(crate) fn read(&self, offset: usize) -> u32 {
        self.check(offset);
        // SAFETY: `map` mapped the block for the life of the image, `check`
        // kept the access aligned and inside it, and `map`'s caller vouched
        // that register accesses cannot change memory the program uses.
        unsafe { self.base.byte_add(offset).read_volatile() }
    }

    /// Writes `value` to the register at byte `offset`.
    pub(crate) fn write(&self, offset: usize, value: u32) {
        self.check(offset);
        // SAFETY: as in `read`.
        unsafe { self.base.byte_add(offset).write_volatile(value) }
    }

    /// Writes the byte-wide register at byte `offset` (ACPI's sleep
    /// control register is one), which must lie inside the block.
    pub(crate) fn write_byte(&self, offset: usize, value: u8) {
        assert!(offset < self.length, "byte {offset:#x} outside the block");
        // SAFETY: as in `read`; a byte access needs no alignment.
        unsafe {
            self.base
                .cast::<u8>()
                .byte_add(offset)
                .write_volatile(value)
        }
    }
}
