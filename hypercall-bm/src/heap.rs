//! The kernel heap: one first-fit heap over the largest usable RAM region.
//!
//! It serves both Rust's global allocator (the kernel's `Box`, `Vec`, …)
//! and the memory hypercalls (pages, DMA), so all of RAM is one pool and the
//! kernel's memory limit defaults to its size. Interrupt handlers never
//! allocate, so a spin lock without masking interrupts is enough.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use hypercall::MemoryError;
use linked_list_allocator::Heap;
use spin::Mutex;

/// The heap behind the global allocator and the memory hypercalls.
pub(crate) struct KernelHeap {
    heap: Mutex<Heap>,
}

#[global_allocator]
pub(crate) static HEAP: KernelHeap = KernelHeap {
    heap: Mutex::new(Heap::empty()),
};

/// A range of physical RAM, identity-mapped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Region {
    pub start: u64,
    pub end: u64,
}

/// Below this address memory is left alone (BIOS data, the loader's).
const LOWEST_HEAP_ADDRESS: u64 = 1 << 20;
/// The identity map covers this much; the heap stays inside it.
const MAPPED_LIMIT: u64 = 4 << 30;

impl KernelHeap {
    /// Gives the largest of `regions` to the heap; returns its size.
    pub(crate) fn init(&self, regions: impl Iterator<Item = Region>) -> Result<usize, MemoryError> {
        let best = regions
            .map(|r| Region {
                start: r.start.max(LOWEST_HEAP_ADDRESS).next_multiple_of(4096),
                end: r.end.min(MAPPED_LIMIT) & !4095,
            })
            .filter(|r| r.end > r.start)
            .max_by_key(|r| r.end - r.start)
            .ok_or(MemoryError::Exhausted)?;
        let size = (best.end - best.start) as usize;
        let mut heap = self.heap.lock();
        // SAFETY: the region is usable RAM reported by the loader, outside
        // the image and the loader's structures (the platform removed
        // those), identity-mapped, and given to the heap only once.
        unsafe { heap.init(best.start as *mut u8, size) };
        Ok(size)
    }

    /// Allocates for a hypercall, returning an error instead of null.
    pub(crate) fn allocate(&self, size: usize, align: usize) -> Result<NonNull<u8>, MemoryError> {
        let layout =
            Layout::from_size_align(size, align).map_err(|_| MemoryError::InvalidRequest)?;
        if size == 0 {
            return Err(MemoryError::InvalidRequest);
        }
        self.heap
            .lock()
            .allocate_first_fit(layout)
            .map_err(|()| MemoryError::Exhausted)
    }

    /// Frees a block from [`KernelHeap::allocate`].
    ///
    /// # Safety
    /// `ptr` came from `allocate(size, align)` and was not freed since.
    pub(crate) unsafe fn free(&self, ptr: NonNull<u8>, size: usize, align: usize) {
        let layout = Layout::from_size_align(size, align).expect("validated when allocated");
        // SAFETY: the caller guarantees `ptr` came from this heap with this
        // layout and is freed once.
        unsafe { self.heap.lock().deallocate(ptr, layout) };
    }

    /// Bytes the heap manages in total.
    pub(crate) fn size(&self) -> usize {
        self.heap.lock().size()
    }

    /// Whether `start..end` shares a 2 MiB page with the heap (device
    /// mappings are made in 2 MiB pages, so sharing one would make heap
    /// memory uncached, and identity-mapped heap memory is no device's).
    pub(crate) fn near(&self, start: u64, end: u64) -> bool {
        const PAGE_2M: u64 = 2 << 20;
        let heap = self.heap.lock();
        let bottom = heap.bottom() as u64 & !(PAGE_2M - 1);
        let top = (heap.top() as u64).next_multiple_of(PAGE_2M);
        start < top && bottom < end
    }
}

// SAFETY: `alloc` returns blocks of the requested layout from the heap or
// null, and `dealloc` takes back exactly such blocks; the heap's lock makes
// both exclusive.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.heap
            .lock()
            .allocate_first_fit(layout)
            .map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let ptr = NonNull::new(ptr).expect("dealloc of a null pointer");
        // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` with
        // `layout` and is freed once.
        unsafe { self.heap.lock().deallocate(ptr, layout) };
    }
}
