//! The multiboot2 boot information (GRUB), read with the `multiboot2` crate.
//!
//! The crate checks the header and the tag sequence (sizes, alignment, end
//! tag). Its typed accessors assert on malformed tag contents, so this
//! module reads the few payloads it needs by hand, with bounds checks:
//! command line (type 1), modules (3), basic memory information (4),
//! memory map (6: entry_size u32, entry_version u32, then entries of
//! base u64, length u64, type u32, reserved u32), ACPI RSDP v1/v2 (14/15,
//! a copy of the RSDP structure itself).

use multiboot2::{BootInformation, BootInformationHeader, TagType};

use super::command_line::CommandLine;
use super::memory::MemoryRegion;
use super::physical::{PhysicalMemory, u32_at, u64_at};
use super::{BootInfoError, LoaderReport, MemoryMapSource, Warning};

/// Larger boot information is garbage (GRUB's is a few KiB).
const MAXIMUM_SIZE: u32 = 1 << 20;
/// Size of the boot information header (total_size u32, reserved u32).
const HEADER_SIZE: usize = 8;
/// Size of a tag header (type u32, size u32).
const TAG_HEADER_SIZE: usize = 8;
/// Smallest memory map entry the specification allows.
const MEMORY_MAP_ENTRY_SIZE: usize = 24;
/// Memory map type of available RAM.
const AVAILABLE: u32 = 1;
/// Where "upper memory" of the basic memory information starts.
const UPPER_MEMORY_START: u64 = 0x10_0000;

/// What the tag walk found, before it becomes a [`LoaderReport`].
struct Found {
    report: LoaderReport,
    memory_map: bool,
    upper_memory_kib: Option<u32>,
    rsdp_v2: Option<u64>,
    rsdp_v1: Option<u64>,
}

/// Parses the multiboot2 boot information at `address`.
pub fn parse(memory: &impl PhysicalMemory, address: u64) -> Result<LoaderReport, BootInfoError> {
    let bytes = boot_information_bytes(memory, address)?;
    // SAFETY: `bytes` is readable for the complete size the header states
    // (checked by `boot_information_bytes`) and is borrowed immutably for
    // the lifetime of `information`, so nothing modifies it meanwhile.
    let information =
        unsafe { BootInformation::load(bytes.as_ptr().cast::<BootInformationHeader>()) }.map_err(
            |_| BootInfoError::Malformed {
                structure: "multiboot2 tag sequence",
            },
        )?;
    let mut found = Found {
        report: LoaderReport::new(MemoryMapSource::Multiboot2MemoryMap),
        memory_map: false,
        upper_memory_kib: None,
        rsdp_v2: None,
        rsdp_v1: None,
    };
    found
        .report
        .reserved
        .push(MemoryRegion::with_length(address, bytes.len() as u64));
    for tag in information.tags() {
        let offset = tag.payload().as_ptr().addr() - bytes.as_ptr().addr();
        read_tag(
            &mut found,
            TagType::from(tag.header().typ),
            tag.payload(),
            address + offset as u64,
        )?;
    }
    finish(found)
}

/// The boot information's bytes, after checking alignment and size.
fn boot_information_bytes(
    memory: &impl PhysicalMemory,
    address: u64,
) -> Result<&[u8], BootInfoError> {
    let unreadable = BootInfoError::Unreadable {
        structure: "multiboot2 boot information",
        address,
    };
    if !address.is_multiple_of(8) {
        return Err(BootInfoError::Malformed {
            structure: "multiboot2 boot information (alignment)",
        });
    }
    let header = memory.bytes(address, HEADER_SIZE).ok_or(unreadable)?;
    let size = u32_at(header, 0);
    if !(HEADER_SIZE as u32 + TAG_HEADER_SIZE as u32..=MAXIMUM_SIZE).contains(&size) {
        return Err(BootInfoError::Malformed {
            structure: "multiboot2 boot information (size)",
        });
    }
    let bytes = memory.bytes(address, size as usize).ok_or(unreadable)?;
    if !bytes.as_ptr().addr().is_multiple_of(8) {
        return Err(BootInfoError::Malformed {
            structure: "multiboot2 boot information (alignment)",
        });
    }
    Ok(bytes)
}

