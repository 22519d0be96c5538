//! virtio-net over PCI: the match table entry, probe and interrupt setup.
//!
//! Modern (virtio 1.0) functions only, as virtio-drivers' transport is:
//! device 0x1041, or the transitional 0x1000 through its modern
//! structures. The probe reads the virtio vendor capabilities itself
//! first and maps every register block they name (so the transport's
//! later `mmio_phys_to_virt` calls map nothing new and cannot fail), then
//! enables bus mastering and hands the function to virtio-drivers.
//!
//! Interrupts: with MSI-X, both queues are pointed at table entry 0
//! (`queue_msix_vector`), through the PCI configuration window capability
//! (virtio 1.0 §4.1.4.8), which reaches the common configuration without
//! sharing the transport's mapping. When that fails the function is
//! driven by INTx.

use alloc::format;

use base::Context;
use base::hypercall::{PciAddress, PciBus};
use dev::capability::ID_VENDOR;
use dev::{DevError, InterruptKind, InterruptMode, PciDevice, PciDriver, PciId, config};
use virtio_drivers::transport::SomeTransport;
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::pci::bus::{DeviceFunction, PciRoot};

use crate::hal::{self, KernelHal, PciConfiguration};
use crate::nic::VirtioNic;
use crate::preflight;

/// The driver's line in the dev faction's match table.
pub static VIOIF: PciDriver = PciDriver {
    name: "vioif",
    ids: &[PciId::new(0x1af4, 0x1041), PciId::new(0x1af4, 0x1000)],
    attach,
};

/// Virtio structure types (`cfg_type`).
const COMMON: u8 = 1;
const NOTIFY: u8 = 2;
const ISR: u8 = 3;
const DEVICE: u8 = 4;
const WINDOW: u8 = 5;
/// Offsets in the common configuration.
const MSIX_CONFIG: u32 = 0x10;
const QUEUE_SELECT: u32 = 0x16;
const QUEUE_MSIX_VECTOR: u32 = 0x1a;
/// "No vector" for `msix_config` and `queue_msix_vector`.
const NO_VECTOR: u16 = 0xffff;

/// One virtio structure: where in which BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Structure {
    bar: u8,
    offset: u32,
    length: u32,
}

/// The structures of one function, and its configuration window.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Structures {
    common: Option<Structure>,
    notify: Option<Structure>,
    isr: Option<Structure>,
    device: Option<Structure>,
    /// Where the PCI configuration window capability starts.
    window: Option<u8>,
}

fn attach(context: &Context<'_>, device: &PciDevice<'_>) -> Result<(), DevError> {
    let structures = Structures::read(device);
    structures.map(context, device)?;
    device.enable_bus_master()?;
    hal::install(context)?;
    let mut root = PciRoot::new(PciConfiguration::new(device.bus()));
    let address = device.address();
    let function = DeviceFunction {
        bus: address.bus,
        device: address.device,
        function: address.function,
    };
    let transport = PciTransport::new::<KernelHal, _>(&mut root, function)
        .map_err(|_| DevError::Unusable("the virtio PCI transport refused the function"))?;
    let raw = preflight::start(SomeTransport::from(transport))?;
    let nic = VirtioNic::start(context, format!("pci {address}"), raw)?;
    let mode = match structures.route_queues(device.bus(), address, 0) {
        Ok(()) if device.msix().is_some() => InterruptMode::Auto,
        _ => InterruptMode::Intx,
    };
    let handler_nic = nic.clone();
    let interrupt = device.establish_interrupt(
        context,
        &format!("vioif {address}"),
        mode,
        move |context| handler_nic.service(context),
    )?;
    let described = match interrupt.kind() {
        InterruptKind::Msix { .. } => alloc::string::String::from("MSI-X"),
        InterruptKind::Intx { gsi } => format!("INTx on GSI {gsi}"),
    };
    nic.keep_interrupt(context, interrupt.into_interrupt());
    nic.attach(context, &described)
}

impl Structures {
    /// The first structure of each type among the vendor capabilities.
    fn read(device: &PciDevice<'_>) -> Self {
        let mut found = Self::default();
        for capability in device.capabilities().filter(|c| c.id == ID_VENDOR) {
            let Some((kind, structure)) = read_structure(device, capability.offset) else {
                continue;
            };
            let slot = match kind {
                COMMON => &mut found.common,
                NOTIFY => &mut found.notify,
                ISR => &mut found.isr,
                DEVICE => &mut found.device,
                WINDOW => {
                    found.window.get_or_insert(capability.offset);
                    continue;
                }
                _ => continue,
            };
            slot.get_or_insert(structure);
        }
        found
    }

