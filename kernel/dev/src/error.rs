//! The dev faction's error: why a device could not be set up.

use core::fmt;

use base::hypercall::{MemoryError, PciError};
use base::interrupt::EstablishError;

/// Why a device operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevError {
    /// The host has no PCI bus.
    NoPci,
    /// A configuration or BAR call failed.
    Pci(PciError),
    /// A capability points outside the function's registers or BARs.
    BadCapability,
    /// The function has neither MSI-X nor a routed INTx line.
    NoInterrupt,
    /// The interrupt could not be established.
    Interrupt(EstablishError),
    /// DMA memory could not be had.
    Memory(MemoryError),
    /// The driver found the device unusable; the text says why.
    Unusable(&'static str),
}

impl fmt::Display for DevError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPci => f.write_str("the host has no PCI bus"),
            Self::Pci(error) => write!(f, "PCI: {error}"),
            Self::BadCapability => f.write_str("a capability points outside the device"),
            Self::NoInterrupt => f.write_str("neither MSI-X nor a routed INTx line"),
            Self::Interrupt(error) => write!(f, "interrupt: {error}"),
            Self::Memory(error) => write!(f, "DMA memory: {error}"),
            Self::Unusable(reason) => f.write_str(reason),
        }
    }
}

impl core::error::Error for DevError {}

impl From<PciError> for DevError {
    fn from(error: PciError) -> Self {
        Self::Pci(error)
    }
}

impl From<MemoryError> for DevError {
    fn from(error: MemoryError) -> Self {
        Self::Memory(error)
    }
}

impl From<EstablishError> for DevError {
    fn from(error: EstablishError) -> Self {
        Self::Interrupt(error)
    }
}
