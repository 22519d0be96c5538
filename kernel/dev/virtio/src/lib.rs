//! virtio for the dev faction's drivers: the doors virtio-drivers needs,
//! PCI and MMIO transports, and a fake device for their host tests.
//!
//! What every virtio driver (virtio-net, virtio-blk) shares, so that each
//! holds only its device's own logic:
//!
//! - [`driver`]: attaching a driver's devices on PCI and MMIO alike
//!   (transport, start, interrupt, hand-over to the faction);
//! - [`init`]: the initialisation every driver runs (reset, features
//!   checked and agreed, DRIVER_OK or reset on failure);
//! - [`hal`]: virtio-drivers' `Hal` over the device-memory hypercalls,
//!   and the MMIO transport over a mapped register block;
//! - [`pci`]: a PCI function's virtio structures checked and mapped, the
//!   transport, and queue interrupts routed to MSI-X;
//! - [`mmio`]: the `virtio_mmio.device=` words of the command line (as
//!   QEMU's microvm describes its devices) and their transports;
//! - `fake` (feature `fake`, host tests only): a device's transport and
//!   thread, and the device side of split virtqueues.
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
pub mod driver;
#[cfg(feature = "fake")]
pub mod fake;
pub mod hal;
pub mod init;
pub mod mmio;
pub mod pci;

pub use driver::{Started, VirtioDriver};
pub use hal::KernelHal;
