//! PCI: configuration access, enumeration, BAR assignment and mapping.
//!
//! `init` checks for configuration mechanism #1 (ports 0xCF8/0xCFC; a
//! machine without it, like microvm without `pcie=on`, simply has no PCI),
//! scans every bus, sizes every BAR, assigns addresses to the BARs firmware
//! left unassigned (qboot and microvm assign none; SeaBIOS all) and enables
//! I/O and memory decoding, and corrects the interrupt lines on QEMU's
//! chipsets (`intx.rs`). The result is kept in a fixed table that
//! `functions` and `bar()` read. Address validation, BAR decoding and the
//! window allocator are pure and tested on the host.

pub mod address;
pub mod bar;
pub mod intx;
pub mod window;

#[cfg(target_os = "none")]
mod assign;
#[cfg(target_os = "none")]
mod config;
#[cfg(target_os = "none")]
mod inventory;
#[cfg(target_os = "none")]
mod io;
#[cfg(target_os = "none")]
mod scan;
#[cfg(target_os = "none")]
mod sizing;
#[cfg(target_os = "none")]
mod system;

use core::fmt;

pub use address::PciAddress;
pub use bar::{Bar, BarKind};
pub use window::Window;

#[cfg(target_os = "none")]
pub use assign::{Assigned, Decoding, Windows};
#[cfg(target_os = "none")]
pub use inventory::{CAPACITY, Function, Functions, find, functions};
#[cfg(target_os = "none")]
pub use io::{IoWidth, io_read, io_write};
#[cfg(target_os = "none")]
pub use system::{Summary, bar, config_read, config_write, init, init_with, map_bar};

/// Why a PCI call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PciError {
    /// This machine has no PCI configuration mechanism.
    NoPci,
    /// Bus, device, function or register offset out of range, or an
    /// offset that is not 4-byte aligned.
    InvalidAddress,
    /// No function at this address.
    NoDevice,
    /// The BAR index is beyond 5, is the upper half of a 64-bit BAR, is
    /// not implemented, or was left unassigned.
    NoSuchBar,
    /// The BAR could not be mapped.
    MapFailed,
}

impl fmt::Display for PciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoPci => "no PCI configuration mechanism on this machine",
            Self::InvalidAddress => "invalid PCI address or register offset",
            Self::NoDevice => "no PCI function at this address",
            Self::NoSuchBar => "no such BAR",
            Self::MapFailed => "BAR could not be mapped",
        })
    }
}

impl core::error::Error for PciError {}
