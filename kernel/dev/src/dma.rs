//! DMA memory as an RAII type over the device-memory hypercalls.
//!
//! A [`DmaBuffer`] is a zeroed, physically contiguous block a device can
//! address at [`DmaBuffer::phys`]; dropping it gives it back to the host.
//! The kernel reads and writes it as a byte slice; the driver must only do
//! so while the device does not own the block (before handing it over and
//! after the device said it is done), as with any DMA buffer. The block is
//! a [`DmaRegion`], which only a host can make (the interface's
//! device-memory contract), so the slices here rest on the host's promise.
//! This is one of the faction's two unsafe files.

#![allow(unsafe_code, reason = "the DMA block as a slice, and its free")]

use alloc::sync::Arc;

use base::Context;
use base::hypercall::{DeviceMemory, DmaRegion, MemoryError};

use crate::error::DevError;

/// A block of DMA memory, freed on drop.
pub struct DmaBuffer {
    memory: Arc<dyn DeviceMemory>,
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
    /// [`DevError::Memory`] when the host ran out.
    pub fn allocate(memory: Arc<dyn DeviceMemory>, size: usize) -> Result<Self, DevError> {
        let region = memory.dma_allocate(size)?;
        Ok(Self {
            memory,
            region: Some(region),
        })
    }

    /// At least `size` bytes from the kernel's host.
    ///
    /// # Errors
    /// As [`DmaBuffer::allocate`]; [`DevError::Memory`] with
    /// [`MemoryError::Unsupported`] on hosts without device memory.
    pub fn for_kernel(context: &Context<'_>, size: usize) -> Result<Self, DevError> {
        let memory = context.kernel().hypercalls().device_memory();
        Self::allocate(memory.ok_or(MemoryError::Unsupported)?, size)
    }

    fn region(&self) -> &DmaRegion {
        self.region.as_ref().expect("present until drop")
    }

    /// The address the device uses.
    pub fn phys(&self) -> u64 {
        self.region().phys()
    }

    /// Its length in bytes (a multiple of the page size).
    pub fn len(&self) -> usize {
        self.region().size()
    }

    /// Whether it is empty (never: the host refuses zero sizes).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The block's bytes.
    pub fn as_slice(&self) -> &[u8] {
        let region = self.region();
        // SAFETY: the host gave `size` bytes at `virt`, owned by this
        // buffer until it is dropped (`DmaRegion::new`'s contract);
        // `&self` keeps them alive and allows no writer.
        unsafe { core::slice::from_raw_parts(region.virt().as_ptr(), region.size()) }
    }

    /// The block's bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let region = self.region();
        let (virt, size) = (region.virt(), region.size());
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
    use crate::fake::FakeDeviceMemory;
    use base::hypercall::PAGE_SIZE;
    use std::sync::atomic::Ordering::SeqCst;

    #[test]
    fn whole_zeroed_pages_freed_on_drop() {
        let memory = Arc::new(FakeDeviceMemory::default());
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
    fn a_zero_size_request_is_refused() {
        let memory = Arc::new(FakeDeviceMemory::default());
        let error = DmaBuffer::allocate(memory.clone(), 0).unwrap_err();
        assert_eq!(error, DevError::Memory(MemoryError::InvalidRequest));
        assert_eq!(memory.outstanding.load(SeqCst), 0);
    }
}
