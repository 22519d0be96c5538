//! Device registers in a mapped memory BAR: bounded, volatile access.
//!
//! A [`RegisterWindow`] is made from a [`PciBar`] the host mapped; every
//! access is checked against the BAR's size and its natural alignment, so
//! an offset read from a device (a capability's table offset) can never
//! reach memory outside the BAR. This is one of the faction's two unsafe
//! files; it trusts the host's promise that `virt` maps `size` bytes of
//! device memory for as long as the kernel runs (the `PciBus::bar`
//! contract), as every caller of the hypercall interface does.

#![allow(unsafe_code, reason = "volatile access to device memory")]

use core::ptr::NonNull;

use base::hypercall::{BarKind, PciBar};

/// Volatile access to one mapped memory BAR.
#[derive(Debug)]
pub struct RegisterWindow {
    base: NonNull<u8>,
    size: usize,
}

impl RegisterWindow {
    /// The window over `bar`; `None` for I/O BARs and unmapped ones.
    pub fn from_bar(bar: &PciBar) -> Option<Self> {
        if !matches!(bar.kind, BarKind::Memory { .. }) {
            return None;
        }
        Some(Self {
            base: bar.virt?,
            size: usize::try_from(bar.size).ok()?,
        })
    }

    /// The window's size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Reads the dword at `offset`; `None` if it is outside the window or
    /// not 4-byte aligned.
    pub fn read_u32(&self, offset: usize) -> Option<u32> {
        let register = self.register(offset)?;
        // SAFETY: `register` is 4-aligned and inside the mapped BAR
        // (checked by `register`); the host maps the BAR for the kernel's
        // lifetime; a volatile read of device memory creates no reference.
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

    /// The register at `offset` if it lies wholly inside the window.
    fn register(&self, offset: usize) -> Option<*mut u32> {
        let end = offset.checked_add(4)?;
        if !offset.is_multiple_of(4) || end > self.size {
            return None;
        }
        let address = (self.base.as_ptr() as usize).checked_add(offset)?;
        Some(address as *mut u32)
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
        let bar = PciBar {
            kind: BarKind::Io,
            address: 0xc000,
            size: 32,
            virt: None,
        };
        assert!(RegisterWindow::from_bar(&bar).is_none());
    }
}
