//! The dev faction: PCI enumeration, driver matching, interrupts and DMA.
//!
//! Device drivers are components of their own crates; this faction gives
//! them what every PCI driver needs, over the hypercall interface alone
//! ([`hypercall::PciBus`], the DMA and interrupt calls):
//!
//! - the functions the host found ([`PciBus::functions`]: it enumerated
//!   and described the bus when it assigned resources; the kernel never
//!   walks it again);
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
//! drivers), describes the host's functions once and installs the [`Dev`]
//! service; drivers that run first install it themselves, so the order
//! within the level does not matter.
//!
//! Unsafe code lives in two small files, each resting on a token only a
//! host can make: `registers.rs` (volatile access inside an
//! [`MmioRegion`](base::hypercall::MmioRegion)) and `dma.rs` (a
//! [`DmaRegion`](base::hypercall::DmaRegion) as a slice, and its free).

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(test, feature = "fake"))]
extern crate std;

pub mod autoconf;
pub mod capability;
pub mod config;
pub mod dma;
mod error;
pub mod interrupt;
pub mod msix;
pub mod registers;

#[cfg(any(test, feature = "fake"))]
pub mod fake;

pub use autoconf::{DEV, Dev, PciDevice, PciDriver, PciId};
pub use base::hypercall::{PciBus, PciFunction};
pub use dma::DmaBuffer;
pub use error::DevError;
pub use interrupt::{DeviceInterrupt, InterruptKind, InterruptMode};

/// The hypercall interface the faction is written against.
pub use base::hypercall;
