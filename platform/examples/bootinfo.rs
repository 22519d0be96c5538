//! Prints the parsed boot information and checks its invariants.
//!
//! Prints loader, command line, RSDP, image range, memory-map source and
//! every usable region, then checks that the usable regions are sorted,
//! disjoint, page-aligned, above 1 MiB, below 4 GiB and outside the image
//! (including the embedded symbol table) and the boot information itself
//! (for PVH and multiboot2 the structure at `loader_info`). Exits with
//! success if all hold, failure 1 otherwise. Pass a long command line to
//! see the truncation warning printed at boot.

#![cfg_attr(target_os = "none", no_std, no_main)]

/// On the host (`cargo test` builds every example) this is an empty program.
#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
mod image {
    use platform::boot::BootInfo;
    use platform::bootinfo::{IDENTITY_MAPPED_LIMIT, LOW_MEMORY_END, MemoryRegion, PAGE_SIZE};
    use platform::println;

    platform::entry_point!(main);

    fn main(info: &'static BootInfo) -> ! {
        println!(
            "loader {} info at {:#x}, entry TSC {}",
            info.loader, info.loader_info, info.entry_tsc
        );
        println!(
            "command line ({} bytes): {:?}",
            info.command_line.as_str().len(),
            info.command_line.as_str()
        );
        println!(
            "rsdp {:x?}, image {}, memory map from {:?}",
            info.rsdp, info.image, info.memory_map_source
        );
        for region in info.usable_memory.iter() {
            println!("usable {region} ({} KiB)", region.len() >> 10);
        }
        println!(
            "usable total {} MiB",
            info.usable_memory.total_bytes() >> 20
        );
        match check(info) {
            Ok(()) => {
                println!("bootinfo: PASS");
                platform::power::exit(platform::power::EXIT_SUCCESS)
            }
            Err(reason) => {
                println!("bootinfo: FAIL {reason}");
                platform::power::exit(platform::power::failure_value(1))
            }
        }
    }

    /// The invariants `BootInfo::usable_memory` promises.
    fn check(info: &BootInfo) -> Result<(), &'static str> {
        let regions = &info.usable_memory;
        if regions.is_empty() {
            return Err("no usable memory");
        }
        if info.image.end != platform::boot::image_end()
            || info.image.start != platform::boot::image_start()
        {
            return Err("image range differs from image_start()/image_end()");
        }
        let loader_info = MemoryRegion::with_length(info.loader_info, 8);
        for (index, region) in regions.iter().enumerate() {
            if region.start % PAGE_SIZE != 0 || region.end % PAGE_SIZE != 0 {
                return Err("region not page-aligned");
            }
            if region.start < LOW_MEMORY_END || region.end > IDENTITY_MAPPED_LIMIT {
                return Err("region below 1 MiB or above 4 GiB");
            }
            if overlaps(region, &info.image) || overlaps(region, &loader_info) {
                return Err("region overlaps the image or the boot information");
            }
            if index > 0 && regions[index - 1].end >= region.start {
                return Err("regions not sorted and disjoint");
            }
        }
        Ok(())
    }

    fn overlaps(a: &MemoryRegion, b: &MemoryRegion) -> bool {
        a.start < b.end && b.start < a.end
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
        platform::panic::report(info)
    }
}
