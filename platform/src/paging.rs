//! MMIO mappings in the identity map: uncached 2 MiB pages, also above 4 GiB.
//!
//! The boot code identity-maps physical 0..4 GiB with write-back 2 MiB pages
//! (`platform_boot_pml4` → `pdpt` → four page directories). [`map_mmio`]
//! keeps virtual = physical: below 4 GiB it marks the covering 2 MiB pages
//! uncached (PCD|PWT), above 4 GiB it adds new uncached 2 MiB pages, taking
//! page-table pages from a small static pool. The tables are found through
//! CR3, so this module never names the boot symbols. Device memory is not
//! executable (NX). The 2 MiB pages holding the image are refused.
//! Tables, entries and flags are the `x86_64` crate's types; page tables
//! are edited only here, under `MAP_LOCK`, through the identity map.

use core::cell::UnsafeCell;
use core::fmt;
use core::ptr::NonNull;

use spin::Mutex;
use x86_64::instructions::tlb;
use x86_64::registers::control::Cr3;
use x86_64::structures::paging::{PageTable, PageTableFlags as Flags, PageTableIndex};
use x86_64::{PhysAddr, VirtAddr};

use crate::cpu;

const PAGE_2M: u64 = 2 << 20;
/// A device page: present, writable, uncached (PCD|PWT), a 2 MiB page,
/// not executable.
const DEVICE_PAGE: Flags = Flags::PRESENT
    .union(Flags::WRITABLE)
    .union(Flags::WRITE_THROUGH)
    .union(Flags::NO_CACHE)
    .union(Flags::HUGE_PAGE)
    .union(Flags::NO_EXECUTE);
/// An entry pointing to a next-level table; the leaf decides the rest.
const NEXT_TABLE: Flags = Flags::PRESENT.union(Flags::WRITABLE);
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

/// Page-table pages for new mappings, handed out once, never freed.
struct Pool(UnsafeCell<[PageTable; POOL_PAGES]>);

// SAFETY: the pool is only touched while holding `MAP_LOCK`.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool(UnsafeCell::new([const { PageTable::new() }; POOL_PAGES]));
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

/// Makes the 2 MiB page at `page` (below [`IDENTITY_LIMIT`]) an uncached
/// identity mapping. The caller holds `MAP_LOCK` (`next_free` is its value).
fn map_page(page: u64, next_free: &mut usize) -> Result<(), MapError> {
    let (virt, phys) = (VirtAddr::new(page), PhysAddr::new(page));
    let pml4 = Cr3::read().0.start_address();
    let pdpt = next_level(pml4, virt.p4_index(), next_free)?;
    let directory = next_level(pdpt, virt.p3_index(), next_free)?;
    // SAFETY: `directory` is a live page directory; MAP_LOCK is held.
    let entry = &mut unsafe { table(directory) }[virt.p2_index()];
    let present = entry.flags().contains(Flags::PRESENT);
    let identity = entry.flags().contains(Flags::HUGE_PAGE) && entry.addr() == phys;
    if present && !identity {
        return Err(MapError::Conflict);
    }
    if entry.flags() != DEVICE_PAGE {
        // The new entry maps the same physical page (or a previously
        // unmapped one), so no live reference changes target.
        entry.set_addr(phys, DEVICE_PAGE);
        tlb::flush(virt);
    }
    Ok(())
}

/// The table that entry `slot` of the table at `parent` points to,
/// creating it from the pool if absent. The caller holds `MAP_LOCK`.
fn next_level(
    parent: PhysAddr,
    slot: PageTableIndex,
    next_free: &mut usize,
) -> Result<PhysAddr, MapError> {
    // SAFETY: `parent` is a live page-table page (CR3's or one an entry
    // of the live tables points to); MAP_LOCK is held.
    let entry = &mut unsafe { table(parent) }[slot];
    let flags = entry.flags();
    if flags.contains(Flags::PRESENT) {
        return match flags.contains(Flags::HUGE_PAGE) {
            false => Ok(entry.addr()),
            true => Err(MapError::Conflict),
        };
    }
    // A non-present entry becomes a pointer to a zeroed table, which maps
    // nothing yet.
    let fresh = take_pool_page(next_free)?;
    entry.set_addr(fresh, NEXT_TABLE);
    Ok(fresh)
}

fn take_pool_page(next_free: &mut usize) -> Result<PhysAddr, MapError> {
    if *next_free >= POOL_PAGES {
        return Err(MapError::NoTablePages);
    }
    let base = POOL.0.get().cast::<PageTable>();
    // The index is in bounds; pool pages are zeroed (.bss) and each is
    // handed out once, under MAP_LOCK. The image is identity-mapped, so
    // the page's address is its physical address.
    let page = base.wrapping_add(*next_free);
    *next_free += 1;
    Ok(PhysAddr::new(page as u64))
}

/// The page-table page at physical `address`, through the identity map.
///
/// # Safety
/// `address` must be a live page-table page (or a pool page), and the
/// caller must hold `MAP_LOCK` for as long as the reference lives, so
/// that no other reference to the page exists.
unsafe fn table<'lock>(address: PhysAddr) -> &'lock mut PageTable {
    // SAFETY: identity map: the physical address is the virtual one, the
    // page is 4 KiB-aligned (a table), and the caller guarantees
    // exclusive access.
    unsafe { &mut *(address.as_u64() as *mut PageTable) }
}
