//! Memory hypercalls: page-aligned allocation for the kernel's allocators.
//!
//! The kernel's page and pool allocators sit on [`Memory::memory_allocate`]
//! and turn what it returns into byte slices, so the trait is `unsafe`: an
//! implementation promises that the blocks it hands out are real, aligned
//! and the caller's alone. Running out is an error the kernel handles: no
//! call here panics or aborts on exhaustion. Memory that devices reach
//! (DMA, registers) is a separate group, [`crate::DeviceMemory`].

use core::fmt;
use core::ptr::NonNull;

/// The page size the kernel assumes. Page allocations are aligned to it.
pub const PAGE_SIZE: usize = 4096;

/// Why a memory hypercall could not give memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryError {
    /// No block of the requested size and alignment is free.
    Exhausted,
    /// The request itself is invalid: zero size, an alignment that is not
    /// a power of two, or a range the host refuses to map.
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

/// Memory hypercalls.
///
/// # Implementation safety
///
/// The kernel builds `&mut [u8]` over the blocks this trait returns, so an
/// implementation guarantees, for every `Ok(ptr)` from
/// [`Memory::memory_allocate`]`(size, align)`:
///
/// - `ptr` is aligned to `align` and `size` bytes from it are valid for
///   reads and writes;
/// - nothing else (the host, another allocation, a device) reads or writes
///   those bytes until the kernel passes the block to
///   [`Memory::memory_free`];
/// - the block stays valid until then, even if the kernel outlives the
///   call's thread.
#[allow(unsafe_code, reason = "the contract of a raw memory interface")]
pub unsafe trait Memory {
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
}
