//! Memory hypercalls: `std::alloc`, accounted against a byte limit.
//!
//! The limit plays the part of the machine's RAM: a hosted kernel sees
//! exhaustion where a bare-metal one would, and tests can provoke it with
//! a small limit. The account counts requested bytes (not the allocator's
//! rounding) and is kept with atomics, so allocation never takes a lock.
//! DMA and `mmio_map` keep the interface's "unsupported" defaults: a
//! process has no physical addresses.

use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use hypercall::{Memory, MemoryError};

use crate::Posix;

/// Bytes handed out against a fixed limit.
#[derive(Debug)]
pub(crate) struct MemoryAccount {
    limit: usize,
    in_use: AtomicUsize,
}

impl MemoryAccount {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            in_use: AtomicUsize::new(0),
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    pub(crate) fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    /// Books `size` bytes if that stays within the limit.
    fn reserve(&self, size: usize) -> Result<(), MemoryError> {
        let fits = |used: usize| used.checked_add(size).filter(|&total| total <= self.limit);
        self.in_use
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, fits)
            .map(drop)
            .map_err(|_| MemoryError::Exhausted)
    }

    /// Gives `size` booked bytes back.
    fn release(&self, size: usize) {
        self.in_use.fetch_sub(size, Ordering::Relaxed);
    }
}

/// The layout of a request, or why it is refused.
fn request_layout(size: usize, align: usize) -> Result<Layout, MemoryError> {
    if size == 0 || !align.is_power_of_two() {
        return Err(MemoryError::InvalidRequest);
    }
    // With a valid alignment, the only failure left is a size too large
    // for any address space.
    Layout::from_size_align(size, align).map_err(|_| MemoryError::Exhausted)
}

// SAFETY: blocks come from the process's global allocator with the
// requested layout (so aligned, valid and the caller's until freed), and
// nothing here keeps a pointer to them.
unsafe impl Memory for Posix {
    fn memory_allocate(&self, size: usize, align: usize) -> Result<NonNull<u8>, MemoryError> {
        let layout = request_layout(size, align)?;
        self.memory.reserve(size)?;
        // SAFETY: `layout` has a nonzero size (checked by `request_layout`),
        // the one requirement of `GlobalAlloc::alloc`.
        let block = unsafe { std::alloc::alloc(layout) };
        NonNull::new(block).ok_or_else(|| {
            self.memory.release(size);
            MemoryError::Exhausted
        })
    }

    /// Returns a block to the allocator and the account.
    ///
    /// # Safety
    /// As the trait requires: `ptr` came from `memory_allocate` on this
    /// instance with the same `size` and `align` and is not used again.
    unsafe fn memory_free(&self, ptr: NonNull<u8>, size: usize, align: usize) {
        let layout = request_layout(size, align)
            .expect("size and align are those of a successful allocation");
        // SAFETY: by this function's contract `ptr` was allocated by
        // `std::alloc::alloc` with exactly this layout and is not used
        // after this call.
        unsafe { std::alloc::dealloc(ptr.as_ptr(), layout) };
        self.memory.release(size);
    }

    fn memory_size(&self) -> usize {
        self.memory.limit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PosixConfig;
    use hypercall::PAGE_SIZE;

    fn posix_with_limit(memory_limit: usize) -> std::sync::Arc<Posix> {
        Posix::new(PosixConfig {
            memory_limit,
            ..PosixConfig::default()
        })
    }

    /// Frees a block from `memory_allocate` with the same arguments.
    fn free(posix: &Posix, block: NonNull<u8>, size: usize, align: usize) {
        // SAFETY: every caller passes a live block with its own size/align.
        unsafe { posix.memory_free(block, size, align) };
    }

    #[test]
    fn alignment_is_honoured_and_the_block_is_writable() {
        let posix = posix_with_limit(16 << 20);
        for align in [1, 8, 64, PAGE_SIZE, 1 << 16, 1 << 21] {
            let size = 3 * PAGE_SIZE + 5;
            let block = posix.memory_allocate(size, align).expect("fits");
            assert_eq!(block.as_ptr() as usize % align, 0, "align {align}");
            // SAFETY: the block is `size` bytes, freshly allocated and ours.
            unsafe { block.as_ptr().write_bytes(0xa5, size) };
            free(&posix, block, size, align);
        }
    }

    #[test]
    fn the_limit_gives_exhausted_and_freeing_makes_room() {
        let posix = posix_with_limit(64 * 1024);
        assert_eq!(posix.memory_size(), 64 * 1024);
        let first = posix.memory_allocate(48 * 1024, PAGE_SIZE).expect("fits");
        assert_eq!(posix.memory_in_use(), 48 * 1024);
        assert_eq!(
            posix.memory_allocate(32 * 1024, PAGE_SIZE),
            Err(MemoryError::Exhausted)
        );
        assert_eq!(posix.memory_in_use(), 48 * 1024, "a refusal books nothing");
        let second = posix
            .memory_allocate(16 * 1024, 64)
            .expect("exactly fills the limit");
        assert_eq!(posix.memory_in_use(), 64 * 1024);
        free(&posix, first, 48 * 1024, PAGE_SIZE);
        assert_eq!(posix.memory_in_use(), 16 * 1024);
        let third = posix
            .memory_allocate(32 * 1024, PAGE_SIZE)
            .expect("room again");
        free(&posix, second, 16 * 1024, 64);
        free(&posix, third, 32 * 1024, PAGE_SIZE);
        assert_eq!(posix.memory_in_use(), 0);
    }

    #[test]
    fn bad_requests_are_invalid() {
        let posix = posix_with_limit(1 << 20);
        assert_eq!(
            posix.memory_allocate(0, 8),
            Err(MemoryError::InvalidRequest)
        );
        assert_eq!(
            posix.memory_allocate(64, 0),
            Err(MemoryError::InvalidRequest)
        );
        assert_eq!(
            posix.memory_allocate(64, 48),
            Err(MemoryError::InvalidRequest)
        );
        assert_eq!(posix.memory_in_use(), 0);
    }

    #[test]
    fn a_refusing_allocator_is_exhaustion_not_an_abort() {
        let posix = posix_with_limit(usize::MAX);
        assert_eq!(
            posix.memory_allocate(1 << 62, 8),
            Err(MemoryError::Exhausted)
        );
        assert_eq!(
            posix.memory_allocate(usize::MAX - 8, PAGE_SIZE),
            Err(MemoryError::Exhausted)
        );
        assert_eq!(posix.memory_in_use(), 0);
    }

    #[test]
    fn a_process_has_no_device_memory() {
        use hypercall::Hypercalls;
        let posix = posix_with_limit(1 << 20);
        assert!(posix.device_memory().is_none());
        assert!(posix.pci().is_none());
    }
}
