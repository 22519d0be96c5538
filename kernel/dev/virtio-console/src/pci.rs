//! virtio-console on the buses: its PCI match table entry and driver record.
//!
//! The record is what the shared attach path (`virtio::driver`) needs.
//!
//! Modern (virtio 1.0) functions only: device 0x1043, or the transitional
//! 0x1003 through its modern structures (QEMU's
//! `-device virtio-serial-pci,disable-legacy=on`). The queues of the
//! ports served are pointed at MSI-X table entry 0, or the function is
//! driven by INTx; virtio-mmio slots (microvm's `virtio-serial-device`)
//! are attached the same way.

use alloc::string::String;
use alloc::sync::Arc;

use base::Context;
use dev::{DevError, PciDevice, PciDriver, PciId};
use virtio::VirtioDriver;
use virtio_drivers::transport::{DeviceType, SomeTransport};

use crate::console::Console;
use crate::device::{self, ALL_QUEUES};

/// The driver's line in the dev faction's match table.
pub static VIOCON: PciDriver = PciDriver {
    name: "viocon",
    ids: &[PciId::new(0x1af4, 0x1043), PciId::new(0x1af4, 0x1003)],
    attach,
};

/// The driver, for the shared attach path.
pub(crate) static DRIVER: VirtioDriver<Console<SomeTransport<'static>>> = VirtioDriver {
    name: "viocon",
    device_type: DeviceType::Console,
    queues: &ALL_QUEUES,
    start,
    pci: &VIOCON,
};

fn attach(context: &Context<'_>, device: &PciDevice<'_>) -> Result<(), DevError> {
    virtio::driver::attach_pci(context, device, &DRIVER)
}

/// Starts the console behind `transport`.
fn start(
    _context: &Context<'_>,
    transport: SomeTransport<'static>,
    label: String,
) -> Result<Arc<Console<SomeTransport<'static>>>, DevError> {
    let queues = device::start(transport)?;
    Ok(Arc::new(Console::new(label, queues)))
}
