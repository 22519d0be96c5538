//! Memory hypercalls: page-aligned allocation and DMA-able memory.
//!
//! The kernel's page and pool allocators sit on [`Memory::memory_allocate`];
//! device components get memory a device can reach through
//! [`Memory::dma_allocate`]. Running out is an error the kernel handles: no
//! call here panics or aborts on exhaustion.

use core::fmt;
use core::ptr::NonNull;

/// The page size the kernel assumes. Page allocations are aligned to it.
pub const PAGE_SIZE: usize = 4096;

/// Why a memory hypercall could not give memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryError {
    /// No block of the requested size and alignment is free.
    Exhausted,
    /// The request itself is invalid: zero size, or an alignment that is not
    /// a power of two.
    InvalidRequest,
    /// The host cannot provide this kind of memory (e.g. DMA on a host
    /// without physical addresses).
    Unsupported,
}

impl fmt::Display for MemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Exhausted => "memory exhausted",
            Self::InvalidRequest => "invalid memory request",
            Self::Unsupported => "memory kind not supported by this host",
        })
    }
}

impl core::error::Error for MemoryError {}

/// A physically contiguous, page-aligned block that devices can address.
///
/// `virt` is where the kernel reads and writes it; `phys` is the address
/// the device uses. The kernel owns the block until it passes it back to
/// [`Memory::dma_free`].
#[derive(Debug, PartialEq, Eq)]
pub struct DmaRegion {
    /// Kernel virtual address of the first byte.
    pub virt: NonNull<u8>,
    /// Device-visible (physical) address of the first byte.
    pub phys: u64,
    /// Length in bytes, a multiple of [`PAGE_SIZE`].
    pub size: usize,
}

/// Memory hypercalls.
pub trait Memory {
    /// Allocates `size` bytes aligned to `align`, uninitialised.
    ///
    /// `align` is a power of two; the kernel passes [`PAGE_SIZE`] for page
    /// allocations and smaller values for pool chunks. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] when no suitable block is free,
    /// [`MemoryError::InvalidRequest`] for `size == 0` or a bad `align`.
    fn memory_allocate(&self, size: usize, align: usize) -> Result<NonNull<u8>, MemoryError>;

    /// Returns a block to the host. Never blocks.
    ///
    /// # Safety
    /// `ptr` came from [`Memory::memory_allocate`] on this implementation
    /// with the same `size` and `align`, and has not been freed since. The
    /// caller does not use the block after this call.
    #[allow(unsafe_code, reason = "the contract of a raw memory interface")]
    unsafe fn memory_free(&self, ptr: NonNull<u8>, size: usize, align: usize);

    /// The number of bytes this host can hand out in total, counting what is
    /// already allocated: the kernel's default memory limit. Never blocks.
    fn memory_size(&self) -> usize;

    /// Allocates `size` bytes (rounded up to whole pages) of zeroed,
    /// physically contiguous memory for device DMA. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Unsupported`] on hosts without devices,
    /// [`MemoryError::Exhausted`] when no contiguous block is free.
    fn dma_allocate(&self, size: usize) -> Result<DmaRegion, MemoryError> {
        let _ = size;
        Err(MemoryError::Unsupported)
    }

    /// Returns a DMA block. Never blocks.
    ///
    /// # Safety
    /// `region` came from [`Memory::dma_allocate`] on this implementation,
    /// unchanged, and no device still accesses it.
    #[allow(unsafe_code, reason = "the contract of a raw memory interface")]
    unsafe fn dma_free(&self, region: DmaRegion) {
        let _ = region;
    }

    /// The device-visible address of kernel memory at `virt`, for buffers
    /// that did not come from [`Memory::dma_allocate`] (e.g. a packet buffer
    /// handed to a NIC). `None` if the host has no such mapping. Never
    /// blocks.
    fn virt_to_phys(&self, virt: *const u8) -> Option<u64> {
        let _ = virt;
        None
    }

    /// Maps `size` bytes of device registers at physical address `phys`
    /// (uncached) and returns where the kernel reaches them. For devices
    /// outside PCI, such as virtio-mmio on microvm; PCI BARs come mapped
    /// from [`crate::PciBus::bar`]. Never blocks.
    ///
    /// # Errors
    /// [`MemoryError::Unsupported`] on hosts without device memory,
    /// [`MemoryError::InvalidRequest`] for a range the host cannot map.
    fn mmio_map(&self, phys: u64, size: usize) -> Result<NonNull<u8>, MemoryError> {
        let _ = (phys, size);
        Err(MemoryError::Unsupported)
    }
}
