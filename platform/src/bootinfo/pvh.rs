//! The PVH boot protocol's `hvm_start_info` (Xen's `hvm/start_info.h`).
//!
//! Layout (little-endian): magic u32 (0x336ec578), version u32, flags u32,
//! nr_modules u32, modlist_paddr u64, cmdline_paddr u64, rsdp_paddr u64 —
//! 40 bytes in version 0 — then, from version 1, memmap_paddr u64,
//! memmap_entries u32, reserved u32 (56 bytes). A memory map entry is addr
//! u64, size u64, type u32 (E820 numbering, 1 = RAM), reserved u32; a module
//! entry is paddr u64, size u64, cmdline_paddr u64, reserved u64.

use super::command_line::CommandLine;
use super::memory::MemoryRegion;
use super::physical::{PhysicalMemory, u32_at, u64_at};
use super::{BootInfoError, LoaderReport, MemoryMapSource, Warning};

/// `hvm_start_info.magic`.
pub const START_INFO_MAGIC: u32 = 0x336e_c578;
/// Size of the version 0 structure.
const VERSION_0_SIZE: usize = 40;
/// Size of the version 1 structure (adds the memory map).
const VERSION_1_SIZE: usize = 56;
/// Size of one memory map entry.
const MEMORY_MAP_ENTRY_SIZE: usize = 24;
/// Size of one module list entry.
const MODULE_ENTRY_SIZE: usize = 32;
/// E820 type of ordinary RAM.
const E820_RAM: u32 = 1;
/// More entries than any real map has: a larger count is garbage.
const MAXIMUM_MEMORY_MAP_ENTRIES: u32 = 1024;
/// More modules than the loader-structure list can protect.
const MAXIMUM_MODULES: u32 = 16;
/// How far to look for the command line's terminating NUL.
const COMMAND_LINE_SCAN_LIMIT: usize = 64 * 1024;

/// Parses the `hvm_start_info` at `address`.
pub fn parse(memory: &impl PhysicalMemory, address: u64) -> Result<LoaderReport, BootInfoError> {
    let unreadable = BootInfoError::Unreadable {
        structure: "hvm_start_info",
        address,
    };
    let head = memory.bytes(address, VERSION_0_SIZE).ok_or(unreadable)?;
    let magic = u32_at(head, 0);
    if magic != START_INFO_MAGIC {
        return Err(BootInfoError::BadMagic {
            structure: "hvm_start_info",
            found: magic,
        });
    }
    let version = u32_at(head, 4);
    if version == 0 {
        return Err(BootInfoError::NoMemoryMap {
            loader: "PVH hvm_start_info version 0",
        });
    }
    let info = memory.bytes(address, VERSION_1_SIZE).ok_or(unreadable)?;
    let mut report = LoaderReport::new(MemoryMapSource::PvhMemoryMap);
    report
        .reserved
        .push(MemoryRegion::with_length(address, VERSION_1_SIZE as u64));
    read_memory_map(memory, u64_at(info, 40), u32_at(info, 48), &mut report)?;
    read_command_line(memory, u64_at(info, 24), &mut report);
    read_modules(memory, u64_at(info, 16), u32_at(info, 12), &mut report);
    report.rsdp = Some(u64_at(info, 32)).filter(|&rsdp| rsdp != 0);
    Ok(report)
}

/// Adds the RAM entries of the memory map to `report.ram`.
fn read_memory_map(
    memory: &impl PhysicalMemory,
    address: u64,
    entries: u32,
    report: &mut LoaderReport,
) -> Result<(), BootInfoError> {
    if address == 0 || entries == 0 {
        return Err(BootInfoError::NoMemoryMap {
            loader: "PVH hvm_start_info (empty memmap)",
        });
    }
    if entries > MAXIMUM_MEMORY_MAP_ENTRIES {
        return Err(BootInfoError::Malformed {
            structure: "PVH memory map (entry count)",
        });
    }
    let length = entries as usize * MEMORY_MAP_ENTRY_SIZE;
    let map = memory
        .bytes(address, length)
        .ok_or(BootInfoError::Unreadable {
            structure: "PVH memory map",
            address,
        })?;
    for entry in map.chunks_exact(MEMORY_MAP_ENTRY_SIZE) {
        if u32_at(entry, 16) == E820_RAM {
            report.ram.push(MemoryRegion::with_length(
                u64_at(entry, 0),
                u64_at(entry, 8),
            ));
        }
    }
    report
        .reserved
        .push(MemoryRegion::with_length(address, length as u64));
    Ok(())
}

