//! Autoconfiguration: the match table from PCI IDs to drivers, and the
//! faction's service that hands each function to the driver serving it.
//!
//! After NetBSD's autoconf(9), cut down to PCI: a driver component
//! declares a [`PciDriver`] (its name, the (vendor, device) pairs it
//! serves, its attach function) and calls [`Dev::attach_drivers`] at the
//! DEV level. Each function that no driver has claimed yet and that
//! matches goes to `attach` as a [`PciDevice`]; a success claims it, a
//! failure is logged with the function's address and the boot goes on.

use alloc::sync::Arc;
use alloc::vec::Vec;

use base::Context;
use base::component::{Component, ComponentError, InitLevel};
use base::hypercall::{PciAddress, PciBar, PciBus, PciFunction};
use base::sync::Mutex;
use log::{debug, info, warn};

use crate::capability::{self, Capabilities};
use crate::config::{self, CommandRegister};
use crate::error::DevError;
use crate::interrupt::{self, DeviceInterrupt, InterruptMode};
use crate::msix::Msix;

/// The faction's component: lists the host's PCI functions and installs
/// [`Dev`].
pub static DEV: Component = Component {
    name: "pci",
    level: InitLevel::Dev,
    requires: &[],
    init: init_dev,
};

/// A (vendor, device) pair a driver serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciId {
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
}

impl PciId {
    /// The pair.
    pub const fn new(vendor: u16, device: u16) -> Self {
        Self { vendor, device }
    }
}

/// What attaches a driver to one function.
pub type AttachFunction = fn(&Context<'_>, &PciDevice<'_>) -> Result<(), DevError>;

/// A driver's line in the match table.
#[derive(Debug)]
pub struct PciDriver {
    /// The driver's name, for the log.
    pub name: &'static str,
    /// The functions it serves.
    pub ids: &'static [PciId],
    /// Attaches it to one matching function.
    pub attach: AttachFunction,
}

impl PciDriver {
    /// Whether this driver serves `function`.
    pub fn matches(&self, function: &PciFunction) -> bool {
        self.ids
            .iter()
            .any(|id| id.vendor == function.vendor && id.device == function.device)
    }
}

/// The first of `drivers` that serves `function`.
pub fn driver_for<'a>(drivers: &[&'a PciDriver], function: &PciFunction) -> Option<&'a PciDriver> {
    drivers
        .iter()
        .copied()
        .find(|driver| driver.matches(function))
}

/// A function handed to a driver, with the bus it sits on.
#[derive(Clone, Copy)]
pub struct PciDevice<'a> {
    bus: &'a dyn PciBus,
    function: PciFunction,
}

impl core::fmt::Debug for PciDevice<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("PciDevice").field(&self.function).finish()
    }
}

impl<'a> PciDevice<'a> {
    /// `function` on `bus`.
    pub fn new(bus: &'a dyn PciBus, function: PciFunction) -> Self {
        Self { bus, function }
    }

    /// What enumeration found.
    pub fn function(&self) -> &PciFunction {
        &self.function
    }

    /// Its address.
    pub fn address(&self) -> PciAddress {
        self.function.address
    }

    /// The bus, for configuration access.
    pub fn bus(&self) -> &'a dyn PciBus {
        self.bus
    }

    /// BAR `index`, decoded and (memory) mapped by the host.
    ///
    /// # Errors
    /// [`DevError::Pci`].
    pub fn bar(&self, index: u8) -> Result<PciBar, DevError> {
        Ok(self.bus.bar(self.function.address, index)?)
    }

    /// Its capability list.
    pub fn capabilities(&self) -> Capabilities<'a> {
        capability::capabilities(self.bus, self.function.address)
    }

    /// Its MSI-X capability, if any.
    pub fn msix(&self) -> Option<Msix> {
        Msix::find(self.bus, self.function.address)
    }

    /// Lets it decode memory and master the bus (DMA, MSI writes).
    ///
    /// # Errors
    /// [`DevError::Pci`].
    pub fn enable_bus_master(&self) -> Result<(), DevError> {
        let set = CommandRegister::MEMORY_ENABLE | CommandRegister::BUS_MASTER_ENABLE;
        let clear = CommandRegister::empty();
        Ok(config::update_command(
            self.bus,
            self.function.address,
            set,
            clear,
        )?)
    }

    /// Its interrupt as the thread `intr/<name>` (see [`interrupt::establish`]).
    ///
    /// # Errors
    /// As [`interrupt::establish`].
    pub fn establish_interrupt(
        &self,
        context: &Context<'_>,
        name: &str,
        mode: InterruptMode,
        handler: impl Fn(&Context<'_>) + Send + Sync + 'static,
    ) -> Result<DeviceInterrupt, DevError> {
        interrupt::establish(context, self.bus, &self.function, name, mode, handler)
    }
}

