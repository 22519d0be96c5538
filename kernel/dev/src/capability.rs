//! The capability list: walking a function's chain of capabilities.
//!
//! The list is valid when status bit 4 is set; it starts at the byte at
//! 0x34 and each entry holds its ID (byte 0) and the next offset (byte 1).
//! Offsets below 0x40 end the walk (they would be inside the header), the
//! low two bits are reserved and masked, and at most 48 entries (all that
//! fit in 192 bytes) are visited, so a looping list from a broken device
//! ends instead of hanging the boot.

use base::hypercall::{PciAddress, PciBus};

use crate::config::{self, CAPABILITIES_POINTER, COMMAND_STATUS, STATUS_CAPABILITIES};

/// Capability ID: message-signalled interrupts.
pub const ID_MSI: u8 = 0x05;
/// Capability ID: vendor-specific (virtio's structures use it).
pub const ID_VENDOR: u8 = 0x09;
/// Capability ID: PCI Express.
pub const ID_EXPRESS: u8 = 0x10;
/// Capability ID: MSI-X.
pub const ID_MSIX: u8 = 0x11;

/// The most entries a valid list can have.
const MAX_ENTRIES: u8 = 48;
/// The first offset after the standard header.
const FIRST_OFFSET: u8 = 0x40;

/// One capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    /// Its ID.
    pub id: u8,
    /// Where it starts in configuration space.
    pub offset: u8,
}

/// Iterator over a function's capabilities (see the module docs).
#[derive(Clone, Copy)]
pub struct Capabilities<'a> {
    bus: &'a dyn PciBus,
    address: PciAddress,
    next: u8,
    remaining: u8,
}

impl core::fmt::Debug for Capabilities<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Capabilities")
            .field("address", &self.address)
            .field("next", &self.next)
            .finish()
    }
}

/// The capabilities of the function at `address`; none if its status says
/// it has no list or cannot be read.
pub fn capabilities(bus: &dyn PciBus, address: PciAddress) -> Capabilities<'_> {
    let status = config::read_u16(bus, address, COMMAND_STATUS + 2).unwrap_or(0);
    let first = if status & STATUS_CAPABILITIES != 0 {
        config::read_u8(bus, address, CAPABILITIES_POINTER).unwrap_or(0)
    } else {
        0
    };
    Capabilities {
        bus,
        address,
        next: first & !3,
        remaining: MAX_ENTRIES,
    }
}

/// The first capability with `id`.
pub fn find(bus: &dyn PciBus, address: PciAddress, id: u8) -> Option<Capability> {
    capabilities(bus, address).find(|capability| capability.id == id)
}

impl Iterator for Capabilities<'_> {
    type Item = Capability;

    fn next(&mut self) -> Option<Capability> {
        if self.next < FIRST_OFFSET || self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let offset = self.next;
        let Ok(header) = config::read_u16(self.bus, self.address, u16::from(offset)) else {
            self.next = 0;
            return None;
        };
        self.next = (header >> 8) as u8 & !3;
        Some(Capability {
            id: header as u8,
            offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeBus;
    use std::vec::Vec;

    fn with_list(bus: &FakeBus, first: u8) -> PciAddress {
        let at = bus.add_function(0, 4, 0, 0x1af4, 0x1041);
        bus.set(at, COMMAND_STATUS, u32::from(STATUS_CAPABILITIES) << 16);
        bus.set(at, CAPABILITIES_POINTER, u32::from(first));
        at
    }

    fn ids(bus: &FakeBus, at: PciAddress) -> Vec<(u8, u8)> {
        capabilities(bus, at).map(|c| (c.id, c.offset)).collect()
    }

    #[test]
    fn walks_the_chain_in_order() {
        let bus = FakeBus::new();
        let at = with_list(&bus, 0x98);
        bus.set(at, 0x98, 0x0084_8411); // MSI-X, next 0x84
        bus.set(at, 0x84, 0x1000_7009); // vendor, next 0x70
        bus.set(at, 0x70, 0x0000_0009); // vendor, end
        assert_eq!(ids(&bus, at), [(0x11, 0x98), (0x09, 0x84), (0x09, 0x70)]);
        assert_eq!(find(&bus, at, ID_MSIX).map(|c| c.offset), Some(0x98));
        assert_eq!(find(&bus, at, ID_MSI), None);
    }

    #[test]
    fn no_list_without_the_status_bit() {
        let bus = FakeBus::new();
        let at = with_list(&bus, 0x40);
        bus.set(at, 0x40, 0x0000_0011);
        bus.set(at, COMMAND_STATUS, 0);
        assert!(ids(&bus, at).is_empty());
    }

    #[test]
    fn loops_and_header_pointers_end_the_walk() {
        let bus = FakeBus::new();
        let at = with_list(&bus, 0x40);
        bus.set(at, 0x40, 0x0000_4011); // points at itself
        let visited = ids(&bus, at);
        assert_eq!(visited.len(), usize::from(MAX_ENTRIES));
        let bus = FakeBus::new();
        let at = with_list(&bus, 0x43); // reserved bits masked
        bus.set(at, 0x40, 0x0000_1005); // next 0x10: inside the header
        assert_eq!(ids(&bus, at), [(0x05, 0x40)]);
        let bus = FakeBus::new();
        let at = with_list(&bus, 0x20);
        assert!(ids(&bus, at).is_empty());
    }
}