/// Records what one tag contributes; `physical` is its payload's address.
fn read_tag(
    found: &mut Found,
    kind: TagType,
    payload: &[u8],
    physical: u64,
) -> Result<(), BootInfoError> {
    match kind {
        TagType::Cmdline => found.report.command_line = CommandLine::from_loader(payload),
        TagType::Module => read_module(&mut found.report, payload),
        TagType::BasicMeminfo if payload.len() >= 8 => {
            found.upper_memory_kib = Some(u32_at(payload, 4))
        }
        TagType::Mmap => {
            read_memory_map(&mut found.report, payload)?;
            found.memory_map = true;
        }
        TagType::AcpiV1 if payload.len() >= 20 => found.rsdp_v1 = Some(physical),
        TagType::AcpiV2 if payload.len() >= 36 => found.rsdp_v2 = Some(physical),
        _ => {}
    }
    Ok(())
}

/// A module tag: mod_start u32, mod_end u32, command line.
fn read_module(report: &mut LoaderReport, payload: &[u8]) {
    if payload.len() < 8 {
        report.warnings.push(Warning::ModulesUnprotected);
        return;
    }
    let (start, end) = (u32_at(payload, 0), u32_at(payload, 4));
    report
        .reserved
        .push(MemoryRegion::new(u64::from(start), u64::from(end)));
}

/// A memory map tag: adds its available entries to `report.ram`.
fn read_memory_map(report: &mut LoaderReport, payload: &[u8]) -> Result<(), BootInfoError> {
    let malformed = BootInfoError::Malformed {
        structure: "multiboot2 memory map tag",
    };
    if payload.len() < 8 {
        return Err(malformed);
    }
    let entry_size = u32_at(payload, 0) as usize;
    let entries = &payload[8..];
    if entry_size < MEMORY_MAP_ENTRY_SIZE || !entries.len().is_multiple_of(entry_size) {
        return Err(malformed);
    }
    for entry in entries.chunks_exact(entry_size) {
        if u32_at(entry, 16) == AVAILABLE {
            report.ram.push(MemoryRegion::with_length(
                u64_at(entry, 0),
                u64_at(entry, 8),
            ));
        }
    }
    Ok(())
}

