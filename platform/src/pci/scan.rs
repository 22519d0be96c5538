//! Enumeration: every function on every reachable bus, BARs sized.
//!
//! Depth-first from bus 0; multi-function devices (header bit 7) get all
//! eight functions probed. A PCI-to-PCI bridge without a secondary bus
//! number gets the next free one, subordinate 0xFF while its subtree is
//! scanned and then the highest bus found. BARs are read and, where
//! decoding is off, sized (see `sizing.rs`).

use hypercall::{PciFunction, PciHeaderWords};

use super::address::{PciAddress, at};
use super::config::{read, write};
use super::inventory::{Function, Inventory};
use super::sizing;

const VENDOR_DEVICE: u16 = 0x00;
const HEADER: u16 = 0x0c;
pub(super) const BRIDGE_BUSES: u16 = 0x18;
pub(super) const BRIDGE_IO: u16 = 0x1c;
pub(super) const BRIDGE_MEMORY: u16 = 0x20;
const MULTI_FUNCTION: u32 = 0x80 << 16;

/// A set of bus numbers.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct BusSet([u64; 4]);

impl BusSet {
    /// Whether `bus` is in the set.
    pub fn contains(&self, bus: u8) -> bool {
        self.0[usize::from(bus / 64)] & (1 << (bus % 64)) != 0
    }

    /// Adds `bus`; false if it was in the set already.
    pub fn insert(&mut self, bus: u8) -> bool {
        let fresh = !self.contains(bus);
        self.0[usize::from(bus / 64)] |= 1 << (bus % 64);
        fresh
    }
}

/// What the scan did besides listing functions.
#[derive(Debug, Default)]
pub(super) struct Scan {
    next_bus: u16,
    scanned: BusSet,
    /// Bridges this scan gave bus numbers, by secondary bus.
    numbered: BusSet,
    /// Bridges firmware did not set up (numbered here, or memory and I/O
    /// windows both closed), by secondary bus: assignment programs them.
    unconfigured: BusSet,
}

impl Scan {
    /// Whether the bridge whose secondary bus is `bus` needs its windows
    /// programmed (firmware left it closed).
    pub fn unconfigured(&self, bus: u8) -> bool {
        self.unconfigured.contains(bus)
    }
}

/// Whether a bridge's memory and I/O windows are both closed (base above
/// limit), i.e. it forwards nothing yet.
fn windows_closed(address: PciAddress) -> bool {
    let io = read(address, BRIDGE_IO).unwrap_or(0);
    let memory = read(address, BRIDGE_MEMORY).unwrap_or(0);
    let io_closed = (io & 0xf0) > ((io >> 8) & 0xf0);
    let memory_closed = (memory & 0xfff0) > ((memory >> 16) & 0xfff0);
    io_closed && memory_closed
}

/// Scans all buses reachable from bus 0 into `inventory`.
pub(super) fn scan(inventory: &mut Inventory) -> Scan {
    let mut scan = Scan {
        next_bus: 1,
        ..Scan::default()
    };
    scan_bus(0, &mut scan, inventory);
    scan
}

fn scan_bus(bus: u8, scan: &mut Scan, inventory: &mut Inventory) {
    if !scan.scanned.insert(bus) {
        return;
    }
    for device in 0..32 {
        let first = at(bus, device, 0);
        let Some(header) = present(first).then(|| read(first, HEADER).unwrap_or(0)) else {
            continue;
        };
        let functions = if header & MULTI_FUNCTION != 0 {
            0..8
        } else {
            0..1
        };
        for function in functions {
            let address = at(bus, device, function);
            if present(address) {
                visit(address, scan, inventory);
            }
        }
    }
}

fn present(address: PciAddress) -> bool {
    read(address, VENDOR_DEVICE).is_ok_and(|ids| ids & 0xffff != 0xffff)
}

fn visit(address: PciAddress, scan: &mut Scan, inventory: &mut Inventory) {
    let Some(mut function) = describe(address) else {
        return;
    };
    if function.info.header_type == 1 {
        let closed = windows_closed(address);
        let secondary = number_bridge(address, scan);
        function.secondary_bus = secondary;
        inventory.push(function);
        if let Some(bus) = secondary {
            if closed || scan.numbered.contains(bus) {
                scan.unconfigured.insert(bus);
            }
            scan_bus(bus, scan, inventory);
            finish_bridge(address, scan);
        }
    } else {
        inventory.push(function);
    }
}

/// Reads identification and sizes the BARs of a device (header 0) or
/// bridge (header 1); CardBus bridges are listed without BARs.
fn describe(address: PciAddress) -> Option<Function> {
    let [vendor_device, class_revision, header, interrupt] =
        PciHeaderWords::OFFSETS.map(|offset| read(address, offset));
    let words = PciHeaderWords {
        vendor_device: vendor_device.ok()?,
        class_revision: class_revision.ok()?,
        header: header.ok()?,
        interrupt: interrupt.ok()?,
    };
    let info = PciFunction::from_header(address, words)?;
    let (bars, sized) = sizing::read_bars(address, info.header_type);
    Some(Function {
        info,
        bars,
        sized,
        secondary_bus: None,
    })
}

/// The bridge's secondary bus, numbering it if firmware did not.
fn number_bridge(address: PciAddress, scan: &mut Scan) -> Option<u8> {
    let buses = read(address, BRIDGE_BUSES).ok()?;
    let secondary = ((buses >> 8) & 0xff) as u8;
    if secondary != 0 {
        let subordinate = ((buses >> 16) & 0xff) as u16;
        scan.next_bus = scan.next_bus.max(subordinate + 1);
        return Some(secondary);
    }
    let secondary = u8::try_from(scan.next_bus).ok()?;
    scan.next_bus += 1;
    scan.numbered.insert(secondary);
    let numbers = 0xff << 16 | u32::from(secondary) << 8 | u32::from(address.bus());
    write(address, BRIDGE_BUSES, (buses & 0xff00_0000) | numbers).ok()?;
    Some(secondary)
}

/// Sets the subordinate bus of a bridge numbered here to the last bus
/// its subtree received.
fn finish_bridge(address: PciAddress, scan: &Scan) {
    let Ok(buses) = read(address, BRIDGE_BUSES) else {
        return;
    };
    let secondary = ((buses >> 8) & 0xff) as u8;
    if !scan.numbered.contains(secondary) {
        return;
    }
    let subordinate = (scan.next_bus - 1).min(0xff) as u32;
    let _ = write(
        address,
        BRIDGE_BUSES,
        (buses & 0xff00_ffff) | subordinate << 16,
    );
}
