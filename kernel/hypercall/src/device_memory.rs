//! Device memory hypercalls: DMA blocks, device addresses, register maps.
//!
//! Device components (virtio-net, later block drivers) need three things
//! ordinary kernel code never does: memory a device can address, the
//! device address of kernel memory they lend to a device, and device
//! registers mapped into the kernel. All three hand out raw addresses that
//! the kernel turns into slices and volatile accesses, so the group is an
//! `unsafe trait` and what it returns are opaque tokens: a [`DmaRegion`]
//! or an [`MmioRegion`] can only be made by a host, with `unsafe`, so safe
//! kernel code can only touch memory that a host promised is there.
//!
//! Reached through [`crate::Hypercalls::device_memory`]; hosts without
//! devices (a Linux process) return `None` there.

use core::ptr::NonNull;

use crate::memory::{MemoryError, PAGE_SIZE};

/// A physically contiguous, page-aligned block that devices can address,
/// owned by whoever holds the token until it goes back to
/// [`DeviceMemory::dma_free`].
#[derive(Debug, PartialEq, Eq)]
pub struct DmaRegion {
    virt: NonNull<u8>,
    phys: u64,
    size: usize,
}

impl DmaRegion {
    /// The token for `size` bytes at `virt`, device-visible at `phys`.
    ///
    /// # Safety
    /// Hosts call this in [`DeviceMemory::dma_allocate`] only, and a driver
    /// only to rebuild, unchanged, a region it took apart (an external
    /// crate's DMA interface may want the parts): `size` is a nonzero
    /// multiple of [`PAGE_SIZE`], `virt` is page-aligned and `size` bytes
    /// from it are valid for reads and writes, physically contiguous and
    /// seen by devices at `phys..phys + size`, and no one else uses them
    /// until the region is freed.
    #[allow(unsafe_code, reason = "only a host may vouch for a DMA block")]
    pub unsafe fn new(virt: NonNull<u8>, phys: u64, size: usize) -> Self {
        debug_assert!(size > 0 && size.is_multiple_of(PAGE_SIZE));
        Self { virt, phys, size }
    }

    /// Where the kernel reads and writes the block.
    pub fn virt(&self) -> NonNull<u8> {
        self.virt
    }

    /// The address devices use for the first byte.
    pub fn phys(&self) -> u64 {
        self.phys
    }

    /// Length in bytes, a multiple of [`PAGE_SIZE`].
    pub fn size(&self) -> usize {
        self.size
    }
}

/// Device registers a host mapped for the kernel: `len` bytes reachable
/// with volatile accesses at [`MmioRegion::as_ptr`].
///
/// Copies alias the same registers, which is harmless: device memory is
/// never Rust memory, and every access to it is volatile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmioRegion {
    virt: NonNull<u8>,
    phys: u64,
    len: usize,
}

// SAFETY: the region names device registers, not Rust data; volatile
// accesses from any thread are what device memory is for (drivers order
// them with their own locks).
#[allow(unsafe_code, reason = "device registers are reachable from any thread")]
unsafe impl Send for MmioRegion {}
// SAFETY: as for `Send`; a shared token gives no reference into memory.
#[allow(unsafe_code, reason = "device registers are reachable from any thread")]
unsafe impl Sync for MmioRegion {}

impl MmioRegion {
    /// The token for `len` bytes of registers at `virt`, which devices
    /// decode at `phys`.
    ///
    /// # Safety
    /// Hosts call this only: `len > 0`, `virt` maps `phys..phys + len`
    /// uncached for volatile reads and writes of 1, 2, 4 and 8 bytes at
    /// their natural alignment, the range holds device registers and no
    /// memory the kernel or host uses as ordinary memory, and the mapping
    /// lives until the kernel is dropped.
    #[allow(unsafe_code, reason = "only a host may vouch for a mapping")]
    pub unsafe fn new(virt: NonNull<u8>, phys: u64, len: usize) -> Self {
        debug_assert!(len > 0);
        Self { virt, phys, len }
    }

    /// The first register's kernel address.
    pub fn as_ptr(&self) -> NonNull<u8> {
        self.virt
    }

    /// The first register's device (physical) address.
    pub fn phys(&self) -> u64 {
        self.phys
    }

    /// Length in bytes (never zero).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false; present for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `phys..phys + len` lies inside this region.
    pub fn covers(&self, phys: u64, len: usize) -> bool {
        let end = phys.checked_add(len as u64);
        let own_end = self.phys + self.len as u64;
        phys >= self.phys && end.is_some_and(|end| end <= own_end)
    }
}

/// Device memory hypercalls (since 2.0).
///
/// # Implementation safety
///
/// - [`DeviceMemory::dma_allocate`] returns regions that keep the contract
///   of [`DmaRegion::new`]: zeroed, page-aligned, contiguous, the caller's
///   alone.
/// - [`DeviceMemory::virt_to_phys`] returns `Some(address)` only when every
///   byte of the range is kernel memory that devices reach at `address`
///   plus its offset, contiguously.
/// - [`DeviceMemory::mmio_map`] maps device registers only: a range that
///   overlaps memory the host hands out (as ordinary or DMA memory), the
///   kernel image or the host's own data is refused, and a mapping lives
///   until the kernel is dropped (the kernel never unmaps).
#[allow(unsafe_code, reason = "the contract of a raw device-memory interface")]
pub unsafe trait DeviceMemory: Send + Sync {
    /// Allocates `size` bytes (rounded up to whole pages) of zeroed,
    /// physically contiguous memory for device DMA. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] when no contiguous block is free,
    /// [`MemoryError::InvalidRequest`] for `size == 0`.
    fn dma_allocate(&self, size: usize) -> Result<DmaRegion, MemoryError>;

    /// Returns a DMA block. Never blocks.
    ///
    /// # Safety
    /// `region` came from [`DeviceMemory::dma_allocate`] on this
    /// implementation, and no device still accesses it.
    #[allow(unsafe_code, reason = "the contract of a raw device-memory interface")]
    unsafe fn dma_free(&self, region: DmaRegion);

    /// The device address of the `len` bytes of kernel memory at `start`,
    /// for buffers that did not come from [`DeviceMemory::dma_allocate`]
    /// (a packet buffer lent to a NIC): `None` unless the whole range is
    /// contiguous in device address space. Never blocks.
    fn virt_to_phys(&self, start: *const u8, len: usize) -> Option<u64>;

    /// Maps `size` bytes of device registers at physical address `phys`
    /// (uncached). For devices outside PCI, such as virtio-mmio on
    /// microvm; PCI BARs come mapped from [`crate::PciBus::bar`]. Mapping
    /// the same registers twice is allowed. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::InvalidRequest`] for an empty range, one the host
    /// cannot map, or one that is not device memory.
    fn mmio_map(&self, phys: u64, size: usize) -> Result<MmioRegion, MemoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code, reason = "a token only a host may make")]
    fn a_region_covers_exactly_its_own_range() {
        let mut word = 0u64;
        let virt = NonNull::from(&mut word).cast::<u8>();
        // SAFETY: a test token; nothing ever accesses through it.
        let region = unsafe { MmioRegion::new(virt, 0x1000, 0x100) };
        assert!(region.covers(0x1000, 0x100));
        assert!(region.covers(0x10fc, 4));
        assert!(!region.covers(0x10fd, 4));
        assert!(!region.covers(0xfff, 2));
        assert!(!region.covers(u64::MAX, 2));
    }
}
