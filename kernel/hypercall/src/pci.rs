//! PCI hypercalls: configuration space, BARs and I/O ports for device
//! components (the rump papers' `rumpcomp_pci_*`).
//!
//! Reached through [`crate::Hypercalls::pci`]; hosts without PCI return
//! `None` there. The host has assigned every BAR before the kernel starts
//! (firmware does it under SeaBIOS; `hypercall-bm` does it itself under qboot
//! and microvm).

use core::fmt;
use core::ptr::NonNull;

/// A PCI function on segment 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddress {
    /// Bus 0..=255.
    pub bus: u8,
    /// Device 0..=31.
    pub device: u8,
    /// Function 0..=7.
    pub function: u8,
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

/// What a BAR decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// Memory space, mapped for the kernel at [`PciBar::virt`].
    Memory {
        /// Prefetchable memory.
        prefetchable: bool,
    },
    /// I/O port space, reached with [`PciBus::io_read`]/[`PciBus::io_write`].
    Io,
}

/// A decoded, assigned base address register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciBar {
    /// Memory or I/O.
    pub kind: BarKind,
    /// Physical address (memory) or first port (I/O).
    pub address: u64,
    /// Length in bytes.
    pub size: u64,
    /// Where the kernel reaches a memory BAR; `None` for I/O BARs.
    pub virt: Option<NonNull<u8>>,
}

/// Why a PCI call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PciError {
    /// Address outside the bus, device, function or register ranges, or an
    /// offset that is not 4-byte aligned.
    InvalidAddress,
    /// No function at this address.
    NoDevice,
    /// The BAR index is beyond 5, is the upper half of a 64-bit BAR, or is
    /// not implemented by the device.
    NoSuchBar,
    /// The BAR could not be mapped.
    MapFailed,
}

impl fmt::Display for PciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidAddress => "invalid PCI address or register offset",
            Self::NoDevice => "no PCI function at this address",
            Self::NoSuchBar => "no such BAR",
            Self::MapFailed => "BAR could not be mapped",
        })
    }
}

impl core::error::Error for PciError {}

/// Width of an I/O port access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoWidth {
    /// 8 bits.
    Byte,
    /// 16 bits.
    Word,
    /// 32 bits.
    Dword,
}

/// A PCI bus. All calls never block.
pub trait PciBus: Send + Sync {
    /// Reads the 32-bit configuration register at `offset` (4-byte
    /// aligned, below 256). An absent function reads as all ones.
    ///
    /// # Errors
    /// [`PciError::InvalidAddress`].
    fn config_read(&self, address: PciAddress, offset: u16) -> Result<u32, PciError>;

    /// Writes the 32-bit configuration register at `offset`.
    ///
    /// # Errors
    /// [`PciError::InvalidAddress`].
    fn config_write(&self, address: PciAddress, offset: u16, value: u32) -> Result<(), PciError>;

    /// Decodes BAR `index` (0..=5) and maps it if it is memory.
    ///
    /// # Errors
    /// [`PciError::NoDevice`], [`PciError::NoSuchBar`],
    /// [`PciError::MapFailed`].
    fn bar(&self, address: PciAddress, index: u8) -> Result<PciBar, PciError>;

    /// Reads an I/O port inside an I/O BAR of a PCI function.
    fn io_read(&self, port: u16, width: IoWidth) -> u32;

    /// Writes an I/O port inside an I/O BAR of a PCI function.
    fn io_write(&self, port: u16, width: IoWidth, value: u32);
}
