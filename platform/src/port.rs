//! I/O ports owned by one module each, read and written without `unsafe`.
//!
//! Port I/O is `unsafe` because a port can reach anything: the interrupt
//! controller, the reset register, a DMA engine. An [`OwnedPort`] moves the
//! proof to the one place a fixed port is named, its `unsafe` constructor,
//! whose caller states that its module alone uses the port and how no
//! access to it can break memory safety. Every access after that is safe.
//! Ports chosen at run time (PCI I/O BARs) are checked where they are used.

use core::marker::PhantomData;

use x86_64::structures::port::{PortRead, PortWrite};

/// An I/O port of width `T` (`u8`, `u16` or `u32`) owned by one module.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OwnedPort<T> {
    number: u16,
    width: PhantomData<T>,
}

impl<T: PortRead + PortWrite> OwnedPort<T> {
    /// Names port `number` for the calling module.
    ///
    /// # Safety
    /// Only the calling module accesses the port, for the life of the
    /// image, and none of its reads or writes of it can by itself change
    /// memory the program uses (the port programs a device that does no
    /// DMA of its own, or resets or ends the machine).
    pub(crate) const unsafe fn new(number: u16) -> Self {
        Self {
            number,
            width: PhantomData,
        }
    }

    /// Reads the port.
    pub(crate) fn read(self) -> T {
        // SAFETY: `new`'s caller vouched for every access to this port.
        unsafe { T::read_from_port(self.number) }
    }

    /// Writes `value` to the port.
    pub(crate) fn write(self, value: T) {
        // SAFETY: as in `read`.
        unsafe { T::write_to_port(self.number, value) }
    }
}