/// The dev faction's service: the functions on the bus and who claimed what.
#[derive(Debug)]
pub struct Dev {
    functions: Vec<PciFunction>,
    claimed: Mutex<Vec<bool>>,
}

impl Dev {
    /// The service of the kernel `context` runs in, if installed.
    pub fn of(context: &Context<'_>) -> Option<Arc<Self>> {
        context.kernel().service::<Self>(context)
    }

    /// The service, listing the host's functions and installing it on
    /// first use. Without a PCI bus it lists no functions.
    pub fn get_or_install(context: &Context<'_>) -> Arc<Self> {
        if let Some(dev) = Self::of(context) {
            return dev;
        }
        let functions = match context.kernel().hypercalls().pci() {
            Some(bus) => bus.functions(),
            None => Vec::new(),
        };
        let claimed = Mutex::new(alloc::vec![false; functions.len()]);
        let dev = Arc::new(Self { functions, claimed });
        context.kernel().install_service(context, dev.clone());
        dev
    }

    /// Every function the host found, in bus order.
    pub fn functions(&self) -> &[PciFunction] {
        &self.functions
    }

    /// Hands each unclaimed function that one of `drivers` serves to its
    /// `attach`; returns how many attached. Failures are logged.
    pub fn attach_drivers(&self, context: &Context<'_>, drivers: &[&PciDriver]) -> usize {
        let Some(bus) = context.kernel().hypercalls().pci() else {
            return 0;
        };
        let mut attached = 0;
        for (index, function) in self.functions.iter().enumerate() {
            let claimed = self.claimed.lock(context).get(index).copied();
            if claimed != Some(false) {
                continue;
            }
            let Some(driver) = driver_for(drivers, function) else {
                continue;
            };
            match (driver.attach)(context, &PciDevice::new(bus, *function)) {
                Ok(()) => {
                    if let Some(flag) = self.claimed.lock(context).get_mut(index) {
                        *flag = true;
                    }
                    attached += 1;
                }
                Err(error) => warn!("{function}: {}: {error}; not attached", driver.name),
            }
        }
        attached
    }
}

fn init_dev(context: &Context<'_>) -> Result<(), ComponentError> {
    let dev = Dev::get_or_install(context);
    for function in dev.functions() {
        debug!("{function}");
    }
    if !dev.functions().is_empty() {
        info!("pci: {} functions", dev.functions().len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeBus;

    fn attach_nothing(_: &Context<'_>, _: &PciDevice<'_>) -> Result<(), DevError> {
        Ok(())
    }

    static VIRTIO: PciDriver = PciDriver {
        name: "vioif",
        ids: &[PciId::new(0x1af4, 0x1041), PciId::new(0x1af4, 0x1000)],
        attach: attach_nothing,
    };
    static E1000: PciDriver = PciDriver {
        name: "wm",
        ids: &[PciId::new(0x8086, 0x100e)],
        attach: attach_nothing,
    };

    #[test]
    fn the_match_table_picks_by_vendor_and_device() {
        let bus = FakeBus::new();
        bus.add_function(0, 1, 0, 0x1af4, 0x1000);
        bus.add_function(0, 2, 0, 0x8086, 0x100e);
        bus.add_function(0, 3, 0, 0x1af4, 0x1042); // virtio-blk: nobody
        bus.add_function(0, 4, 0, 0x1234, 0x1041); // right device, wrong vendor
        let found = bus.functions();
        let drivers = [&VIRTIO, &E1000];
        let names: Vec<_> = found
            .iter()
            .map(|f| driver_for(&drivers, f).map(|d| d.name))
            .collect();
        assert_eq!(names, [Some("vioif"), Some("wm"), None, None]);
    }

    #[test]
    fn bus_master_sets_memory_and_master_bits() {
        let bus = FakeBus::new();
        bus.add_function(0, 1, 0, 0x1af4, 0x1041);
        let function = bus.functions()[0];
        let device = PciDevice::new(&bus, function);
        device.enable_bus_master().unwrap();
        assert_eq!(bus.get(device.address(), config::COMMAND_STATUS), 0b110);
        assert!(device.msix().is_none());
        assert_eq!(device.capabilities().count(), 0);
    }
}
