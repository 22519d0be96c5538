//! The device-memory hypercalls on this machine: DMA from the heap, the
//! identity map for device addresses, uncached maps of device registers.
//!
//! All RAM the kernel uses is the heap, identity-mapped below 4 GiB
//! (`heap.rs`), so a device address is the kernel address and any range
//! of the identity map is contiguous. Register maps are made in uncached
//! 2 MiB pages (`platform::paging`); a range whose pages touch the heap or
//! the image is refused, which keeps the promise that a register map never
//! aliases memory Rust code uses.

use hypercall::{DeviceMemory, DmaRegion, MemoryError, MmioRegion, PAGE_SIZE};
use platform::paging;

use crate::heap::HEAP;

/// The end of the identity map the heap lives in.
const IDENTITY_END: u64 = 4 << 30;

/// The bare-metal device memory (stateless: the heap and page tables are
/// the machine's own).
#[derive(Debug)]
pub(crate) struct BareDeviceMemory;

// SAFETY: DMA blocks are fresh, zeroed, page-aligned heap blocks, owned by
// the caller until `dma_free`; the heap is identity-mapped RAM, so they are
// contiguous at phys = virt, as is any range `virt_to_phys` accepts (it
// accepts only ranges inside the identity map); `mmio_map` refuses ranges
// near the heap or the image (checked here and by `paging::map_mmio`), and
// the platform never unmaps what it mapped.
unsafe impl DeviceMemory for BareDeviceMemory {
    fn dma_allocate(&self, size: usize) -> Result<DmaRegion, MemoryError> {
        let size = size
            .checked_next_multiple_of(PAGE_SIZE)
            .filter(|&s| s > 0)
            .ok_or(MemoryError::InvalidRequest)?;
        let virt = HEAP.allocate(size, PAGE_SIZE)?;
        // SAFETY: the heap just handed out `size` writable bytes at `virt`.
        unsafe { virt.write_bytes(0, size) };
        // SAFETY: a fresh, zeroed, page-aligned heap block of whole pages,
        // identity-mapped (phys = virt) and contiguous, owned by the caller.
        Ok(unsafe { DmaRegion::new(virt, virt.as_ptr() as u64, size) })
    }

    unsafe fn dma_free(&self, region: DmaRegion) {
        // SAFETY: forwarded contract: the region came from `dma_allocate`,
        // whose block was allocated with this size and page alignment.
        unsafe { HEAP.free(region.virt(), region.size(), PAGE_SIZE) };
    }

    fn virt_to_phys(&self, start: *const u8, len: usize) -> Option<u64> {
        let start = start as u64;
        let end = start.checked_add(len as u64)?;
        (end <= IDENTITY_END).then_some(start)
    }

    fn mmio_map(&self, phys: u64, size: usize) -> Result<MmioRegion, MemoryError> {
        let end = phys.checked_add(size as u64);
        if size == 0 || end.is_none_or(|end| HEAP.near(phys, end)) {
            return Err(MemoryError::InvalidRequest);
        }
        let virt = paging::map_mmio(phys, size as u64).map_err(|_| MemoryError::InvalidRequest)?;
        // SAFETY: `paging::map_mmio` mapped `phys..phys + size` uncached at
        // `virt` for good, refusing the image's pages; the heap's pages were
        // refused above, so the range holds no memory Rust code uses.
        Ok(unsafe { MmioRegion::new(virt, phys, size) })
    }
}

/// A memory BAR's mapping as a token, under the same checks as
/// [`DeviceMemory::mmio_map`].
pub(crate) fn map_bar(phys: u64, size: u64) -> Option<MmioRegion> {
    let size = usize::try_from(size).ok()?;
    BareDeviceMemory.mmio_map(phys, size).ok()
}