    /// Maps the register blocks of the four structures the driver needs.
    fn map(&self, context: &Context<'_>, device: &PciDevice<'_>) -> Result<(), DevError> {
        let needed = [self.common, self.notify, self.isr, self.device];
        for structure in needed {
            let structure =
                structure.ok_or(DevError::Unusable("a virtio structure is missing"))?;
            map_structure(context, device, structure)?;
        }
        Ok(())
    }

    /// Points both queues' interrupts at MSI-X table entry `vector`
    /// (config changes at none) and checks the device took it.
    fn route_queues(
        &self,
        bus: &dyn PciBus,
        address: PciAddress,
        vector: u16,
    ) -> Result<(), DevError> {
        let window = Window::new(self, bus, address)?;
        window.write16(MSIX_CONFIG, NO_VECTOR)?;
        for queue in [0, 1] {
            window.write16(QUEUE_SELECT, queue)?;
            window.write16(QUEUE_MSIX_VECTOR, vector)?;
            if window.read16(QUEUE_MSIX_VECTOR)? != vector {
                return Err(DevError::Unusable("the device refused the MSI-X vector"));
            }
        }
        Ok(())
    }
}

/// A vendor capability's `cfg_type` and structure; `None` if it is
/// shorter than a `virtio_pci_cap` or unreadable.
fn read_structure(device: &PciDevice<'_>, offset: u8) -> Option<(u8, Structure)> {
    let (bus, address, at) = (device.bus(), device.address(), u16::from(offset));
    let header = config::read_u32(bus, address, at).ok()?;
    let (length, kind) = ((header >> 16) as u8, (header >> 24) as u8);
    if length < 16 {
        return None;
    }
    let structure = Structure {
        bar: config::read_u8(bus, address, at + 4).ok()?,
        offset: config::read_u32(bus, address, at + 8).ok()?,
        length: config::read_u32(bus, address, at + 12).ok()?,
    };
    Some((kind, structure))
}

/// Checks `structure` lies inside its memory BAR and maps it.
fn map_structure(
    context: &Context<'_>,
    device: &PciDevice<'_>,
    structure: Structure,
) -> Result<(), DevError> {
    let bar = device.bar(structure.bar)?;
    let end = u64::from(structure.offset) + u64::from(structure.length);
    if bar.virt.is_none() || structure.length == 0 || end > bar.size {
        return Err(DevError::Unusable("a virtio structure lies outside its BAR"));
    }
    let physical = bar.address + u64::from(structure.offset);
    let length = structure.length as usize;
    context
        .kernel()
        .hypercalls()
        .mmio_map(physical, length)
        .map(|_| ())
        .map_err(DevError::Memory)
}

/// The PCI configuration window onto the common configuration.
struct Window<'a> {
    bus: &'a dyn PciBus,
    address: PciAddress,
    capability: u16,
    common: Structure,
}

impl<'a> Window<'a> {
    fn new(
        structures: &Structures,
        bus: &'a dyn PciBus,
        address: PciAddress,
    ) -> Result<Self, DevError> {
        Ok(Self {
            bus,
            address,
            capability: u16::from(
                structures
                    .window
                    .ok_or(DevError::Unusable("no PCI configuration window"))?,
            ),
            common: structures
                .common
                .ok_or(DevError::Unusable("a virtio structure is missing"))?,
        })
    }

    /// Aims the window at 2 bytes at `offset` in the common configuration.
    fn aim(&self, offset: u32) -> Result<(), DevError> {
        let at = self.capability;
        let target = self.common.offset.checked_add(offset);
        let target = target.ok_or(DevError::BadCapability)?;
        self.bus
            .config_write(self.address, at + 4, u32::from(self.common.bar))?;
        self.bus.config_write(self.address, at + 8, target)?;
        self.bus.config_write(self.address, at + 12, 2)?;
        Ok(())
    }

    fn write16(&self, offset: u32, value: u16) -> Result<(), DevError> {
        self.aim(offset)?;
        let data = self.capability + 16;
        Ok(self.bus.config_write(self.address, data, u32::from(value))?)
    }

    fn read16(&self, offset: u32) -> Result<u16, DevError> {
        self.aim(offset)?;
        let data = self.capability + 16;
        Ok(self.bus.config_read(self.address, data)? as u16)
    }
}
