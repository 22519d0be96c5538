//! virtio-blk on the buses: its PCI match table entry and driver record.
//!
//! The record is what the shared attach path (`virtio::driver`) needs.
//!
//! Modern (virtio 1.0) functions only: device 0x1042, or the transitional
//! 0x1001 through its modern structures (QEMU's
//! `-device virtio-blk-pci,disable-legacy=on`). The request queue is
//! pointed at MSI-X table entry 0, or the function is driven by INTx;
//! virtio-mmio slots (microvm) are attached the same way.

use alloc::string::String;
use alloc::sync::Arc;

use base::Context;
use dev::{DevError, PciDevice, PciDriver, PciId};
use virtio::VirtioDriver;
use virtio_drivers::transport::{DeviceType, SomeTransport};

use crate::device;
use crate::disk::VirtioDisk;

/// The driver's line in the dev faction's match table.
pub static VIOBLK: PciDriver = PciDriver {
    name: "vioblk",
    ids: &[PciId::new(0x1af4, 0x1042), PciId::new(0x1af4, 0x1001)],
    attach,
};

/// The driver, for the shared attach path.
pub(crate) static DRIVER: VirtioDriver<VirtioDisk<SomeTransport<'static>>> = VirtioDriver {
    name: "vioblk",
    device_type: DeviceType::Block,
    queues: &[0],
    start,
    pci: &VIOBLK,
};

fn attach(context: &Context<'_>, device: &PciDevice<'_>) -> Result<(), DevError> {
    virtio::driver::attach_pci(context, device, &DRIVER)
}

/// Starts the disk behind `transport`.
fn start(
    _context: &Context<'_>,
    transport: SomeTransport<'static>,
    label: String,
) -> Result<Arc<VirtioDisk<SomeTransport<'static>>>, DevError> {
    let (requests, shape) = device::start(transport)?;
    Ok(Arc::new(VirtioDisk::new(label, requests, shape)))
}
