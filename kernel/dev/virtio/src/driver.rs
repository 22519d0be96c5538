//! Attaching a virtio driver's devices on PCI and MMIO alike.
//!
//! A driver describes itself once ([`VirtioDriver`]: its name, device
//! type, queues, and how it starts a device on a transport); the attach
//! path is then the same for every driver: the transport
//! ([`crate::pci::transport`] or a `virtio_mmio.device=` slot), the
//! driver's start, the interrupt (queues routed to MSI-X entry 0 when the
//! function has MSI-X, INTx otherwise; the slot's line on MMIO) served by
//! [`Started::service`] and kept with the device, and [`Started::attach`]
//! giving the device to its faction, told how it interrupts.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use base::Context;
use base::interrupt::Interrupt;
use dev::{Dev, DevError, InterruptKind, InterruptMode, PciDevice, PciDriver};
use virtio_drivers::transport::{DeviceType, SomeTransport};

use crate::mmio::{self, MmioDevice};
use crate::pci;

/// A device its driver has started.
pub trait Started: Send + Sync + 'static {
    /// The interrupt handler: takes what the device finished.
    fn service(&self, context: &Context<'_>);

    /// Keeps `interrupt` (and so its thread) alive with the device.
    fn keep_interrupt(&self, context: &Context<'_>, interrupt: Interrupt);

    /// Hands the device to its faction, which logs it with `described`
    /// (how the device interrupts: `MSI-X`, `GSI 5`).
    ///
    /// # Errors
    /// [`DevError`] when the faction has no room for it.
    fn attach(self: &Arc<Self>, context: &Context<'_>, described: &str) -> Result<(), DevError>;
}

/// How a driver starts a device behind a transport, labelled for the log
/// (`pci 0000:00:03.0`, `mmio 0xfeb00e00`).
pub type StartFunction<D> =
    fn(&Context<'_>, SomeTransport<'static>, String) -> Result<Arc<D>, DevError>;

/// What the attach path needs to know of a driver.
pub struct VirtioDriver<D> {
    /// The interrupt threads' prefix (`vioif`, `vioblk`).
    pub name: &'static str,
    /// The device type it drives (an MMIO slot of another type is skipped).
    pub device_type: DeviceType,
    /// Its queues, checked and routed to the interrupt.
    pub queues: &'static [u16],
    /// Starts one device.
    pub start: StartFunction<D>,
    /// Its line in the dev faction's match table (whose `attach` calls
    /// [`attach_pci`] with this driver).
    pub pci: &'static PciDriver,
}

impl<D> fmt::Debug for VirtioDriver<D> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("VirtioDriver")
            .field("name", &self.name)
            .field("device_type", &self.device_type)
            .field("queues", &self.queues)
            .field("pci", &self.pci.name)
            .finish_non_exhaustive()
    }
}

/// Attaches every device of `driver`'s: the PCI functions the dev
/// faction matches, then the MMIO slots the command line names.
pub fn attach_all<D: Started>(context: &Context<'_>, driver: &VirtioDriver<D>) {
    Dev::get_or_install(context).attach_drivers(context, &[driver.pci]);
    attach_mmio(context, driver);
}

/// Attaches the PCI function `device` with `driver`.
///
/// # Errors
/// [`DevError`] from the transport, the driver or the interrupt.
pub fn attach_pci<D: Started>(
    context: &Context<'_>,
    device: &PciDevice<'_>,
    driver: &VirtioDriver<D>,
) -> Result<(), DevError> {
    let (transport, structures) = pci::transport(context, device, driver.queues)?;
    let address = device.address();
    let label = format!("pci {address}");
    let started = (driver.start)(context, SomeTransport::from(transport), label)?;
    let mode = match structures.route_queues(device.bus(), address, driver.queues, 0) {
        Ok(()) if device.msix().is_some() => InterruptMode::Auto,
        _ => InterruptMode::Intx,
    };
    let handler = started.clone();
    let name = format!("{} {address}", driver.name);
    let interrupt = device.establish_interrupt(context, &name, mode, move |context| {
        handler.service(context)
    })?;
    let described = match interrupt.kind() {
        InterruptKind::Msix { .. } => String::from("MSI-X"),
        InterruptKind::Intx { gsi } => format!("INTx on GSI {gsi}"),
    };
    started.keep_interrupt(context, interrupt.into_interrupt());
    started.attach(context, &described)
}

/// Attaches every device of the driver's type the command line names
/// (`virtio_mmio.device=`); failures are logged, the others go on.
fn attach_mmio<D: Started>(context: &Context<'_>, driver: &VirtioDriver<D>) {
    mmio::attach_each(
        context,
        driver.device_type,
        &|context, device, transport| {
            attach_slot(context, driver, device, SomeTransport::from(transport))
        },
    );
}

fn attach_slot<D: Started>(
    context: &Context<'_>,
    driver: &VirtioDriver<D>,
    device: MmioDevice,
    transport: SomeTransport<'static>,
) -> Result<(), DevError> {
    let label = format!("mmio {:#x}", device.base);
    let started = (driver.start)(context, transport, label)?;
    let handler = started.clone();
    let interrupt = context.kernel().arc().interrupt_establish(
        &format!("{} {:#x}", driver.name, device.base),
        device.interrupt(),
        move |context| handler.service(context),
    )?;
    started.keep_interrupt(context, interrupt);
    started.attach(context, &format!("GSI {}", device.irq))
}
