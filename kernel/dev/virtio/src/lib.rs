//! virtio for the dev faction's drivers: the doors virtio-drivers needs,
//! PCI and MMIO transports, and a fake device for their host tests.
//!
//! What every virtio driver (virtio-net, virtio-blk) shares, so that each
//! holds only its device's own logic:
//!
//! - [`hal`]: virtio-drivers' `Hal` over the device-memory hypercalls,
//!   and the MMIO transport over a mapped register block;
//! - [`pci`]: a PCI function's virtio structures checked and mapped, the
//!   transport, and queue interrupts routed to MSI-X;
//! - [`mmio`]: the `virtio_mmio.device=` words of the command line (as
//!   QEMU's microvm describes its devices) and their transports;
//! - `fake` (feature `fake`, host tests only): the device side of split
//!   virtqueues, for a thread that plays a device.
//!
//! A device in an odd state is a [`dev::DevError`] naming the problem,
//! never a panic: virtio-drivers asserts on some inputs, so what it would
//! trip on is checked first.

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(test, feature = "fake"))]
extern crate std;

mod config_access;
#[cfg(feature = "fake")]
pub mod fake;
pub mod hal;
pub mod mmio;
pub mod pci;

pub use hal::KernelHal;
