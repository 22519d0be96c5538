//! virtio over PCI: the structures a function's capabilities name, their
//! BARs, the transport, and routing queue interrupts to MSI-X.
//!
//! Modern (virtio 1.0) functions only, as virtio-drivers' transport is.
//! [`transport`] reads the virtio vendor capabilities itself first,
//! checks that every register block they name lies inside a memory BAR
//! and that each queue's notify address lies inside the notify structure
//! (virtio-drivers would panic on one outside), registers those BARs'
//! host mappings with the Hal (so the transport's later
//! `mmio_phys_to_virt` calls find them), then enables bus mastering and
//! hands the function to virtio-drivers, whose BAR sizing is answered
//! from the host's tokens (`config_access.rs`).
//!
//! Interrupts: [`Structures::route_queues`] points queues at an MSI-X
//! table entry (`queue_msix_vector`) through the PCI configuration window
//! capability (virtio 1.0 §4.1.4.8), which reaches the common
//! configuration without sharing the transport's mapping. When that fails
//! a driver uses INTx.

use base::Context;
use base::hypercall::{PciAddress, PciBus};
use dev::capability::ID_VENDOR;
use dev::{DevError, PciDevice, config};
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::pci::bus::{DeviceFunction, PciRoot};

use crate::config_access::PciConfiguration;
use crate::hal::{self, KernelHal};

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
const QUEUE_NOTIFY_OFFSET: u32 = 0x1e;
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
pub struct Structures {
    common: Option<Structure>,
    notify: Option<Structure>,
    isr: Option<Structure>,
    device: Option<Structure>,
    /// The notify structure's `notify_off_multiplier`.
    notify_multiplier: u32,
    /// Where the PCI configuration window capability starts.
    window: Option<u8>,
}

/// The function behind `device` as a virtio-drivers transport, checked
/// for the queues `queues` (see the module docs), and its structures.
///
/// # Errors
/// [`DevError::Unusable`] for a legacy-only function, a missing or
/// misplaced structure, or one virtio-drivers refuses; [`DevError::Pci`];
/// the Hal's errors ([`hal::install`]).
pub fn transport(
    context: &Context<'_>,
    device: &PciDevice<'_>,
    queues: &[u16],
) -> Result<(PciTransport, Structures), DevError> {
    let structures = Structures::read(device);
    structures.map(device)?;
    structures.check_notify(device.bus(), device.address(), queues)?;
    device.enable_bus_master()?;
    hal::install(context)?;
    let mut root = PciRoot::new(PciConfiguration::new(device.bus()));
    let address = device.address();
    let function = DeviceFunction {
        bus: address.bus(),
        device: address.device(),
        function: address.function(),
    };
    let transport = PciTransport::new::<KernelHal, _>(&mut root, function)
        .map_err(|_| DevError::Unusable("the virtio PCI transport refused the function"))?;
    Ok((transport, structures))
}

