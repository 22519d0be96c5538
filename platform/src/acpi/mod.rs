//! ACPI tables: found from the RSDP, read through [`PhysicalMemory`].
//!
//! Only what the machine layer needs: the MADT's I/O APICs (microvm has a
//! second one, at 0xFEC10000 serving GSIs 24..=47) and the DSDT's
//! virtio-mmio devices (how microvm describes them when ACPI is on; it
//! then writes no `virtio_mmio.device=` words on the command line). The
//! RSDP comes from the loader (PVH `rsdp_paddr`, multiboot2 tags) or from
//! a scan of the BIOS area. Every table's checksum is verified and every
//! read is bounds-checked, so garbage firmware yields no tables, never a
//! fault. Parsers work on the host too (unit tests); `machine` (image
//! only) reads real memory.

pub mod dsdt;
#[cfg(target_os = "none")]
pub mod machine;
pub mod madt;

use crate::bootinfo::PhysicalMemory;
use crate::bootinfo::physical::{u32_at, u64_at};

/// Bytes of a system description table header.
pub const HEADER_LENGTH: usize = 36;
/// Tables larger than this are taken for garbage.
const MAXIMUM_TABLE: usize = 1 << 20;
/// Where the BIOS keeps the RSDP when no loader says (16-byte aligned).
const BIOS_AREA: (u64, u64) = (0xe_0000, 0x10_0000);
const RSDP_SIGNATURE: &[u8; 8] = b"RSD PTR ";
/// RSDP 1.0 length (checksummed), and the 2.0 length.
const RSDP_V1_LENGTH: usize = 20;
const RSDP_V2_LENGTH: usize = 36;
/// FADT offsets of the 32- and 64-bit DSDT addresses.
const FADT_DSDT: usize = 40;
const FADT_X_DSDT: usize = 140;

/// The root of the tables: the RSDT (32-bit entries) or XSDT (64-bit).
#[derive(Debug, Clone, Copy)]
pub struct Tables<'m, M: PhysicalMemory> {
    memory: &'m M,
    root: &'m [u8],
    entry_size: usize,
}

/// Whether `bytes` sum to zero modulo 256, as every ACPI structure must.
pub fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte)) == 0
}

/// The address of a valid RSDP in the BIOS area, if there is one.
pub fn scan_for_rsdp(memory: &impl PhysicalMemory) -> Option<u64> {
    (BIOS_AREA.0..BIOS_AREA.1)
        .step_by(16)
        .find(|&address| rsdp_root(memory, address).is_some())
}

/// The root table address and entry size named by the RSDP at `address`.
fn rsdp_root(memory: &impl PhysicalMemory, address: u64) -> Option<(u64, usize)> {
    let v1 = memory.bytes(address, RSDP_V1_LENGTH)?;
    if &v1[..8] != RSDP_SIGNATURE || !checksum_ok(v1) {
        return None;
    }
    if v1[15] >= 2
        && let Some(v2) = memory.bytes(address, RSDP_V2_LENGTH)
        && checksum_ok(v2)
        && u64_at(v2, 24) != 0
    {
        return Some((u64_at(v2, 24), 8));
    }
    Some((u64::from(u32_at(v1, 16)), 4))
}

/// The whole table at `address` if its header, length and checksum hold.
pub fn table_at<M: PhysicalMemory>(memory: &M, address: u64) -> Option<&[u8]> {
    let header = memory.bytes(address, HEADER_LENGTH)?;
    let length = u32_at(header, 4) as usize;
    if !(HEADER_LENGTH..=MAXIMUM_TABLE).contains(&length) {
        return None;
    }
    let table = memory.bytes(address, length)?;
    checksum_ok(table).then_some(table)
}

impl<'m, M: PhysicalMemory> Tables<'m, M> {
    /// The tables behind the RSDP at `rsdp` (or found in the BIOS area
    /// when `None`); `None` if there are no valid ones.
    pub fn find(memory: &'m M, rsdp: Option<u64>) -> Option<Self> {
        let rsdp = rsdp.or_else(|| scan_for_rsdp(memory))?;
        let (root, entry_size) = rsdp_root(memory, rsdp)?;
        let root = table_at(memory, root)?;
        Some(Self {
            memory,
            root,
            entry_size,
        })
    }

    /// The addresses the root table lists.
    fn entries(&self) -> impl Iterator<Item = u64> + '_ {
        self.root[HEADER_LENGTH..]
            .chunks_exact(self.entry_size)
            .map(|entry| match entry.len() {
                8 => u64_at(entry, 0),
                _ => u64::from(u32_at(entry, 0)),
            })
    }

    /// The first valid table with `signature`.
    pub fn table(&self, signature: &[u8; 4]) -> Option<&'m [u8]> {
        self.entries()
            .filter_map(|address| table_at(self.memory, address))
            .find(|table| &table[..4] == signature)
    }

    /// The DSDT, through the FADT (its 64-bit address when given).
    pub fn dsdt(&self) -> Option<&'m [u8]> {
        let fadt = self.table(b"FACP")?;
        let wide = fadt
            .get(FADT_X_DSDT..FADT_X_DSDT + 8)
            .map(|_| u64_at(fadt, FADT_X_DSDT))
            .filter(|&address| address != 0);
        let narrow = fadt
            .get(FADT_DSDT..FADT_DSDT + 4)
            .map(|_| u64::from(u32_at(fadt, FADT_DSDT)));
        let dsdt = table_at(self.memory, wide.or(narrow)?)?;
        (&dsdt[..4] == b"DSDT").then_some(dsdt)
    }
}

