//! [`BootInfo`]: the image's view of the boot, and how it is put together.

use super::{
    BootInfoError, CommandLine, IDENTITY_MAPPED_LIMIT, LOW_MEMORY_END, Loader, LoaderReport,
    MemoryMapSource, MemoryRegion, RegionList, Warning, Warnings,
};

/// What the platform learned at boot; handed to the image's main function.
#[derive(Debug)]
pub struct BootInfo {
    /// The loader that started the image.
    pub loader: Loader,
    /// Physical address of the loader's boot information structure.
    pub loader_info: u64,
    /// The time-stamp counter when the first instruction ran.
    pub entry_tsc: u64,
    /// The kernel command line (copied; see [`CommandLine`]).
    pub command_line: CommandLine,
    /// RAM free for the image to use: page-aligned, sorted, disjoint, below
    /// [`IDENTITY_MAPPED_LIMIT`], without the first MiB, the image
    /// ([`image`](Self::image), symbol table included) and the loader's
    /// structures.
    pub usable_memory: RegionList,
    /// The loaded image, `[__kernel_start, image_end())`.
    pub image: MemoryRegion,
    /// Physical address of the ACPI RSDP, if the loader gave one (for
    /// multiboot2: the copy inside the boot information, which stays
    /// reserved).
    pub rsdp: Option<u64>,
    /// Where the memory map came from.
    pub memory_map_source: MemoryMapSource,
    /// Oddities the boot code printed as warnings.
    pub warnings: Warnings,
}

impl BootInfo {
    /// Combines a loader's report with the image's own facts, computing
    /// the usable memory.
    pub fn assemble(
        loader: Loader,
        loader_info: u64,
        entry_tsc: u64,
        image: MemoryRegion,
        report: LoaderReport,
    ) -> Result<Self, BootInfoError> {
        let mut warnings = report.warnings;
        if let Some(problem) = report.command_line.problem() {
            warnings.push(Warning::CommandLine(problem));
        }
        let usable = usable_memory(&report, image, &mut warnings)?;
        Ok(Self {
            loader,
            loader_info,
            entry_tsc,
            command_line: report.command_line,
            usable_memory: usable,
            image,
            rsdp: report.rsdp,
            memory_map_source: report.memory_map_source,
            warnings,
        })
    }
}

/// The loader's RAM minus everything that is not free.
fn usable_memory(
    report: &LoaderReport,
    image: MemoryRegion,
    warnings: &mut Warnings,
) -> Result<RegionList, BootInfoError> {
    let mut usable = report.ram;
    usable.normalize();
    let above = usable.clip(LOW_MEMORY_END, IDENTITY_MAPPED_LIMIT);
    usable.remove(image.pages_covering());
    for reserved in report.reserved.iter() {
        usable.remove(reserved.pages_covering());
    }
    usable.align_to_pages();
    if above > 0 {
        warnings.push(Warning::MemoryAboveMappedLimit(above));
    }
    if usable.dropped() > 0 {
        warnings.push(Warning::RegionsDropped(usable.dropped()));
    }
    if report.reserved.dropped() > 0 {
        warnings.push(Warning::StructuresUnprotected(report.reserved.dropped()));
    }
    if usable.is_empty() {
        return Err(BootInfoError::NoUsableMemory);
    }
    Ok(usable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const IMAGE: MemoryRegion = MemoryRegion::new(0x10_0000, 0x13_4567);

    fn report(ram: &[(u64, u64)], reserved: &[(u64, u64)]) -> LoaderReport {
        let mut report = LoaderReport::new(MemoryMapSource::PvhMemoryMap);
        for &(start, end) in ram {
            report.ram.push(MemoryRegion::new(start, end));
        }
        for &(start, end) in reserved {
            report.reserved.push(MemoryRegion::new(start, end));
        }
        report
    }

    fn usable(info: &BootInfo) -> Vec<(u64, u64)> {
        info.usable_memory
            .iter()
            .map(|region| (region.start, region.end))
            .collect()
    }

    #[test]
    fn removes_low_memory_the_image_and_loader_structures() {
        let report = report(
            &[(0, 0x9fc00), (0x10_0000, 0x800_0000)],
            &[(0x6000, 0x6038), (0x20_0010, 0x20_0100)],
        );
        let info = BootInfo::assemble(Loader::Pvh, 0x6000, 7, IMAGE, report).unwrap();
        assert_eq!(
            usable(&info),
            [(0x13_5000, 0x20_0000), (0x20_1000, 0x800_0000)]
        );
        assert!(info.warnings.is_empty());
        assert_eq!(info.entry_tsc, 7);
    }

    #[test]
    fn grub_structures_inside_image_gaps_stay_reserved() {
        // GRUB may put its boot information right after the image.
        let report = report(&[(0x10_0000, 0x400_0000)], &[(0x13_5000, 0x13_5400)]);
        let info = BootInfo::assemble(Loader::Multiboot2, 0x13_5000, 0, IMAGE, report).unwrap();
        assert_eq!(usable(&info), [(0x13_6000, 0x400_0000)]);
    }

    #[test]
    fn ram_above_the_mapped_limit_is_left_out_with_a_warning() {
        let report = report(
            &[(0x10_0000, 0xc000_0000), (0x1_0000_0000, 0x1_4000_0000)],
            &[],
        );
        let info = BootInfo::assemble(Loader::Pvh, 0, 0, IMAGE, report).unwrap();
        assert_eq!(usable(&info), [(0x13_5000, 0xc000_0000)]);
        assert_eq!(
            info.warnings.to_vec(),
            [Warning::MemoryAboveMappedLimit(0x4000_0000)]
        );
    }

    #[test]
    fn no_usable_memory_is_an_error() {
        let report = report(&[(0, 0x9fc00), (0x10_0000, 0x13_0000)], &[]);
        let error = BootInfo::assemble(Loader::Pvh, 0, 0, IMAGE, report).unwrap_err();
        assert_eq!(error, BootInfoError::NoUsableMemory);
    }

    #[test]
    fn overflowing_lists_are_reported_by_what_they_lose() {
        let ram: Vec<_> = (0..70u64)
            .map(|n| {
                (
                    0x100_0000 + n * 0x2_0000,
                    0x100_0000 + n * 0x2_0000 + 0x1_0000,
                )
            })
            .collect();
        let reserved: Vec<_> = (0..66u64)
            .map(|n| (0x800_0000 + n * 0x1000, 0x800_0000 + n * 0x1000 + 0x10))
            .collect();
        let info =
            BootInfo::assemble(Loader::Multiboot2, 0, 0, IMAGE, report(&ram, &reserved)).unwrap();
        assert_eq!(
            info.warnings.to_vec(),
            [
                Warning::RegionsDropped(6),
                Warning::StructuresUnprotected(2)
            ]
        );
        assert_eq!(info.usable_memory.len(), crate::bootinfo::MAXIMUM_REGIONS);
    }

    #[test]
    fn command_line_problems_become_warnings() {
        let mut report = report(&[(0x10_0000, 0x800_0000)], &[]);
        report.command_line = CommandLine::unreadable(0x1234);
        let info = BootInfo::assemble(Loader::Pvh, 0, 0, IMAGE, report).unwrap();
        let warnings = info.warnings.to_vec();
        assert_eq!(warnings.len(), 1);
        assert!(matches!(warnings[0], Warning::CommandLine(_)));
    }
}
