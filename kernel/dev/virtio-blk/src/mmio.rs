//! virtio-blk over MMIO: the devices the command line names, as on
//! QEMU's microvm (see [`virtio::mmio`] for the words and the interrupt).

use alloc::format;
use alloc::sync::Arc;

use base::Context;
use dev::DevError;
use virtio::mmio::MmioDevice;
use virtio_drivers::transport::mmio::MmioTransport;
use virtio_drivers::transport::{DeviceType, SomeTransport};

use crate::device;
use crate::disk::VirtioDisk;

/// Attaches every virtio-blk device the command line names.
pub(crate) fn attach_all(context: &Context<'_>) {
    virtio::mmio::attach_each(context, DeviceType::Block, &attach);
}

fn attach(
    context: &Context<'_>,
    device: MmioDevice,
    transport: MmioTransport<'static>,
) -> Result<(), DevError> {
    let (requests, shape) = device::start(SomeTransport::from(transport))?;
    let label = format!("mmio {:#x}", device.base);
    let disk = Arc::new(VirtioDisk::new(label, requests, shape));
    let handler = disk.clone();
    let interrupt = context.kernel().arc().interrupt_establish(
        &format!("vioblk {:#x}", device.base),
        device.interrupt(),
        move |context| handler.service(context),
    )?;
    disk.keep_interrupt(context, interrupt);
    crate::register(context, disk, &format!("GSI {}", device.irq))
}
