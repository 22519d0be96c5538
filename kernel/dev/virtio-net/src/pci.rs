//! virtio-net over PCI: the match table entry, attach and interrupt setup.
//!
//! Modern (virtio 1.0) functions only: device 0x1041, or the transitional
//! 0x1000 through its modern structures. The function's structures are
//! checked and its transport made by the shared virtio crate
//! ([`virtio::pci::transport`]). Interrupts: with MSI-X, both queues are
//! pointed at table entry 0; when that fails the function is driven by
//! INTx.

use alloc::format;

use base::Context;
use dev::{DevError, InterruptKind, InterruptMode, PciDevice, PciDriver, PciId};
use virtio_drivers::transport::SomeTransport;

use crate::nic::VirtioNic;
use crate::preflight;

/// The driver's line in the dev faction's match table.
pub static VIOIF: PciDriver = PciDriver {
    name: "vioif",
    ids: &[PciId::new(0x1af4, 0x1041), PciId::new(0x1af4, 0x1000)],
    attach,
};

/// The receive and transmit queues.
const QUEUES: [u16; 2] = [0, 1];

fn attach(context: &Context<'_>, device: &PciDevice<'_>) -> Result<(), DevError> {
    let (transport, structures) = virtio::pci::transport(context, device, &QUEUES)?;
    let setting = crate::offload_setting(context).unwrap_or_default();
    let started = preflight::start(SomeTransport::from(transport), setting)?;
    let address = device.address();
    let nic = VirtioNic::start(context, format!("pci {address}"), started)?;
    let mode = match structures.route_queues(device.bus(), address, &QUEUES, 0) {
        Ok(()) if device.msix().is_some() => InterruptMode::Auto,
        _ => InterruptMode::Intx,
    };
    let handler_nic = nic.clone();
    let interrupt =
        device.establish_interrupt(context, &format!("vioif {address}"), mode, move |context| {
            handler_nic.service(context)
        })?;
    let described = match interrupt.kind() {
        InterruptKind::Msix { .. } => alloc::string::String::from("MSI-X"),
        InterruptKind::Intx { gsi } => format!("INTx on GSI {gsi}"),
    };
    nic.keep_interrupt(context, interrupt.into_interrupt());
    nic.attach(context, &described)
}
