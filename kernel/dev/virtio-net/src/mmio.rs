//! virtio-net over MMIO: the devices the command line names, as on
//! QEMU's microvm (see [`virtio::mmio`] for the words and the interrupt).

use alloc::format;

use base::Context;
use dev::DevError;
use virtio::mmio::MmioDevice;
use virtio_drivers::transport::mmio::MmioTransport;
use virtio_drivers::transport::{DeviceType, SomeTransport};

use crate::nic::VirtioNic;
use crate::preflight;

/// Attaches every virtio-net device the command line names.
pub(crate) fn attach_all(context: &Context<'_>) {
    virtio::mmio::attach_each(context, DeviceType::Network, &attach);
}

fn attach(
    context: &Context<'_>,
    device: MmioDevice,
    transport: MmioTransport<'static>,
) -> Result<(), DevError> {
    let setting = crate::offload_setting(context).unwrap_or_default();
    let started = preflight::start(SomeTransport::from(transport), setting)?;
    let label = format!("mmio {:#x}", device.base);
    let nic = VirtioNic::start(context, label, started)?;
    let handler_nic = nic.clone();
    let interrupt = context.kernel().arc().interrupt_establish(
        &format!("vioif {:#x}", device.base),
        device.interrupt(),
        move |context| handler_nic.service(context),
    )?;
    nic.keep_interrupt(context, interrupt);
    nic.attach(context, &format!("GSI {}", device.irq))
}
