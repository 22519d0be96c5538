//! Reads the loader's boot information from real memory into [`BootInfo`].
//!
//! The parsers ([`crate::bootinfo`]) follow the loader's pointers through
//! [`IdentityMap`], which admits only what the boot page tables map:
//! `[1 byte, 4 GiB)` minus the boot stack's guard page. Address 0 is
//! treated as "no structure".

use crate::bootinfo::{
    BootInfo, BootInfoError, IDENTITY_MAPPED_LIMIT, Loader, MemoryRegion, PhysicalMemory,
    multiboot2, pvh,
};
use crate::{power, println};

/// Physical memory as the boot page tables map it (identity).
pub(crate) struct IdentityMap;

impl PhysicalMemory for IdentityMap {
    fn readable(&self, address: u64, length: usize) -> &[u8] {
        if address == 0 || address >= IDENTITY_MAPPED_LIMIT {
            return &[];
        }
        let mut end = address
            .saturating_add(length as u64)
            .min(IDENTITY_MAPPED_LIMIT);
        let guard = super::stack_guard();
        if address < guard.end && end > guard.start {
            if address >= guard.start {
                return &[];
            }
            end = guard.start;
        }
        // SAFETY: the boot page tables identity-map [0, 4 GiB) except the
        // guard page, which the range now avoids; the loader's structures
        // are not written while the parsers borrow them (nothing else runs
        // during boot).
        unsafe { core::slice::from_raw_parts(address as *const u8, (end - address) as usize) }
    }
}

/// Parses the loader's boot information; on failure, says why and ends
/// the machine with [`super::BOOT_FAILURE_CODE`].
pub(super) fn collect(loader: Loader, loader_info: u64, entry_tsc: u64) -> BootInfo {
    let report = match loader {
        Loader::Pvh => pvh::parse(&IdentityMap, loader_info),
        Loader::Multiboot2 => multiboot2::parse(&IdentityMap, loader_info),
    };
    let image = MemoryRegion::new(super::image_start(), super::image_end());
    match report
        .and_then(|report| BootInfo::assemble(loader, loader_info, entry_tsc, image, report))
    {
        Ok(info) => info,
        Err(error) => fail(loader, error),
    }
}

/// Reports unusable boot information and ends the machine.
fn fail(loader: Loader, error: BootInfoError) -> ! {
    if let (Loader::Pvh, BootInfoError::BadMagic { .. }) = (loader, error) {
        println!("anykernel: cannot boot: unknown loader (no multiboot2 magic in eax, {error})");
    } else {
        println!("anykernel: cannot boot: {error}");
    }
    power::exit(power::failure_value(super::BOOT_FAILURE_CODE))
}
