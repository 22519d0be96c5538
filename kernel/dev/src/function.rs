//! The PCI functions the host found, described from configuration space.
//!
//! The host enumerated the bus when it assigned resources (firmware's job:
//! `platform/src/pci/scan.rs` on bare metal), so the kernel does not walk
//! it again: [`functions`] reads the identity, class and interrupt
//! registers of each address in [`PciBus::functions`]. A function that no
//! longer answers, or whose registers cannot be read, is left out.

use alloc::vec::Vec;
use core::fmt;

use base::hypercall::{PciAddress, PciBus};

use crate::config::{self, ABSENT_VENDOR, MULTI_FUNCTION};

/// One function found on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciFunction {
    /// Where it is.
    pub address: PciAddress,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Base class (0x02 network, 0x06 bridge, …).
    pub class: u8,
    /// Subclass.
    pub subclass: u8,
    /// Programming interface.
    pub interface: u8,
    /// Revision.
    pub revision: u8,
    /// Header type without the multi-function bit (0 device, 1 bridge).
    pub header_type: u8,
    /// Interrupt pin: 1..=4 for INTA..INTD, 0 for none.
    pub interrupt_pin: u8,
    /// Interrupt line as firmware routed it (a GSI on a PC; 0xff: none).
    pub interrupt_line: u8,
}

impl fmt::Display for PciFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pci {} {:04x}:{:04x} class {:02x}.{:02x}",
            self.address, self.vendor, self.device, self.class, self.subclass
        )
    }
}

/// The functions the host found, described, in the host's (bus) order.
pub fn functions(bus: &dyn PciBus) -> Vec<PciFunction> {
    bus.functions()
        .into_iter()
        .filter_map(|address| describe(bus, address))
        .collect()
}

/// Reads one function's header; `None` when absent or unreadable.
pub fn describe(bus: &dyn PciBus, address: PciAddress) -> Option<PciFunction> {
    let ids = bus.config_read(address, config::VENDOR_DEVICE).ok()?;
    let vendor = ids as u16;
    if vendor == ABSENT_VENDOR {
        return None;
    }
    let class = bus.config_read(address, config::CLASS_REVISION).ok()?;
    let header = config::read_u8(bus, address, config::HEADER + 2).ok()?;
    let interrupt = bus.config_read(address, config::INTERRUPT).ok()?;
    Some(PciFunction {
        address,
        vendor,
        device: (ids >> 16) as u16,
        class: (class >> 24) as u8,
        subclass: (class >> 16) as u8,
        interface: (class >> 8) as u8,
        revision: class as u8,
        header_type: header & !MULTI_FUNCTION,
        interrupt_pin: (interrupt >> 8) as u8,
        interrupt_line: interrupt as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HEADER;
    use crate::fake::FakeBus;

    #[test]
    fn describes_each_function_from_its_header() {
        let bus = FakeBus::new();
        let nic = bus.add_function(0, 2, 0, 0x1af4, 0x1041);
        bus.set(nic, config::CLASS_REVISION, 0x0200_0001);
        bus.set(nic, config::INTERRUPT, 0x0000_010b);
        let multi = bus.add_function(0, 31, 0, 0x8086, 0x2918);
        bus.set(multi, HEADER, u32::from(MULTI_FUNCTION | 1) << 16);
        let found = functions(&bus);
        assert_eq!(found.len(), 2);
        let first = found[0];
        assert_eq!((first.vendor, first.device), (0x1af4, 0x1041));
        assert_eq!((first.class, first.subclass, first.revision), (2, 0, 1));
        assert_eq!((first.interrupt_pin, first.interrupt_line), (1, 0x0b));
        assert_eq!(found[1].address.device(), 31);
        assert_eq!(found[1].header_type, 1, "without the multi-function bit");
        assert_eq!(
            std::format!("{first}"),
            "pci 0000:00:02.0 1af4:1041 class 02.00"
        );
    }

    #[test]
    fn functions_that_stopped_answering_are_left_out() {
        let bus = FakeBus::new();
        let gone = bus.add_function(0, 1, 0, 0x8086, 1);
        bus.add_function(0, 2, 0, 0x8086, 2);
        bus.set(gone, config::VENDOR_DEVICE, u32::MAX);
        let found = functions(&bus);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].address.device(), 2);
    }

    #[test]
    fn a_bus_without_functions_lists_none() {
        assert!(functions(&FakeBus::new()).is_empty());
    }
}
