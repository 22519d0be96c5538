//! MMIO mappings in the identity map: uncached 2 MiB pages, also above 4 GiB.
//!
//! The boot code identity-maps physical 0..4 GiB with write-back 2 MiB pages
//! (`platform_boot_pml4` → `pdpt` → four page directories). [`map_mmio`]
//! keeps virtual = physical: below 4 GiB it marks the covering 2 MiB pages
//! uncached (PCD|PWT), above 4 GiB it adds new uncached 2 MiB pages, taking
//! page-table pages from a small static pool. The tables are found through
//! CR3, so this module never names the boot symbols. Device memory is not
//! executable (NX). The 2 MiB pages holding the image are refused.

use core::cell::UnsafeCell;
use core::fmt;
use core::ptr::NonNull;

use spin::Mutex;

use crate::cpu;

const PAGE_2M: u64 = 2 << 20;
const PRESENT: u64 = 1;
const WRITABLE: u64 = 1 << 1;
const WRITE_THROUGH: u64 = 1 << 3;
const CACHE_DISABLE: u64 = 1 << 4;
const HUGE: u64 = 1 << 7;
const NO_EXECUTE: u64 = 1 << 63;
/// Physical address bits 12..=51 of an entry.
const ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;
/// Page-table pages available for mappings above 4 GiB (one page
/// directory maps 1 GiB; one PDPT 512 GiB).
const POOL_PAGES: usize = 8;
/// Virtual = physical works only in the lower canonical half (four-level
/// paging): higher physical addresses cannot be identity-mapped.
const IDENTITY_LIMIT: u64 = 1 << 47;

/// Why a range could not be mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// Empty range, physical address 0, beyond the CPU's physical
    /// address width or beyond 128 TiB (no identity mapping up there), or
    /// a register block that is not 4-byte aligned.
    OutOfRange,
    /// The range shares a 2 MiB page with the kernel image.
    KernelOverlap,
    /// The page-table page pool is exhausted.
    NoTablePages,
    /// An existing entry maps something else there (not identity, or a
    /// 1 GiB page).
    Conflict,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OutOfRange => "physical range empty, unaligned or beyond the address width",
            Self::KernelOverlap => "range shares a 2 MiB page with the kernel image",
            Self::NoTablePages => "out of page-table pages for MMIO mappings",
            Self::Conflict => "an existing page-table entry maps something else",
        })
    }
}

impl core::error::Error for MapError {}

#[repr(C, align(4096))]
struct Table([u64; 512]);

/// Page-table pages for new mappings, handed out once, never freed.
struct Pool(UnsafeCell<[Table; POOL_PAGES]>);

// SAFETY: the pool is only touched while holding `MAP_LOCK`.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool(UnsafeCell::new([const { Table([0; 512]) }; POOL_PAGES]));
/// Serialises page-table edits; the value is the next free pool page.
static MAP_LOCK: Mutex<usize> = Mutex::new(0);

/// Maps `size` bytes of device memory at physical `phys` uncached and
/// returns where the kernel reaches it (the same address: identity map).
///
/// # Errors
/// See [`MapError`]; nothing is changed on error except page-table pages
/// added for earlier 2 MiB pages of the same range, which stay valid.
pub fn map_mmio(phys: u64, size: u64) -> Result<NonNull<u8>, MapError> {
    let end = phys.checked_add(size).ok_or(MapError::OutOfRange)?;
    let width = u32::from(cpu::features().physical_address_bits);
    let limit = 1u64
        .checked_shl(width)
        .unwrap_or(u64::MAX)
        .min(IDENTITY_LIMIT);
    if size == 0 || phys == 0 || end > limit {
        return Err(MapError::OutOfRange);
    }
    let first = phys & !(PAGE_2M - 1);
    if overlaps_kernel(first, end) {
        return Err(MapError::KernelOverlap);
    }
    cpu::without_interrupts(|| {
        let mut next_free = MAP_LOCK.lock();
        (first..end)
            .step_by(PAGE_2M as usize)
            .try_for_each(|page| map_page(page, &mut next_free))
    })?;
    let virt = usize::try_from(phys).map_err(|_| MapError::OutOfRange)?;
    NonNull::new(virt as *mut u8).ok_or(MapError::OutOfRange)
}

fn overlaps_kernel(first: u64, end: u64) -> bool {
    let kernel_start = crate::boot::image_start() & !(PAGE_2M - 1);
    first < crate::boot::image_end() && kernel_start < end
}

/// Makes the 2 MiB page at `page` an uncached identity mapping.
fn map_page(page: u64, next_free: &mut usize) -> Result<(), MapError> {
    let pml4 = read_cr3() & ADDRESS_MASK;
    let pdpt = next_level(pml4, index(page, 39), next_free)?;
    let directory = next_level(pdpt, index(page, 30), next_free)?;
    let entry = entry_pointer(directory, index(page, 21));
    let wanted = page | PRESENT | WRITABLE | WRITE_THROUGH | CACHE_DISABLE | HUGE | NO_EXECUTE;
    // SAFETY: `entry` points into a live page directory (identity-mapped)
    // and we hold MAP_LOCK, so nobody else edits it concurrently.
    let current = unsafe { entry.read_volatile() };
    if current & PRESENT != 0 && (current & HUGE == 0 || current & ADDRESS_MASK != page) {
        return Err(MapError::Conflict);
    }
    if current != wanted {
        // SAFETY: as above; the new entry maps the same physical page (or
        // a previously unmapped one), so no live reference changes target.
        unsafe { entry.write_volatile(wanted) };
        invalidate(page);
    }
    Ok(())
}

/// The table that entry `slot` of `table` points to, creating it from the
/// pool if absent.
fn next_level(table: u64, slot: usize, next_free: &mut usize) -> Result<u64, MapError> {
    let entry = entry_pointer(table, slot);
    // SAFETY: `table` is a live page-table page, identity-mapped; MAP_LOCK
    // is held.
    let current = unsafe { entry.read_volatile() };
    if current & PRESENT != 0 {
        return match current & HUGE {
            0 => Ok(current & ADDRESS_MASK),
            _ => Err(MapError::Conflict),
        };
    }
    let fresh = take_pool_page(next_free)?;
    // SAFETY: as above; a non-present entry becomes a pointer to a zeroed
    // table, which maps nothing yet.
    unsafe { entry.write_volatile(fresh | PRESENT | WRITABLE) };
    Ok(fresh)
}

fn take_pool_page(next_free: &mut usize) -> Result<u64, MapError> {
    if *next_free >= POOL_PAGES {
        return Err(MapError::NoTablePages);
    }
    let base = POOL.0.get().cast::<Table>();
    // SAFETY: the index is in bounds; pool pages are zeroed (.bss) and each
    // is handed out once, under MAP_LOCK.
    let page = unsafe { base.add(*next_free) };
    *next_free += 1;
    Ok(page as u64)
}

fn entry_pointer(table: u64, slot: usize) -> *mut u64 {
    (table as *mut u64).wrapping_add(slot)
}

fn index(address: u64, shift: u32) -> usize {
    ((address >> shift) & 0x1ff) as usize
}

fn read_cr3() -> u64 {
    let value: u64;
    // SAFETY: reading CR3 has no side effects in ring 0.
    unsafe { core::arch::asm!("mov {}, cr3", out(reg) value, options(nomem, nostack)) };
    value
}

fn invalidate(address: u64) {
    // SAFETY: INVLPG only drops cached translations for this address.
    unsafe { core::arch::asm!("invlpg [{}]", in(reg) address, options(nostack)) };
}
