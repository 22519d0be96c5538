//! The PCI bus hypercalls over the platform's enumeration and config access.
//!
//! The bus is scanned and its BARs assigned when the kernel first asks for
//! it ([`Pci::scan`]), not at boot: an image without PCI drivers never pays
//! for the scan (about 2 ms of first-run code on q35 under TCG). The
//! platform's scan is the one enumeration; the kernel gets its list. The
//! registers that place a function in the address space stay the
//! platform's: writes to them are refused here.

use alloc::vec::Vec;

use hypercall::{IoWidth, PciAddress, PciBar, PciBus, PciError, PciFunction, is_resource_register};
use platform::pci as bus;

use crate::device_memory;

/// The machine's PCI bus (present when the platform's scan succeeded).
#[derive(Debug)]
pub(crate) struct Pci;

impl Pci {
    /// Scans and assigns the bus (once: the platform keeps the result);
    /// `None` if the machine has none.
    pub(crate) fn scan() -> Option<Self> {
        bus::init().ok().map(|_| Self)
    }
}

impl PciBus for Pci {
    fn functions(&self) -> Vec<PciFunction> {
        bus::functions().map(|function| function.info).collect()
    }

    fn config_read(&self, at: PciAddress, offset: u16) -> Result<u32, PciError> {
        bus::config_read(at, offset)
    }

    fn config_write(&self, at: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
        if is_resource_register(header_type(at)?, offset) {
            return Err(PciError::Refused);
        }
        bus::config_write(at, offset, value)
    }

    fn bar(&self, at: PciAddress, index: u8) -> Result<PciBar, PciError> {
        let bar = bus::bar(at, index)?;
        if !bar.kind.is_memory() {
            let port = u16::try_from(bar.address).map_err(|_| PciError::NoSuchBar)?;
            let size = u16::try_from(bar.size).unwrap_or(u16::MAX);
            return Ok(PciBar::io(port, size));
        }
        let mapping = device_memory::map_bar(bar.address, bar.size).ok_or(PciError::MapFailed)?;
        PciBar::memory(bar.kind, mapping).ok_or(PciError::NoSuchBar)
    }

    fn io_read(&self, port: u16, width: IoWidth) -> u32 {
        // A port outside every I/O BAR reads as all ones, like an absent
        // device on the bus.
        bus::io_read(port, width).unwrap_or(u32::MAX)
    }

    fn io_write(&self, port: u16, width: IoWidth, value: u32) {
        // Writes outside every I/O BAR are dropped, as the bus would.
        let _ = bus::io_write(port, width, value);
    }
}

/// The header type of the function at `at` (multi-function bit clear), as
/// found at boot or, for a function beyond the boot table, as it reads now.
fn header_type(at: PciAddress) -> Result<u8, PciError> {
    if let Some(function) = bus::find(at) {
        return Ok(function.info.header_type);
    }
    Ok(((bus::config_read(at, 0x0c)? >> 16) & 0x7f) as u8)
}