/// Copies the command line, if the loader passed one.
fn read_command_line(memory: &impl PhysicalMemory, address: u64, report: &mut LoaderReport) {
    if address == 0 {
        return;
    }
    let scanned = memory.readable(address, COMMAND_LINE_SCAN_LIMIT);
    if scanned.is_empty() {
        report.command_line = CommandLine::unreadable(address);
        return;
    }
    let length = scanned
        .iter()
        .position(|&byte| byte == 0)
        .map_or(scanned.len(), |nul| nul + 1);
    report.command_line = CommandLine::from_loader(scanned);
    report
        .reserved
        .push(MemoryRegion::with_length(address, length as u64));
}

/// Records the module list and the modules as loader structures.
fn read_modules(memory: &impl PhysicalMemory, address: u64, count: u32, report: &mut LoaderReport) {
    if count == 0 {
        return;
    }
    let list = (count <= MAXIMUM_MODULES && address != 0)
        .then(|| memory.bytes(address, count as usize * MODULE_ENTRY_SIZE))
        .flatten();
    let Some(list) = list else {
        report.warnings.push(Warning::ModulesUnprotected);
        return;
    };
    report
        .reserved
        .push(MemoryRegion::with_length(address, list.len() as u64));
    for module in list.chunks_exact(MODULE_ENTRY_SIZE) {
        report.reserved.push(MemoryRegion::with_length(
            u64_at(module, 0),
            u64_at(module, 8),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootinfo::physical::fake::FakeMemory;
    use std::vec::Vec;

    const INFO: u64 = 0x6000;
    const MEMMAP: u64 = 0x6100;
    const CMDLINE: u64 = 0x6200;

    /// An `hvm_start_info` like QEMU's: 3 memmap entries, a command line.
    fn qemu_like(command_line: &[u8]) -> FakeMemory {
        let mut memory = FakeMemory::new(0x6000, 0x2000);
        let mut info = Vec::new();
        for word in [START_INFO_MAGIC, 1, 0, 0] {
            info.extend_from_slice(&word.to_le_bytes());
        }
        for word in [0u64, CMDLINE, 0xf_5a40, MEMMAP] {
            info.extend_from_slice(&word.to_le_bytes());
        }
        info.extend_from_slice(&3u32.to_le_bytes());
        info.extend_from_slice(&0u32.to_le_bytes());
        memory.write(INFO, &info);
        let entries = [
            (0, 0x9fc00, 1),
            (0xf0000, 0x10000, 2),
            (0x10_0000, 0x7f0_0000, 1),
        ];
        for (index, (start, size, kind)) in entries.into_iter().enumerate() {
            let mut entry = Vec::new();
            entry.extend_from_slice(&u64::to_le_bytes(start));
            entry.extend_from_slice(&u64::to_le_bytes(size));
            entry.extend_from_slice(&u32::to_le_bytes(kind));
            entry.extend_from_slice(&0u32.to_le_bytes());
            memory.write(MEMMAP + index as u64 * 24, &entry);
        }
        memory.write(CMDLINE, command_line);
        memory
    }

    #[test]
    fn parses_memory_map_command_line_and_rsdp() {
        let memory = qemu_like(b"test=threads\0");
        let report = parse(&memory, INFO).unwrap();
        let ram: Vec<_> = report.ram.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(ram, [(0, 0x9fc00), (0x10_0000, 0x800_0000)]);
        assert_eq!(report.command_line.as_str(), "test=threads");
        assert_eq!(report.rsdp, Some(0xf_5a40));
        let reserved: Vec<_> = report.reserved.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(
            reserved,
            [
                (INFO, INFO + 56),
                (MEMMAP, MEMMAP + 72),
                (CMDLINE, CMDLINE + 13)
            ]
        );
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn wrong_magic_is_an_error() {
        let mut memory = qemu_like(b"\0");
        memory.write(INFO, &0x1234u32.to_le_bytes());
        let error = parse(&memory, INFO).unwrap_err();
        assert_eq!(
            error,
            BootInfoError::BadMagic {
                structure: "hvm_start_info",
                found: 0x1234
            }
        );
    }

    #[test]
    fn version_0_has_no_memory_map() {
        let mut memory = qemu_like(b"\0");
        memory.write(INFO + 4, &0u32.to_le_bytes());
        assert!(matches!(
            parse(&memory, INFO),
            Err(BootInfoError::NoMemoryMap { .. })
        ));
    }

    #[test]
    fn unreadable_pointers_are_errors_not_faults() {
        let memory = qemu_like(b"\0");
        let error = parse(&memory, 0x10_0000).unwrap_err();
        assert!(matches!(error, BootInfoError::Unreadable { .. }));
        let mut memory = qemu_like(b"\0");
        memory.write(INFO + 40, &0x7fff_0000u64.to_le_bytes());
        let error = parse(&memory, INFO).unwrap_err();
        let expected = BootInfoError::Unreadable {
            structure: "PVH memory map",
            address: 0x7fff_0000,
        };
        assert_eq!(error, expected);
    }

    #[test]
    fn absurd_entry_counts_are_rejected() {
        let mut memory = qemu_like(b"\0");
        memory.write(INFO + 48, &u32::MAX.to_le_bytes());
        let error = parse(&memory, INFO).unwrap_err();
        assert!(matches!(error, BootInfoError::Malformed { .. }));
    }

    #[test]
    fn an_unreadable_command_line_is_empty_and_reported() {
        let mut memory = qemu_like(b"\0");
        memory.write(INFO + 24, &0x9000_0000u64.to_le_bytes());
        let report = parse(&memory, INFO).unwrap();
        assert_eq!(report.command_line.as_str(), "");
        assert!(report.command_line.problem().is_some());
    }

    #[test]
    fn an_unterminated_command_line_stops_at_readable_memory() {
        let memory = qemu_like(&[b'x'; 0x1e00]);
        let report = parse(&memory, INFO).unwrap();
        assert_eq!(report.command_line.as_str().len(), 1024);
        assert!(report.command_line.problem().is_some());
    }

    #[test]
    fn modules_and_their_list_are_reserved() {
        let mut memory = qemu_like(b"\0");
        let list = 0x7000u64;
        memory.write(INFO + 12, &2u32.to_le_bytes());
        memory.write(INFO + 16, &list.to_le_bytes());
        for (index, (start, size)) in [(0x20_0000u64, 0x8000u64), (0x30_0000, 0x1234)]
            .into_iter()
            .enumerate()
        {
            let entry = list + index as u64 * 32;
            memory.write(entry, &start.to_le_bytes());
            memory.write(entry + 8, &size.to_le_bytes());
        }
        let report = parse(&memory, INFO).unwrap();
        let reserved: Vec<_> = report.reserved.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(
            reserved[reserved.len() - 3..],
            [
                (list, list + 64),
                (0x20_0000, 0x20_8000),
                (0x30_0000, 0x30_1234)
            ]
        );
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn an_unreadable_module_list_is_a_warning() {
        let mut memory = qemu_like(b"\0");
        memory.write(INFO + 12, &2u32.to_le_bytes());
        memory.write(INFO + 16, &0x8000_0000u64.to_le_bytes());
        let report = parse(&memory, INFO).unwrap();
        assert_eq!(report.warnings.to_vec(), [Warning::ModulesUnprotected]);
    }
}