/// Chooses the memory source and the RSDP once all tags are read.
fn finish(found: Found) -> Result<LoaderReport, BootInfoError> {
    let mut report = found.report;
    if !found.memory_map {
        let kib = found.upper_memory_kib.ok_or(BootInfoError::NoMemoryMap {
            loader: "multiboot2 (no memory map or basic memory tag)",
        })?;
        report.memory_map_source = MemoryMapSource::Multiboot2BasicMemory;
        report.ram.push(MemoryRegion::with_length(
            UPPER_MEMORY_START,
            u64::from(kib) * 1024,
        ));
        report.warnings.push(Warning::BasicMemoryInformationOnly);
    }
    report.rsdp = found.rsdp_v2.or(found.rsdp_v1);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootinfo::physical::fake::FakeMemory;
    use std::vec::Vec;

    const ADDRESS: u64 = 0x1_0000;

    /// Appends one tag (header, payload, padding to 8 bytes).
    fn tag(information: &mut Vec<u8>, kind: u32, payload: &[u8]) {
        information.extend_from_slice(&kind.to_le_bytes());
        information.extend_from_slice(&(8 + payload.len() as u32).to_le_bytes());
        information.extend_from_slice(payload);
        while !information.len().is_multiple_of(8) {
            information.push(0);
        }
    }

    fn memory_map(entries: &[(u64, u64, u32)]) -> Vec<u8> {
        let mut payload = Vec::new();
        payload.extend_from_slice(&24u32.to_le_bytes());
        payload.extend_from_slice(&0u32.to_le_bytes());
        for &(base, length, kind) in entries {
            payload.extend_from_slice(&base.to_le_bytes());
            payload.extend_from_slice(&length.to_le_bytes());
            payload.extend_from_slice(&kind.to_le_bytes());
            payload.extend_from_slice(&0u32.to_le_bytes());
        }
        payload
    }

    /// Boot information with the given tags plus the end tag, at ADDRESS.
    fn place(tags: &[(u32, Vec<u8>)]) -> FakeMemory {
        let mut information = std::vec![0; 8];
        for (kind, payload) in tags {
            tag(&mut information, *kind, payload);
        }
        tag(&mut information, 0, &[]);
        let size = information.len() as u32;
        information[..4].copy_from_slice(&size.to_le_bytes());
        let mut memory = FakeMemory::new(ADDRESS, 0x1000);
        memory.write(ADDRESS, &information);
        memory
    }

    fn grub_like() -> std::vec::Vec<(u32, Vec<u8>)> {
        let mut rsdp = std::vec![0u8; 36];
        rsdp[..8].copy_from_slice(b"RSD PTR ");
        std::vec![
            (1, b"test=panic\0".to_vec()),
            (4, [639u32.to_le_bytes(), 130_048u32.to_le_bytes()].concat()),
            (
                6,
                memory_map(&[
                    (0, 0x9fc00, 1),
                    (0x10_0000, 0x7ee_0000, 1),
                    (0xfffc_0000, 0x4_0000, 2)
                ])
            ),
            (15, rsdp),
        ]
    }

    #[test]
    fn parses_a_grub_like_boot_information() {
        let memory = place(&grub_like());
        let report = parse(&memory, ADDRESS).unwrap();
        assert_eq!(report.command_line.as_str(), "test=panic");
        let ram: Vec<_> = report.ram.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(ram, [(0, 0x9fc00), (0x10_0000, 0x7fe_0000)]);
        assert_eq!(
            report.memory_map_source,
            MemoryMapSource::Multiboot2MemoryMap
        );
        // The RSDP copy follows the first tags: header 8, cmdline 24, basic 16, mmap 88, tag header 8.
        assert_eq!(report.rsdp, Some(ADDRESS + 8 + 24 + 16 + 88 + 8));
        assert_eq!(report.reserved[0].start, ADDRESS);
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn without_memory_map_the_basic_information_is_used() {
        let tags: Vec<_> = grub_like()
            .into_iter()
            .filter(|(kind, _)| *kind != 6)
            .collect();
        let report = parse(&place(&tags), ADDRESS).unwrap();
        let ram: Vec<_> = report.ram.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(ram, [(0x10_0000, 0x10_0000 + 130_048 * 1024)]);
        assert_eq!(
            report.warnings.to_vec(),
            [Warning::BasicMemoryInformationOnly]
        );
    }

    #[test]
    fn without_any_memory_information_it_is_an_error() {
        let tags = [(1, b"x\0".to_vec())];
        let error = parse(&place(&tags), ADDRESS).unwrap_err();
        assert!(matches!(error, BootInfoError::NoMemoryMap { .. }));
    }

    #[test]
    fn a_memory_map_with_bad_entry_size_is_an_error() {
        let mut map = memory_map(&[(0x10_0000, 0x100_0000, 1)]);
        map[0] = 20;
        let error = parse(&place(&[(6, map)]), ADDRESS).unwrap_err();
        assert_eq!(
            error,
            BootInfoError::Malformed {
                structure: "multiboot2 memory map tag"
            }
        );
        let mut map = memory_map(&[(0x10_0000, 0x100_0000, 1)]);
        map.pop();
        assert!(parse(&place(&[(6, map)]), ADDRESS).is_err());
    }

    #[test]
    fn broken_headers_and_tag_sequences_are_errors() {
        let memory = place(&grub_like());
        assert!(matches!(
            parse(&memory, ADDRESS + 4),
            Err(BootInfoError::Malformed { .. })
        ));
        assert!(matches!(
            parse(&memory, 0x9_0000),
            Err(BootInfoError::Unreadable { .. })
        ));
        let mut memory = place(&grub_like());
        memory.write(ADDRESS, &0xffffu32.to_le_bytes());
        assert!(matches!(
            parse(&memory, ADDRESS),
            Err(BootInfoError::Unreadable { .. })
        ));
        let mut memory = place(&grub_like());
        memory.write(ADDRESS + 12, &0x4000u32.to_le_bytes());
        assert!(matches!(
            parse(&memory, ADDRESS),
            Err(BootInfoError::Malformed { .. })
        ));
        let mut memory = place(&grub_like());
        memory.write(ADDRESS, &4u32.to_le_bytes());
        assert!(matches!(
            parse(&memory, ADDRESS),
            Err(BootInfoError::Malformed { .. })
        ));
    }

    #[test]
    fn modules_are_loader_structures() {
        let mut module = std::vec::Vec::new();
        module.extend_from_slice(&0x20_0000u32.to_le_bytes());
        module.extend_from_slice(&0x28_0000u32.to_le_bytes());
        module.extend_from_slice(b"initrd\0");
        let mut tags = grub_like();
        tags.push((3, module));
        let report = parse(&place(&tags), ADDRESS).unwrap();
        assert!(
            report
                .reserved
                .contains(&MemoryRegion::new(0x20_0000, 0x28_0000))
        );
    }
}
