//! PCI enumeration: every function on every bus reachable from bus 0.
//!
//! Depth-first from bus 0, as the platform numbered it: each of the 32
//! device slots is probed at function 0 (an absent function reads vendor
//! 0xffff); a multi-function header (bit 7) gets functions 1..=7 probed
//! too. A PCI-to-PCI bridge leads to its secondary bus. Each bus is
//! scanned at most once, so a bridge pointing back at a scanned bus (bad
//! firmware) cannot loop, and a failing configuration read counts as an
//! absent function: enumeration never fails, it finds what answers.

use alloc::vec::Vec;
use core::fmt;

use base::hypercall::{PciAddress, PciBus};

use crate::config::{self, ABSENT_VENDOR, HEADER_BRIDGE, MULTI_FUNCTION};

/// Device slots per bus.
const DEVICES: u8 = 32;
/// Functions per device.
const FUNCTIONS: u8 = 8;

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

/// Lists every function reachable from bus 0, in bus order as found.
pub fn enumerate(bus: &dyn PciBus) -> Vec<PciFunction> {
    let mut found = Vec::new();
    let mut scanned = [false; 256];
    let mut pending = Vec::from([0u8]);
    while let Some(number) = pending.pop() {
        if core::mem::replace(&mut scanned[usize::from(number)], true) {
            continue;
        }
        let first = found.len();
        scan_bus(bus, number, &mut found);
        // Push in reverse so the first bridge's bus is scanned next.
        for function in found[first..].iter().rev() {
            if let Some(secondary) = secondary_bus(bus, function) {
                pending.push(secondary);
            }
        }
    }
    found
}

fn scan_bus(bus: &dyn PciBus, number: u8, found: &mut Vec<PciFunction>) {
    for device in 0..DEVICES {
        let Some(first) = probe(bus, address(number, device, 0)) else {
            continue;
        };
        found.push(first.0);
        if !first.1 {
            continue;
        }
        for function in 1..FUNCTIONS {
            if let Some((found_function, _)) = probe(bus, address(number, device, function)) {
                found.push(found_function);
            }
        }
    }
}

fn address(bus: u8, device: u8, function: u8) -> PciAddress {
    PciAddress {
        bus,
        device,
        function,
    }
}

/// Reads one function, and whether its header says multi-function;
/// `None` when absent or unreadable.
fn probe(bus: &dyn PciBus, address: PciAddress) -> Option<(PciFunction, bool)> {
    let ids = bus.config_read(address, config::VENDOR_DEVICE).ok()?;
    let vendor = ids as u16;
    if vendor == ABSENT_VENDOR {
        return None;
    }
    let class = bus.config_read(address, config::CLASS_REVISION).ok()?;
    let header = config::read_u8(bus, address, config::HEADER + 2).ok()?;
    let interrupt = bus.config_read(address, config::INTERRUPT).ok()?;
    let function = PciFunction {
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
    };
    Some((function, header & MULTI_FUNCTION != 0))
}

/// The bus behind a bridge; `None` for devices and unnumbered bridges.
fn secondary_bus(bus: &dyn PciBus, function: &PciFunction) -> Option<u8> {
    if function.header_type != HEADER_BRIDGE {
        return None;
    }
    let secondary = config::read_u8(bus, function.address, config::BRIDGE_BUSES + 1).ok()?;
    (secondary != 0).then_some(secondary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BRIDGE_BUSES, HEADER};
    use crate::fake::FakeBus;

    fn addresses(bus: &FakeBus) -> Vec<(u8, u8, u8)> {
        enumerate(bus)
            .iter()
            .map(|f| (f.address.bus, f.address.device, f.address.function))
            .collect()
    }

    #[test]
    fn finds_devices_and_decodes_their_headers() {
        let bus = FakeBus::new();
        let nic = bus.add_function(0, 2, 0, 0x1af4, 0x1041);
        bus.set(nic, config::CLASS_REVISION, 0x0200_0001);
        bus.set(nic, config::INTERRUPT, 0x0000_010b);
        bus.add_function(0, 31, 0, 0x8086, 0x2918);
        let found = enumerate(&bus);
        assert_eq!(found.len(), 2);
        let first = found[0];
        assert_eq!((first.vendor, first.device), (0x1af4, 0x1041));
        assert_eq!((first.class, first.subclass, first.revision), (2, 0, 1));
        assert_eq!((first.interrupt_pin, first.interrupt_line), (1, 0x0b));
        assert_eq!(found[1].address.device, 31);
        assert_eq!(std::format!("{first}"), "pci 00:02.0 1af4:1041 class 02.00");
    }

    #[test]
    fn functions_beyond_zero_only_on_multi_function_devices() {
        let bus = FakeBus::new();
        let multi = bus.add_function(0, 1, 0, 0x8086, 1);
        bus.set(multi, HEADER, u32::from(MULTI_FUNCTION) << 16);
        bus.add_function(0, 1, 3, 0x8086, 2);
        bus.add_function(0, 1, 7, 0x8086, 3);
        bus.add_function(0, 2, 0, 0x8086, 4);
        // Function 5 of a single-function device is not probed.
        bus.add_function(0, 2, 5, 0x8086, 5);
        assert_eq!(
            addresses(&bus),
            [(0, 1, 0), (0, 1, 3), (0, 1, 7), (0, 2, 0)]
        );
    }

    #[test]
    fn bridges_lead_to_their_secondary_bus_once() {
        let bus = FakeBus::new();
        let bridge = bus.add_function(0, 1, 0, 0x1b36, 0x000c);
        bus.set(bridge, HEADER, u32::from(HEADER_BRIDGE) << 16);
        bus.set(bridge, BRIDGE_BUSES, 0x0002_0200); // secondary 2
        bus.add_function(0, 3, 0, 0x8086, 1);
        bus.add_function(2, 0, 0, 0x1af4, 0x1041);
        // A bridge on bus 2 that points back at bus 0 and at itself.
        let back = bus.add_function(2, 4, 0, 0x1b36, 0x000c);
        bus.set(back, HEADER, u32::from(HEADER_BRIDGE) << 16);
        bus.set(back, BRIDGE_BUSES, 0x0000_0000);
        let loop_bridge = bus.add_function(2, 5, 0, 0x1b36, 0x000c);
        bus.set(loop_bridge, HEADER, u32::from(HEADER_BRIDGE) << 16);
        bus.set(loop_bridge, BRIDGE_BUSES, 0x0002_0200);
        assert_eq!(
            addresses(&bus),
            [(0, 1, 0), (0, 3, 0), (2, 0, 0), (2, 4, 0), (2, 5, 0)]
        );
    }

    #[test]
    fn an_empty_bus_has_no_functions() {
        assert!(enumerate(&FakeBus::new()).is_empty());
    }
}