impl Structures {
    /// The first structure of each type among the vendor capabilities.
    pub fn read(device: &PciDevice<'_>) -> Self {
        let mut found = Self::default();
        for capability in device.capabilities().filter(|c| c.id == ID_VENDOR) {
            let Some((kind, structure)) = read_structure(device, capability.offset) else {
                continue;
            };
            let slot = match kind {
                COMMON => &mut found.common,
                NOTIFY if found.notify.is_none() => {
                    let at = u16::from(capability.offset) + 16;
                    let multiplier = config::read_u32(device.bus(), device.address(), at);
                    found.notify_multiplier = multiplier.unwrap_or(0);
                    &mut found.notify
                }
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

    /// Registers the BAR mappings of the four structures a driver needs.
    ///
    /// # Errors
    /// [`DevError::Unusable`] when one is missing or outside its BAR.
    pub fn map(&self, device: &PciDevice<'_>) -> Result<(), DevError> {
        let needed = [self.common, self.notify, self.isr, self.device];
        if needed.iter().all(Option::is_none) {
            return Err(DevError::Unusable("legacy-only (no virtio 1.0 structures)"));
        }
        for structure in needed {
            let structure = structure.ok_or(DevError::Unusable("a virtio structure is missing"))?;
            map_structure(device, structure)?;
        }
        Ok(())
    }

    /// Checks that the notify addresses of `queues` lie inside the notify
    /// structure (virtio-drivers would panic on one outside). Without the
    /// configuration window the check cannot be made and is skipped.
    ///
    /// # Errors
    /// [`DevError::Unusable`] naming the problem.
    pub fn check_notify(
        &self,
        bus: &dyn PciBus,
        address: PciAddress,
        queues: &[u16],
    ) -> Result<(), DevError> {
        let Ok(window) = Window::new(self, bus, address) else {
            return Ok(());
        };
        let length = self.notify.map_or(0, |notify| u64::from(notify.length));
        for &queue in queues {
            window.write16(QUEUE_SELECT, queue)?;
            let offset = u64::from(window.read16(QUEUE_NOTIFY_OFFSET)?);
            if offset * u64::from(self.notify_multiplier) + 2 > length {
                return Err(DevError::Unusable("a queue's notify address is outside"));
            }
        }
        Ok(())
    }

    /// Points the interrupts of `queues` at MSI-X table entry `vector`
    /// (config changes at none) and checks the device took it.
    ///
    /// # Errors
    /// [`DevError::Unusable`] without the configuration window or when the
    /// device refuses the vector; [`DevError::Pci`].
    pub fn route_queues(
        &self,
        bus: &dyn PciBus,
        address: PciAddress,
        queues: &[u16],
        vector: u16,
    ) -> Result<(), DevError> {
        let window = Window::new(self, bus, address)?;
        window.write16(MSIX_CONFIG, NO_VECTOR)?;
        for &queue in queues {
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
/// shorter than its type needs or unreadable.
fn read_structure(device: &PciDevice<'_>, offset: u8) -> Option<(u8, Structure)> {
    let (bus, address, at) = (device.bus(), device.address(), u16::from(offset));
    let header = config::read_u32(bus, address, at).ok()?;
    let (length, kind) = ((header >> 16) as u8, (header >> 24) as u8);
    // As virtio-drivers chooses: the notify capability carries a multiplier.
    let needed = if kind == NOTIFY { 20 } else { 16 };
    if length < needed {
        return None;
    }
    let structure = Structure {
        bar: config::read_u8(bus, address, at + 4).ok()?,
        offset: config::read_u32(bus, address, at + 8).ok()?,
        length: config::read_u32(bus, address, at + 12).ok()?,
    };
    Some((kind, structure))
}

/// Checks `structure` lies inside its memory BAR and registers the BAR's
/// mapping with the Hal.
fn map_structure(device: &PciDevice<'_>, structure: Structure) -> Result<(), DevError> {
    let bar = device.bar(structure.bar)?;
    let end = u64::from(structure.offset) + u64::from(structure.length);
    let mapping = bar
        .mapping()
        .filter(|_| structure.length > 0 && end <= bar.size());
    let mapping = mapping.ok_or(DevError::Unusable(
        "a virtio structure lies outside its BAR",
    ))?;
    hal::register(mapping.clone());
    Ok(())
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
        Ok(self
            .bus
            .config_write(self.address, data, u32::from(value))?)
    }

    fn read16(&self, offset: u32) -> Result<u16, DevError> {
        self.aim(offset)?;
        let data = self.capability + 16;
        Ok(self.bus.config_read(self.address, data)? as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use base::hypercall::{IoWidth, PciBar, PciError};
    use dev::PciFunction;
    use std::sync::Mutex;

    /// One function's configuration space, whose configuration window
    /// reaches a common configuration held as 16-bit registers.
    #[derive(Default)]
    struct FakeVirtio {
        config: Mutex<BTreeMap<u16, u32>>,
        common: Mutex<BTreeMap<u32, u16>>,
    }

    const WINDOW_AT: u16 = 0x68;

    impl FakeVirtio {
        fn new() -> Self {
            let fake = Self::default();
            let capability = |at: u16, next: u16, kind: u32, length: u32| {
                let header = 0x09 | u32::from(next) << 8 | length << 16 | kind << 24;
                fake.set(at, header);
                fake.set(at + 4, 4); // BAR 4
            };
            fake.set(0x06 - 2, 1 << 20); // status: capability list
            fake.set(0x34, 0x40);
            capability(0x40, 0x50, u32::from(COMMON), 16);
            fake.set(0x48, 0x0000);
            fake.set(0x4c, 0x38);
            capability(0x50, WINDOW_AT, u32::from(NOTIFY), 20);
            fake.set(0x58, 0x3000);
            fake.set(0x5c, 0x1000);
            fake.set(0x50 + 16, 4); // notify_off_multiplier
            capability(WINDOW_AT, 0x80, u32::from(WINDOW), 20);
            capability(0x80, 0x00, u32::from(ISR), 16);
            fake
        }

        fn set(&self, offset: u16, value: u32) {
            self.config.lock().unwrap().insert(offset, value);
        }

        fn get(&self, offset: u16) -> u32 {
            self.config
                .lock()
                .unwrap()
                .get(&offset)
                .copied()
                .unwrap_or(0)
        }
    }

    impl PciBus for FakeVirtio {
        fn functions(&self) -> alloc::vec::Vec<PciFunction> {
            alloc::vec![function()]
        }

        fn config_read(&self, _: PciAddress, offset: u16) -> Result<u32, PciError> {
            if offset == WINDOW_AT + 16 {
                let target = self.get(WINDOW_AT + 8);
                return Ok(u32::from(
                    *self.common.lock().unwrap().get(&target).unwrap_or(&0),
                ));
            }
            Ok(self.get(offset))
        }

        fn config_write(&self, _: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
            if offset == WINDOW_AT + 16 {
                assert_eq!(self.get(WINDOW_AT + 12), 2, "16-bit accesses only");
                let target = self.get(WINDOW_AT + 8);
                self.common.lock().unwrap().insert(target, value as u16);
            }
            self.set(offset, value);
            Ok(())
        }

        fn bar(&self, _: PciAddress, _: u8) -> Result<PciBar, PciError> {
            Err(PciError::NoSuchBar)
        }

        fn io_read(&self, _: u16, _: IoWidth) -> u32 {
            u32::MAX
        }

        fn io_write(&self, _: u16, _: IoWidth, _: u32) {}
    }

    fn function() -> PciFunction {
        PciFunction {
            address: PciAddress::new(0, 0, 1, 0),
            vendor: 0x1af4,
            device: 0x1041,
            class: 2,
            subclass: 0,
            interface: 0,
            revision: 1,
            header_type: 0,
            interrupt_pin: 1,
            interrupt_line: 11,
        }
    }

    fn device(bus: &FakeVirtio) -> PciDevice<'_> {
        PciDevice::new(bus, function())
    }

    #[test]
    fn reads_the_structures_virtio_drivers_will_use() {
        let bus = FakeVirtio::new();
        let structures = Structures::read(&device(&bus));
        let common = Structure {
            bar: 4,
            offset: 0,
            length: 0x38,
        };
        assert_eq!(structures.common, Some(common));
        assert_eq!(structures.notify.map(|n| n.offset), Some(0x3000));
        assert_eq!(structures.notify_multiplier, 4);
        assert_eq!(structures.window, Some(WINDOW_AT as u8));
        assert!(structures.isr.is_some());
        assert!(structures.device.is_none());
    }

    #[test]
    fn queues_are_routed_through_the_window_and_checked() {
        let bus = FakeVirtio::new();
        let structures = Structures::read(&device(&bus));
        let at = device(&bus).address();
        structures.route_queues(&bus, at, &[0, 1], 0).unwrap();
        let common = bus.common.lock().unwrap().clone();
        assert_eq!(common.get(&MSIX_CONFIG), Some(&NO_VECTOR));
        assert_eq!(common.get(&QUEUE_SELECT), Some(&1));
        assert_eq!(common.get(&QUEUE_MSIX_VECTOR), Some(&0));
        structures.check_notify(&bus, at, &[0, 1]).unwrap();
        bus.common
            .lock()
            .unwrap()
            .insert(QUEUE_NOTIFY_OFFSET, 0x400);
        assert!(structures.check_notify(&bus, at, &[0, 1]).is_err());
    }

    #[test]
    fn a_legacy_only_function_has_no_structures() {
        let bus = FakeVirtio::default();
        let structures = Structures::read(&device(&bus));
        assert_eq!(structures, Structures::default());
        let at = device(&bus).address();
        assert!(structures.route_queues(&bus, at, &[0, 1], 0).is_err());
        assert_eq!(structures.check_notify(&bus, at, &[0, 1]), Ok(()));
    }
}
