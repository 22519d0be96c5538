//! virtio-drivers' `ConfigurationAccess` over [`PciBus`], with BARs served
//! from the host's tokens.
//!
//! The crate's PCI transport learns where a BAR lies by sizing it: it
//! writes all ones to the BAR register, reads the mask back and restores
//! the value. The host owns BARs and refuses writes to them, so this
//! adapter answers BAR registers itself, from the [`PciBar`] the host
//! handed out: a read gives the BAR's value, or its size mask while the
//! crate is sizing (after it wrote all ones); writes only move that latch.
//! Every other register goes to the bus unchanged.

use alloc::vec::Vec;

use base::hypercall::{BarKind, PciAddress, PciBar, PciBus};
use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction};

/// The first BAR register; BAR `n` is at `BAR0 + 4 n`.
const BAR0: u8 = 0x10;
/// BAR registers of a header-0 function.
const BAR_SLOTS: u8 = 6;

/// PCI configuration access for the crate's transport.
pub(crate) struct PciConfiguration<'a> {
    bus: &'a dyn PciBus,
    /// BAR registers the crate wrote all ones to: (function, slot).
    sizing: Vec<(PciAddress, u8)>,
}

impl<'a> PciConfiguration<'a> {
    pub(crate) fn new(bus: &'a dyn PciBus) -> Self {
        Self {
            bus,
            sizing: Vec::new(),
        }
    }

    /// The value (or, while sizing, the mask) of BAR register `slot`.
    fn bar_register(&self, at: PciAddress, slot: u8) -> u32 {
        let sizing = self.sizing.contains(&(at, slot));
        if let Ok(bar) = self.bus.bar(at, slot) {
            return low_word(&bar, sizing);
        }
        // The upper half of a 64-bit BAR has no token of its own.
        match slot.checked_sub(1).map(|below| self.bus.bar(at, below)) {
            Some(Ok(bar)) if bar.kind().is_64_bit() => high_word(&bar, sizing),
            _ => 0,
        }
    }

    /// Moves the sizing latch of BAR register `slot`.
    fn bar_write(&mut self, at: PciAddress, slot: u8, value: u32) {
        self.sizing.retain(|&latched| latched != (at, slot));
        if value == u32::MAX {
            self.sizing.push((at, slot));
        }
    }
}

/// The BAR slot register `offset` holds, if it is one.
fn bar_slot(offset: u8) -> Option<u8> {
    let slot = offset.checked_sub(BAR0)? / 4;
    (slot < BAR_SLOTS && offset.is_multiple_of(4)).then_some(slot)
}

fn address(function: DeviceFunction) -> PciAddress {
    PciAddress::new(0, function.bus, function.device, function.function)
}

/// The low bits of a BAR register that say what it decodes.
fn type_bits(kind: BarKind) -> u32 {
    match kind {
        BarKind::Io => 0b1,
        BarKind::Memory32 { prefetchable } => u32::from(prefetchable) << 3,
        BarKind::Memory64 { prefetchable } => 0b100 | u32::from(prefetchable) << 3,
    }
}

/// The address, or while sizing the size mask, as a 64-bit value.
fn address_or_mask(bar: &PciBar, sizing: bool) -> u64 {
    if sizing {
        !(bar.size().max(1) - 1)
    } else {
        bar.address()
    }
}

/// The BAR register itself (the low half of a 64-bit BAR).
fn low_word(bar: &PciBar, sizing: bool) -> u32 {
    let flags = if bar.kind() == BarKind::Io { 0b11 } else { 0xf };
    (address_or_mask(bar, sizing) as u32 & !flags) | type_bits(bar.kind())
}

/// The register after a 64-bit BAR: its upper half.
fn high_word(bar: &PciBar, sizing: bool) -> u32 {
    (address_or_mask(bar, sizing) >> 32) as u32
}

impl ConfigurationAccess for PciConfiguration<'_> {
    fn read_word(&self, function: DeviceFunction, offset: u8) -> u32 {
        let at = address(function);
        if let Some(slot) = bar_slot(offset) {
            return self.bar_register(at, slot);
        }
        // An unreadable register reads as an absent device's would.
        self.bus
            .config_read(at, u16::from(offset))
            .unwrap_or(u32::MAX)
    }

    fn write_word(&mut self, function: DeviceFunction, offset: u8, data: u32) {
        let at = address(function);
        if let Some(slot) = bar_slot(offset) {
            self.bar_write(at, slot, data);
            return;
        }
        // Writes to invalid offsets go nowhere, as on the bus.
        let _ = self.bus.config_write(at, u16::from(offset), data);
    }

    // The crate marks this `unsafe` for adapters that own hardware state;
    // ours shares only the bus and copies its latches, so nothing here
    // needs the caller's promise.
    #[allow(unsafe_code, reason = "the trait's signature, not unsafe work")]
    unsafe fn unsafe_clone(&self) -> Self {
        Self {
            bus: self.bus,
            sizing: self.sizing.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dev::fake::FakeBus;
    use virtio_drivers::transport::pci::bus::{BarInfo, MemoryBarType, PciRoot};

    fn function(at: PciAddress) -> DeviceFunction {
        DeviceFunction {
            bus: at.bus(),
            device: at.device(),
            function: at.function(),
        }
    }

    #[test]
    fn the_crate_sizes_bars_from_the_hosts_tokens_without_writing_them() {
        let bus = FakeBus::new();
        let at = bus.add_function(0, 3, 0, 0x1af4, 0x1041);
        bus.add_memory_bar(at, 4, 0x4000);
        let token = bus.bar(at, 4).unwrap();
        let mut root = PciRoot::new(PciConfiguration::new(&bus));
        let info = root.bar_info(function(at), 4).unwrap();
        let address_type = match token.kind() {
            BarKind::Memory64 { .. } => MemoryBarType::Width64,
            _ => MemoryBarType::Width32,
        };
        let expected = BarInfo::Memory {
            address_type,
            prefetchable: false,
            address: token.address(),
            size: 0x4000,
        };
        assert_eq!(info, Some(expected));
        let writes = bus.writes.lock().unwrap();
        assert!(
            writes
                .iter()
                .all(|&(_, offset, _)| bar_slot(offset as u8).is_none()),
            "no BAR register reached the bus: {writes:?}"
        );
    }

    #[test]
    fn bars_the_host_does_not_have_read_as_unimplemented() {
        let bus = FakeBus::new();
        let at = bus.add_function(0, 3, 0, 0x1af4, 0x1041);
        let mut root = PciRoot::new(PciConfiguration::new(&bus));
        assert_eq!(root.bar_info(function(at), 0).unwrap(), None);
    }

    #[test]
    fn registers_encode_kind_and_size_as_the_specification_says() {
        let bar = PciBar::io(0xc040, 0x20);
        assert_eq!(low_word(&bar, false), 0xc041);
        assert_eq!(low_word(&bar, true), 0xffff_ffe1);
        assert_eq!(bar_slot(0x10), Some(0));
        assert_eq!(bar_slot(0x24), Some(5));
        assert_eq!(bar_slot(0x28), None);
        assert_eq!(bar_slot(0x12), None);
        assert_eq!(bar_slot(0x0c), None);
        assert_eq!(type_bits(BarKind::Memory64 { prefetchable: true }), 0b1100);
    }
}