/// Test helpers: tables with correct checksums.
#[cfg(test)]
pub(crate) mod build {
    use std::vec::Vec;

    /// A table with `signature` and `body`, its length and checksum set.
    pub fn table(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut table = std::vec![0u8; super::HEADER_LENGTH];
        table[..4].copy_from_slice(signature);
        table.extend_from_slice(body);
        let length = table.len() as u32;
        table[4..8].copy_from_slice(&length.to_le_bytes());
        fix_checksum(&mut table, 9);
        table
    }

    /// Sets byte `at` so that `bytes` sum to zero.
    pub fn fix_checksum(bytes: &mut [u8], at: usize) {
        bytes[at] = 0;
        let sum = bytes.iter().fold(0u8, |sum, byte| sum.wrapping_add(*byte));
        bytes[at] = sum.wrapping_neg();
    }
}

#[cfg(test)]
mod tests {
    use super::build::{fix_checksum, table};
    use super::*;
    use crate::bootinfo::physical::fake::FakeMemory;

    /// RSDP 2.0 at 0xf0000 → XSDT at 0x10000 → FACP at 0x11000 → DSDT
    /// at 0x12000, and an APIC table at 0x13000.
    fn firmware(revision: u8) -> FakeMemory {
        let mut memory = FakeMemory::new(0x1_0000, 0xf_0000);
        let mut rsdp = std::vec![0u8; RSDP_V2_LENGTH];
        rsdp[..8].copy_from_slice(RSDP_SIGNATURE);
        rsdp[15] = revision;
        rsdp[16..20].copy_from_slice(&0x1_4000u32.to_le_bytes()); // RSDT
        rsdp[20..24].copy_from_slice(&(RSDP_V2_LENGTH as u32).to_le_bytes());
        rsdp[24..32].copy_from_slice(&0x1_0000u64.to_le_bytes()); // XSDT
        fix_checksum(&mut rsdp[..RSDP_V1_LENGTH], 8);
        fix_checksum(&mut rsdp, 32);
        memory.write(0xf_0000, &rsdp);
        let entries: Vec<u8> = [0x1_3000u64, 0x1_1000]
            .iter()
            .flat_map(|address| address.to_le_bytes())
            .collect();
        memory.write(0x1_0000, &table(b"XSDT", &entries));
        let narrow: Vec<u8> = [0x1_3000u32].iter().flat_map(|a| a.to_le_bytes()).collect();
        memory.write(0x1_4000, &table(b"RSDT", &narrow));
        let mut fadt = std::vec![0u8; 244 - HEADER_LENGTH];
        fadt[FADT_DSDT - HEADER_LENGTH..][..4].copy_from_slice(&0x1_2000u32.to_le_bytes());
        memory.write(0x1_1000, &table(b"FACP", &fadt));
        memory.write(0x1_2000, &table(b"DSDT", b"aml"));
        memory.write(0x1_3000, &table(b"APIC", &[0; 8]));
        memory
    }

    use std::vec::Vec;

    #[test]
    fn finds_tables_through_the_xsdt_and_the_dsdt_through_the_fadt() {
        let memory = firmware(2);
        assert_eq!(scan_for_rsdp(&memory), Some(0xf_0000));
        let tables = Tables::find(&memory, None).unwrap();
        assert_eq!(tables.entry_size, 8);
        assert_eq!(&tables.table(b"APIC").unwrap()[..4], b"APIC");
        assert_eq!(&tables.dsdt().unwrap()[HEADER_LENGTH..], b"aml");
        assert!(tables.table(b"HPET").is_none());
    }

    #[test]
    fn revision_1_uses_the_rsdt() {
        let memory = firmware(0);
        let tables = Tables::find(&memory, Some(0xf_0000)).unwrap();
        assert_eq!(tables.entry_size, 4);
        assert!(tables.table(b"APIC").is_some());
        assert!(tables.dsdt().is_none(), "the RSDT lists no FADT");
    }

    #[test]
    fn bad_checksums_and_garbage_give_nothing() {
        let mut memory = firmware(2);
        memory.write(0x1_3000 + 20, &[0xff]); // APIC checksum broken
        let tables = Tables::find(&memory, None).unwrap();
        assert!(tables.table(b"APIC").is_none());
        assert!(Tables::find(&memory, Some(0xf_0010)).is_none());
        assert!(Tables::find(&FakeMemory::new(0xe_0000, 0x2_0000), None).is_none());
        let mut huge = table(b"DSDT", &[]);
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        memory.write(0x1_2000, &huge);
        assert!(table_at(&memory, 0x1_2000).is_none());
    }
}
