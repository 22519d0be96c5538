//! DMA memory as an RAII type over the `dma_allocate`/`dma_free` calls.
//!
//! A [`DmaBuffer`] is a zeroed, physically contiguous block a device can
//! address at [`DmaBuffer::phys`]; dropping it gives it back to the host.
//! The kernel reads and writes it as a byte slice; the driver must only do
//! so while the device does not own the block (before handing it over and
//! after the device said it is done), as with any DMA buffer. This is one
//! of the faction's two unsafe files.

#![allow(unsafe_code, reason = "the DMA block as a slice, and its free")]

use alloc::sync::Arc;

use base::Context;
use base::hypercall::{DmaRegion, Memory};

use crate::error::DevError;

/// A block of DMA memory, freed on drop.
pub struct DmaBuffer {
    memory: Arc<dyn Memory + Send + Sync>,
    /// Always `Some` until `drop` takes it.
    region: Option<DmaRegion>,
}

// SAFETY: the buffer owns its block exclusively (nothing else has the
// region), so moving it to another thread moves sole access with it.
unsafe impl Send for DmaBuffer {}
// SAFETY: shared references only read the block (`as_slice`, `phys`).
unsafe impl Sync for DmaBuffer {}

impl DmaBuffer {
    /// At least `size` bytes (whole pages) from `memory`.
    ///
    /// # Errors
    /// [`DevError::Memory`] when the host has none or it ran out.
    pub fn allocate(memory: Arc<dyn Memory + Send + Sync>, size: usize) -> Result<Self, DevError> {
        let region = memory.dma_allocate(size)?;
        Ok(Self {
            memory,
            region: Some(region),
        })
    }

    /// At least `size` bytes from the kernel's host.
    ///
    /// # Errors
    /// As [`DmaBuffer::allocate`].
    pub fn for_kernel(context: &Context<'_>, size: usize) -> Result<Self, DevError> {
        let memory: Arc<dyn Memory + Send + Sync> = context.kernel().hypercalls_arc().clone();
        Self::allocate(memory, size)
    }

    fn region(&self) -> &DmaRegion {
        self.region.as_ref().expect("present until drop")
    }

    /// The address the device uses.
    pub fn phys(&self) -> u64 {
        self.region().phys
    }

    /// Its length in bytes (a multiple of the page size).
    pub fn len(&self) -> usize {
        self.region().size
    }

    /// Whether it is empty (never: the host refuses zero sizes).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The block's bytes.
    pub fn as_slice(&self) -> &[u8] {
        let region = self.region();
        // SAFETY: the host gave `size` bytes at `virt`, zeroed, owned by
        // this buffer until it is dropped; `&self` keeps them alive.
        unsafe { core::slice::from_raw_parts(region.virt.as_ptr(), region.size) }
    }

    /// The block's bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let region = self.region();
        let (virt, size) = (region.virt, region.size);
        // SAFETY: as in `as_slice`; `&mut self` makes the access unique.
        unsafe { core::slice::from_raw_parts_mut(virt.as_ptr(), size) }
    }
}

impl Drop for DmaBuffer {
    fn drop(&mut self) {
        if let Some(region) = self.region.take() {
            // SAFETY: the region came from this host's `dma_allocate`,
            // unchanged, and the driver dropped the buffer, so no device
            // still uses it (the type's contract).
            unsafe { self.memory.dma_free(region) };
        }
    }
}

impl core::fmt::Debug for DmaBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DmaBuffer")
            .field("phys", &self.phys())
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base::hypercall::{MemoryError, PAGE_SIZE};
    use core::ptr::NonNull;
    use std::alloc::{Layout, alloc_zeroed, dealloc};
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    /// DMA from the host allocator, counting what is outstanding.
    #[derive(Default)]
    struct FakeMemory {
        outstanding: AtomicUsize,
    }

    impl Memory for FakeMemory {
        fn memory_allocate(&self, _size: usize, _align: usize) -> Result<NonNull<u8>, MemoryError> {
            Err(MemoryError::Unsupported)
        }

        unsafe fn memory_free(&self, _ptr: NonNull<u8>, _size: usize, _align: usize) {}

        fn memory_size(&self) -> usize {
            0
        }

        fn dma_allocate(&self, size: usize) -> Result<DmaRegion, MemoryError> {
            let size = size.next_multiple_of(PAGE_SIZE).max(PAGE_SIZE);
            let layout = Layout::from_size_align(size, PAGE_SIZE).unwrap();
            // SAFETY: the layout has a nonzero size.
            let virt =
                NonNull::new(unsafe { alloc_zeroed(layout) }).ok_or(MemoryError::Exhausted)?;
            self.outstanding.fetch_add(1, SeqCst);
            Ok(DmaRegion {
                virt,
                phys: virt.as_ptr() as u64,
                size,
            })
        }

        unsafe fn dma_free(&self, region: DmaRegion) {
            let layout = Layout::from_size_align(region.size, PAGE_SIZE).unwrap();
            // SAFETY: allocated above with this layout.
            unsafe { dealloc(region.virt.as_ptr(), layout) };
            self.outstanding.fetch_sub(1, SeqCst);
        }
    }

    #[test]
    fn whole_zeroed_pages_freed_on_drop() {
        let memory = Arc::new(FakeMemory::default());
        let mut buffer = DmaBuffer::allocate(memory.clone(), 100).unwrap();
        assert_eq!(buffer.len(), PAGE_SIZE);
        assert!(buffer.as_slice().iter().all(|&byte| byte == 0));
        buffer.as_mut_slice()[PAGE_SIZE - 1] = 7;
        assert_eq!(buffer.as_slice()[PAGE_SIZE - 1], 7);
        assert_eq!(buffer.phys() % PAGE_SIZE as u64, 0);
        assert_eq!(memory.outstanding.load(SeqCst), 1);
        drop(buffer);
        assert_eq!(memory.outstanding.load(SeqCst), 0);
    }

    #[test]
    fn hosts_without_dma_say_so() {
        struct NoDma;
        impl Memory for NoDma {
            fn memory_allocate(&self, _: usize, _: usize) -> Result<NonNull<u8>, MemoryError> {
                Err(MemoryError::Unsupported)
            }
            unsafe fn memory_free(&self, _: NonNull<u8>, _: usize, _: usize) {}
            fn memory_size(&self) -> usize {
                0
            }
        }
        let error = DmaBuffer::allocate(Arc::new(NoDma), 4096).unwrap_err();
        assert_eq!(error, DevError::Memory(MemoryError::Unsupported));
    }
}
