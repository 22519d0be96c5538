//! virtio-blk over PCI: the match table entry, attach and interrupt setup.
//!
//! Modern (virtio 1.0) functions only: device 0x1042, or the transitional
//! 0x1001 through its modern structures (QEMU's
//! `-device virtio-blk-pci,disable-legacy=on`). With MSI-X the request
//! queue is pointed at table entry 0; when that fails the function is
//! driven by INTx.

use alloc::format;
use alloc::sync::Arc;

use base::Context;
use dev::{DevError, InterruptKind, InterruptMode, PciDevice, PciDriver, PciId};
use virtio_drivers::transport::SomeTransport;

use crate::device;
use crate::disk::VirtioDisk;

/// The driver's line in the dev faction's match table.
pub static VIOBLK: PciDriver = PciDriver {
    name: "vioblk",
    ids: &[PciId::new(0x1af4, 0x1042), PciId::new(0x1af4, 0x1001)],
    attach,
};

/// The request queue.
const QUEUES: [u16; 1] = [0];

fn attach(context: &Context<'_>, device: &PciDevice<'_>) -> Result<(), DevError> {
    let (transport, structures) = virtio::pci::transport(context, device, &QUEUES)?;
    let (requests, shape) = device::start(SomeTransport::from(transport))?;
    let address = device.address();
    let disk = Arc::new(VirtioDisk::new(format!("pci {address}"), requests, shape));
    let mode = match structures.route_queues(device.bus(), address, &QUEUES, 0) {
        Ok(()) if device.msix().is_some() => InterruptMode::Auto,
        _ => InterruptMode::Intx,
    };
    let handler = disk.clone();
    let interrupt = device.establish_interrupt(
        context,
        &format!("vioblk {address}"),
        mode,
        move |context| handler.service(context),
    )?;
    let described = match interrupt.kind() {
        InterruptKind::Msix { .. } => alloc::string::String::from("MSI-X"),
        InterruptKind::Intx { gsi } => format!("INTx on GSI {gsi}"),
    };
    disk.keep_interrupt(context, interrupt.into_interrupt());
    crate::register(context, disk, &described)
}
