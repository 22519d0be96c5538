//! The MADT ("APIC"): which I/O APICs the machine has.
//!
//! The crate types the entries (`acpi::madt::MadtEntry`), but its walk
//! trusts every length: an entry of length 0 makes it spin forever, one
//! running past the table makes its remaining count wrap, one shorter than
//! its type is read together with the bytes after it, and a table shorter
//! than its fixed part wraps at once. So `CheckedMadt::new` first walks
//! the `type, length` chain over the table's bytes ([`well_formed`]): the
//! crate walks a MADT only when every entry is at least as long as the
//! crate's structure for its type and the chain ends exactly at the end
//! of the table. A malformed MADT lists nothing.

use core::mem::size_of;

use acpi::PhysicalMapping;
use acpi::madt::{self, Madt, MadtEntry};

use super::mapper::Mapper;
use crate::bootinfo::PhysicalMemory;

/// One I/O APIC the MADT lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoApicEntry {
    /// Its APIC ID.
    pub id: u8,
    /// Physical address of its registers.
    pub address: u32,
    /// The GSI of its first pin.
    pub gsi_base: u32,
}

/// How an ISA interrupt reaches the I/O APIC, after the MADT's
/// interrupt source overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsaRoute {
    /// The GSI it arrives on.
    pub gsi: u32,
    /// Level-triggered (`Some(true)`), edge (`Some(false)`), or as the
    /// bus defines (`None`, "conforms").
    pub level_triggered: Option<bool>,
    /// Active low, active high, or as the bus defines.
    pub active_low: Option<bool>,
}

impl IsaRoute {
    /// The route of an override to `gsi` with MPS INTI `flags`.
    pub fn from_override(gsi: u32, flags: u16) -> Self {
        let decode = |bits: u16| match bits & 0b11 {
            0b01 => Some(false),
            0b11 => Some(true),
            _ => None,
        };
        Self {
            gsi,
            level_triggered: decode(flags >> 2),
            active_low: decode(flags),
        }
    }
}

/// A MADT the crate validated and [`well_formed`] admitted.
#[derive(Debug)]
pub struct CheckedMadt<'m, M: PhysicalMemory> {
    table: PhysicalMapping<Mapper<'m, M>, Madt>,
}

impl<'m, M: PhysicalMemory> CheckedMadt<'m, M> {
    /// `table` if its entries are safe for the crate to walk.
    pub(super) fn new(
        mapper: Mapper<'m, M>,
        table: PhysicalMapping<Mapper<'m, M>, Madt>,
    ) -> Option<Self> {
        let length = usize::try_from(table.get().header.length).ok()?;
        let address = u64::try_from(table.physical_start()).ok()?;
        well_formed(mapper.bytes(address, length)?).then_some(Self { table })
    }

    /// The I/O APICs, in table order.
    pub fn io_apics(&self) -> impl Iterator<Item = IoApicEntry> + '_ {
        self.table.get().entries().filter_map(|entry| match entry {
            MadtEntry::IoApic(entry) => Some(IoApicEntry {
                id: entry.io_apic_id,
                address: entry.io_apic_address,
                gsi_base: entry.global_system_interrupt_base,
            }),
            _ => None,
        })
    }

    /// The override for ISA IRQ `irq`, if the MADT has one.
    pub fn isa_override(&self, irq: u8) -> Option<IsaRoute> {
        self.table.get().entries().find_map(|entry| match entry {
            MadtEntry::InterruptSourceOverride(entry) if entry.bus == 0 && entry.irq == irq => {
                let (gsi, flags) = (entry.global_system_interrupt, entry.flags);
                Some(IsaRoute::from_override(gsi, flags))
            }
            _ => None,
        })
    }
}

/// Whether the whole MADT `table` is safe for the crate to walk (see the
/// module docs).
pub fn well_formed(table: &[u8]) -> bool {
    let Some(mut rest) = table.get(size_of::<Madt>()..) else {
        return false;
    };
    while let [kind, length, ..] = *rest {
        let length = usize::from(length);
        if length < minimum_length(kind) || length > rest.len() {
            return false;
        }
        rest = &rest[length..];
    }
    rest.is_empty()
}

