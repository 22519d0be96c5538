//! The MADT ("APIC"): which I/O APICs the machine has.
//!
//! After the header come the local APIC address and flags (8 bytes), then
//! entries of `type, length, …`. Type 1 is an I/O APIC: id (byte 2),
//! register address (u32 at 4), first GSI (u32 at 8). An entry shorter
//! than its type needs, or of length 0, ends the walk.

use super::HEADER_LENGTH;
use crate::bootinfo::physical::u32_at;

const ENTRIES: usize = HEADER_LENGTH + 8;
const IO_APIC: u8 = 1;
const IO_APIC_LENGTH: usize = 12;

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

/// The I/O APICs of the MADT `madt`, in table order.
pub fn io_apics(madt: &[u8]) -> impl Iterator<Item = IoApicEntry> + '_ {
    let mut offset = ENTRIES;
    core::iter::from_fn(move || {
        loop {
            let header = madt.get(offset..offset + 2)?;
            let (kind, length) = (header[0], usize::from(header[1]));
            let entry = madt.get(offset..offset.checked_add(length)?)?;
            if length < 2 {
                return None;
            }
            offset += length;
            if kind == IO_APIC && length >= IO_APIC_LENGTH {
                return Some(IoApicEntry {
                    id: entry[2],
                    address: u32_at(entry, 4),
                    gsi_base: u32_at(entry, 8),
                });
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acpi::build::table;
    use std::vec::Vec;

    fn io_apic(id: u8, address: u32, gsi_base: u32) -> Vec<u8> {
        let mut entry = std::vec![IO_APIC, 12, id, 0];
        entry.extend_from_slice(&address.to_le_bytes());
        entry.extend_from_slice(&gsi_base.to_le_bytes());
        entry
    }

    #[test]
    fn lists_io_apics_and_skips_other_entries() {
        let mut body = std::vec![0u8; 8];
        body.extend_from_slice(&[0, 8, 0, 0, 1, 0, 0, 0]); // a local APIC
        body.extend(io_apic(0, 0xfec0_0000, 0));
        body.extend_from_slice(&[2, 10, 0, 0, 2, 0, 0, 0, 0, 0]); // override
        body.extend(io_apic(1, 0xfec1_0000, 24));
        let madt = table(b"APIC", &body);
        let found: Vec<_> = io_apics(&madt).collect();
        assert_eq!(
            found,
            [
                IoApicEntry {
                    id: 0,
                    address: 0xfec0_0000,
                    gsi_base: 0
                },
                IoApicEntry {
                    id: 1,
                    address: 0xfec1_0000,
                    gsi_base: 24
                }
            ]
        );
    }

    #[test]
    fn truncated_and_zero_length_entries_end_the_walk() {
        let mut body = std::vec![0u8; 8];
        body.extend_from_slice(&[0, 0, 0, 0]); // length 0
        body.extend(io_apic(1, 0xfec1_0000, 24));
        assert_eq!(io_apics(&table(b"APIC", &body)).count(), 0);
        let mut body = std::vec![0u8; 8];
        body.extend_from_slice(&[IO_APIC, 12, 1, 0, 0]); // cut short
        assert_eq!(io_apics(&table(b"APIC", &body)).count(), 0);
        assert_eq!(io_apics(&[]).count(), 0);
    }
}
