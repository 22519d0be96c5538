//! virtio-net on the buses: its PCI match table entry and driver record.
//!
//! The record is what the shared attach path (`virtio::driver`) needs.
//!
//! Modern (virtio 1.0) functions only: device 0x1041, or the transitional
//! 0x1000 through its modern structures. The receive and transmit queues
//! are pointed at MSI-X table entry 0, or the function is driven by INTx;
//! virtio-mmio slots (microvm) are attached the same way.

use alloc::string::String;
use alloc::sync::Arc;

use base::Context;
use dev::{DevError, PciDevice, PciDriver, PciId};
use virtio::VirtioDriver;
use virtio_drivers::transport::{DeviceType, SomeTransport};

use crate::nic::VirtioNic;
use crate::preflight;
use crate::rings::{RECEIVE, TRANSMIT};

/// The driver's line in the dev faction's match table.
pub static VIOIF: PciDriver = PciDriver {
    name: "vioif",
    ids: &[PciId::new(0x1af4, 0x1041), PciId::new(0x1af4, 0x1000)],
    attach,
};

/// The driver, for the shared attach path.
pub(crate) static DRIVER: VirtioDriver<VirtioNic<SomeTransport<'static>>> = VirtioDriver {
    name: "vioif",
    device_type: DeviceType::Network,
    queues: &[RECEIVE, TRANSMIT],
    start,
    pci: &VIOIF,
};

fn attach(context: &Context<'_>, device: &PciDevice<'_>) -> Result<(), DevError> {
    virtio::driver::attach_pci(context, device, &DRIVER)
}

/// Starts the NIC behind `transport` with the offloads the boot
/// parameters allow.
fn start(
    context: &Context<'_>,
    transport: SomeTransport<'static>,
    label: String,
) -> Result<Arc<VirtioNic<SomeTransport<'static>>>, DevError> {
    let setting = crate::offload_setting(context).unwrap_or_default();
    let started = preflight::start(transport, setting)?;
    VirtioNic::start(context, label, started)
}
