//! Device registers in a host mapping: bounded, volatile access.
//!
//! A [`RegisterWindow`] is made from an [`MmioRegion`], which only a host
//! can make (the hypercall interface's device-memory contract: the region
//! maps device registers, never Rust memory, until the kernel is dropped).
//! Every access is checked against the region's length and its natural
//! alignment, so an offset read from a device (a capability's table
//! offset) can never reach memory outside the mapping. This is one of the
//! faction's two unsafe files.

#![allow(unsafe_code, reason = "volatile access to device memory")]

use base::hypercall::{MmioRegion, PciBar};

/// Volatile access to one register mapping.
#[derive(Debug, Clone)]
pub struct RegisterWindow {
    region: MmioRegion,
}

impl RegisterWindow {
    /// The window over all of `region`.
    pub fn new(region: MmioRegion) -> Self {
        Self { region }
    }

    /// The window over a memory BAR; `None` for I/O BARs.
    pub fn from_bar(bar: &PciBar) -> Option<Self> {
        bar.mapping().cloned().map(Self::new)
    }

    /// The window's size in bytes.
    pub fn size(&self) -> usize {
        self.region.len()
    }

    /// Reads the dword at `offset`; `None` if it is outside the window or
    /// not 4-byte aligned.
    pub fn read_u32(&self, offset: usize) -> Option<u32> {
        let register = self.register(offset)?;
        // SAFETY: `register` is 4-aligned and inside the region (checked by
        // `register`); the region maps device registers for the kernel's
        // lifetime (`MmioRegion::new`'s contract); a volatile read of
        // device memory creates no reference.
        Some(unsafe { register.read_volatile() })
    }

    /// Writes the dword at `offset`; `None` (and no write) if it is outside
    /// the window or not 4-byte aligned.
    pub fn write_u32(&self, offset: usize, value: u32) -> Option<()> {
        let register = self.register(offset)?;
        // SAFETY: as in `read_u32`; device registers are not Rust memory,
        // so a write through a shared window aliases nothing.
        unsafe { register.write_volatile(value) };
        Some(())
    }

    /// The register at `offset` if it lies wholly inside the window and
    /// the mapping's address plus `offset` is 4-byte aligned.
    fn register(&self, offset: usize) -> Option<*mut u32> {
        let end = offset.checked_add(4)?;
        if end > self.region.len() {
            return None;
        }
        let base = self.region.as_ptr().as_ptr();
        let register = base.wrapping_add(offset).cast::<u32>();
        register.is_aligned().then_some(register)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeBus;
    use base::hypercall::{PciAddress, PciBus};

    fn window(size: u64) -> RegisterWindow {
        let bus = FakeBus::new();
        let at: PciAddress = bus.add_function(0, 1, 0, 1, 1);
        bus.add_memory_bar(at, 2, size);
        RegisterWindow::from_bar(&bus.bar(at, 2).unwrap()).unwrap()
    }

    #[test]
    fn reads_back_what_it_wrote_inside_the_bar() {
        let window = window(64);
        assert_eq!(window.write_u32(60, 0xdead_beef), Some(()));
        assert_eq!(window.read_u32(60), Some(0xdead_beef));
        assert_eq!(window.read_u32(0), Some(0));
    }

    #[test]
    fn refuses_offsets_outside_or_misaligned() {
        let window = window(64);
        assert_eq!(window.read_u32(64), None);
        assert_eq!(window.write_u32(62, 1), None);
        assert_eq!(window.read_u32(usize::MAX - 1), None);
        assert_eq!(window.write_u32(usize::MAX - 3, 1), None);
    }

    #[test]
    fn io_bars_have_no_window() {
        assert!(RegisterWindow::from_bar(&PciBar::io(0xc000, 32)).is_none());
    }
}