/// The bytes the crate reads for an entry of type `kind`; reserved and
/// OEM types it skips after their header.
fn minimum_length(kind: u8) -> usize {
    match kind {
        0x0 => size_of::<madt::LocalApicEntry>(),
        0x1 => size_of::<madt::IoApicEntry>(),
        0x2 => size_of::<madt::InterruptSourceOverrideEntry>(),
        0x3 => size_of::<madt::NmiSourceEntry>(),
        0x4 => size_of::<madt::LocalApicNmiEntry>(),
        0x5 => size_of::<madt::LocalApicAddressOverrideEntry>(),
        0x6 => size_of::<madt::IoSapicEntry>(),
        0x7 => size_of::<madt::LocalSapicEntry>(),
        0x8 => size_of::<madt::PlatformInterruptSourceEntry>(),
        0x9 => size_of::<madt::LocalX2ApicEntry>(),
        0xa => size_of::<madt::X2ApicNmiEntry>(),
        0xb => size_of::<madt::GiccEntry>(),
        0xc => size_of::<madt::GicdEntry>(),
        0xd => size_of::<madt::GicMsiFrameEntry>(),
        0xe => size_of::<madt::GicRedistributorEntry>(),
        0xf => size_of::<madt::GicInterruptTranslationServiceEntry>(),
        0x10 => size_of::<madt::MultiprocessorWakeupEntry>(),
        _ => size_of::<madt::EntryHeader>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acpi::build::table;
    use crate::bootinfo::physical::fake::FakeMemory;
    use acpi::AcpiHandler;
    use std::vec::Vec;

    fn io_apic(id: u8, address: u32, gsi_base: u32) -> Vec<u8> {
        let mut entry = std::vec![1, 12, id, 0];
        entry.extend_from_slice(&address.to_le_bytes());
        entry.extend_from_slice(&gsi_base.to_le_bytes());
        entry
    }

    /// A MADT with `entries` after the local APIC address and flags.
    fn madt(entries: &[u8]) -> Vec<u8> {
        let mut body = std::vec![0u8; 8];
        body.extend_from_slice(entries);
        table(b"APIC", &body)
    }

    fn checked(memory: &FakeMemory, length: usize) -> Option<CheckedMadt<'_, FakeMemory>> {
        let mapper = Mapper::new(memory);
        // SAFETY: the mapper lends only readable memory.
        let table = unsafe { mapper.map_physical_region::<Madt>(0x1000, length) };
        CheckedMadt::new(mapper, table)
    }

    #[test]
    fn lists_io_apics_and_skips_other_entries() {
        let mut entries = std::vec![0, 8, 0, 0, 1, 0, 0, 0]; // a local APIC
        entries.extend(io_apic(0, 0xfec0_0000, 0));
        entries.extend_from_slice(&[2, 10, 0, 0, 2, 0, 0, 0, 0, 0]); // override
        entries.extend_from_slice(&[0x80, 3, 0]); // OEM
        entries.extend(io_apic(1, 0xfec1_0000, 24));
        let table = madt(&entries);
        let mut memory = FakeMemory::new(0x1000, 0x1000);
        memory.write(0x1000, &table);
        let found: Vec<_> = checked(&memory, table.len()).unwrap().io_apics().collect();
        let expected =
            [(0, 0xfec0_0000, 0), (1, 0xfec1_0000, 24)].map(|(id, address, gsi_base)| {
                IoApicEntry {
                    id,
                    address,
                    gsi_base,
                }
            });
        assert_eq!(found, expected);
        let madt = checked(&memory, table.len()).unwrap();
        assert_eq!(madt.isa_override(0).map(|route| route.gsi), Some(2));
        assert_eq!(madt.isa_override(9), None);
    }

    #[test]
    fn override_flags_say_trigger_and_polarity() {
        // QEMU's SCI: active high, level (0x000d).
        let sci = IsaRoute::from_override(9, 0x000d);
        assert_eq!(
            (sci.level_triggered, sci.active_low),
            (Some(true), Some(false))
        );
        let conforms = IsaRoute::from_override(9, 0);
        assert_eq!(
            (conforms.level_triggered, conforms.active_low),
            (None, None)
        );
        let low_level = IsaRoute::from_override(20, 0x000f);
        assert_eq!(low_level.active_low, Some(true));
        assert_eq!(
            IsaRoute::from_override(1, 0x0002).active_low,
            None,
            "reserved"
        );
    }

    #[test]
    fn entries_that_would_mislead_the_crate_reject_the_table() {
        assert!(well_formed(&madt(&io_apic(1, 0xfec1_0000, 24))));
        assert!(well_formed(&madt(&[])));
        let zero_length = [0, 0, 0, 0, 0, 0, 0, 0];
        assert!(!well_formed(&madt(&zero_length)), "would spin");
        assert!(
            !well_formed(&madt(&[0, 9, 0, 0, 1, 0, 0, 0])),
            "runs past the end"
        );
        let mut short = io_apic(1, 0xfec1_0000, 24);
        short[1] = 8;
        short.truncate(8);
        assert!(
            !well_formed(&madt(&short)),
            "shorter than an I/O APIC entry"
        );
        assert!(!well_formed(&madt(&[0x80])), "a lone byte");
        assert!(
            !well_formed(&table(b"APIC", &[0; 7])),
            "no room for the fixed part"
        );
        assert!(!well_formed(&[]));
    }

    #[test]
    fn a_malformed_madt_lists_nothing() {
        let table = madt(&[0, 0, 0, 0, 0, 0, 0, 0]);
        let mut memory = FakeMemory::new(0x1000, 0x1000);
        memory.write(0x1000, &table);
        assert!(checked(&memory, table.len()).is_none());
    }
}
