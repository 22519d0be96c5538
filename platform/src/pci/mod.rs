//! PCI: configuration access, enumeration, BAR assignment and mapping.
//!
//! `init` checks for configuration mechanism #1 (ports 0xCF8/0xCFC; a
//! machine without it, like microvm without `pcie=on`, simply has no PCI),
//! scans every bus, sizes every BAR, assigns addresses to the BARs firmware
//! left unassigned (qboot and microvm assign none; SeaBIOS all) and enables
//! I/O and memory decoding, and corrects the interrupt lines on QEMU's
//! chipsets (`intx.rs`). The result is kept in a fixed table that
//! `functions` and `bar()` read. Address validation, BAR decoding and the
//! window allocator are pure and tested on the host. The plain types
//! (address, BAR kind, I/O width, errors) are the hypercall interface's.
//!
//! This is the machine's one PCI enumerator: it walks the bus because
//! assignment must (firmware's job), and `hypercall-bm` hands its list to
//! the kernel, which never walks the bus again.

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

pub use address::{PciAddress, at};
pub use bar::Bar;
pub use hypercall::{BarKind, IoWidth, PciError};
pub use window::Window;

#[cfg(target_os = "none")]
pub use assign::{Assigned, Decoding, Windows};
#[cfg(target_os = "none")]
pub use inventory::{CAPACITY, Function, Functions, find, functions};
#[cfg(target_os = "none")]
pub use io::{io_read, io_write};
#[cfg(target_os = "none")]
pub use system::{NoPci, Summary, bar, config_read, config_write, init, init_with, map_bar};
