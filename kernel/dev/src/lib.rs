//! The dev faction: PCI enumeration, driver matching, interrupts and DMA.
//!
//! Device drivers are components of their own crates; this faction gives
//! them what every PCI driver needs, over the hypercall interface alone
//! ([`hypercall::PciBus`], the DMA and interrupt calls):
//!
//! - [`enumerate()`]: every function on every bus reachable from bus 0
//!   (multi-function devices, bridges followed to their secondary bus);
//! - [`autoconf`]: the match table, after NetBSD's autoconf. A driver
//!   names the (vendor, device) pairs it serves in a [`PciDriver`] and calls
//!   [`Dev::attach_drivers`] from its own component; each unclaimed function
//!   that matches goes to the driver's `attach`. A failed attach is logged
//!   with the function's address and the boot goes on without it;
//! - [`capability`]: walking a function's capability list, [`msix`] for
//!   the MSI-X capability and its vector table;
//! - [`interrupt`]: a device's interrupt as an interrupt thread: MSI-X
//!   when the function has it, else its legacy INTx line (level-triggered);
//! - [`dma`]: DMA memory as an RAII [`DmaBuffer`].
//!
//! The faction's one component, [`DEV`] (level DEV, listed before the
//! drivers), enumerates the bus once and installs the [`Dev`] service;
//! drivers that run first install it themselves, so the order within the
//! level does not matter.
//!
//! Unsafe code lives in two small files: `registers.rs` (volatile access
//! to a mapped BAR) and `dma.rs` (the DMA block as a slice, and its free).

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod autoconf;
pub mod capability;
pub mod config;
pub mod dma;
pub mod enumerate;
mod error;
pub mod interrupt;
pub mod msix;
pub mod registers;

#[cfg(test)]
mod fake;

pub use autoconf::{DEV, Dev, PciDevice, PciDriver, PciId};
pub use dma::DmaBuffer;
pub use enumerate::{PciFunction, enumerate};
pub use error::DevError;
pub use interrupt::{DeviceInterrupt, InterruptKind, InterruptMode};

/// The hypercall interface the faction is written against.
pub use base::hypercall;
