//! The kernel heap: one first-fit heap over the largest usable RAM region.
//!
//! It serves both Rust's global allocator (the kernel's `Box`, `Vec`, …)
//! and the memory hypercalls (pages, DMA), so all of RAM is one pool and the
//! kernel's memory limit defaults to its size. Interrupt handlers never
//! allocate, so a spin lock without masking interrupts is enough.
//!
//! A first-fit heap walks its list of holes on every allocation and every
//! free, and a kernel that keeps thousands of blocks (the buffer cache's
//! 4 KiB buffers, packets) between other allocations has thousands of
//! holes: each call then costs a walk over them. So the global
//! allocator keeps the blocks it frees of up to [`CLASS_LIMIT`] bytes
//! (alignment up to [`CLASS_STEP`]) on one free list per size class of
//! [`CLASS_STEP`] bytes, and hands them out again without the heap: most
//! calls are a push or a pop. When the heap itself cannot serve a call,
//! every kept block goes back to it and the call is tried again, so no
//! memory is lost to the lists.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use hypercall::MemoryError;
use linked_list_allocator::Heap;
use spin::Mutex;

/// The heap behind the global allocator and the memory hypercalls.
pub(crate) struct KernelHeap {
    heap: Mutex<Pools>,
}

#[global_allocator]
pub(crate) static HEAP: KernelHeap = KernelHeap {
    heap: Mutex::new(Pools {
        heap: Heap::empty(),
        free: [None; CLASSES],
    }),
};

/// The largest block kept on a free list.
const CLASS_LIMIT: usize = 4096;
/// The size classes' step, and the largest alignment they serve.
const CLASS_STEP: usize = 16;
const CLASSES: usize = CLASS_LIMIT / CLASS_STEP;

/// The heap and the free lists in front of it.
struct Pools {
    heap: Heap,
    /// Per class, the first kept block; each kept block's first word
    /// holds the next one's address (0: none).
    free: [Option<NonNull<u8>>; CLASSES],
}

// SAFETY: the kept blocks are heap memory no one else refers to; they are
// only reached under the heap's lock.
unsafe impl Send for Pools {}

/// The class of `layout`, if small enough to be kept.
fn class_of(layout: Layout) -> Option<usize> {
    let fits = layout.size() <= CLASS_LIMIT && layout.align() <= CLASS_STEP;
    fits.then(|| layout.size().max(1).div_ceil(CLASS_STEP) - 1)
}

/// The layout every block of `class` has in the heap.
fn class_layout(class: usize) -> Layout {
    Layout::from_size_align((class + 1) * CLASS_STEP, CLASS_STEP).expect("a valid class")
}

impl Pools {
    /// A block for `layout`: a kept one of its class, or the heap's.
    fn allocate(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let Some(class) = class_of(layout) else {
            return self.take_from_heap(layout);
        };
        if let Some(block) = self.free[class] {
            // SAFETY: a kept block is at least CLASS_STEP bytes, aligned,
            // and its first word was written by `keep`.
            let next = unsafe { block.cast::<usize>().as_ptr().read() };
            self.free[class] = NonNull::new(next as *mut u8);
            return Some(block);
        }
        self.take_from_heap(class_layout(class))
    }

    /// A block from the heap; when it has none, every kept block is
    /// given back first and the heap asked again.
    fn take_from_heap(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        if let Ok(block) = self.heap.allocate_first_fit(layout) {
            return Some(block);
        }
        self.give_back();
        self.heap.allocate_first_fit(layout).ok()
    }

    /// Frees `block` of `layout`: kept on its class's list if small.
    ///
    /// # Safety
    /// `block` came from [`Pools::allocate`] with `layout` and is freed
    /// once.
    unsafe fn free(&mut self, block: NonNull<u8>, layout: Layout) {
        match class_of(layout) {
            Some(class) => {
                let next = self.free[class].map_or(0, |next| next.as_ptr() as usize);
                // SAFETY: the block is the caller's to give up, at least
                // CLASS_STEP bytes and aligned to it (its class layout).
                unsafe { block.cast::<usize>().as_ptr().write(next) };
                self.free[class] = Some(block);
            }
            // SAFETY: forwarded: the heap gave it with `layout`.
            None => unsafe { self.heap.deallocate(block, layout) },
        }
    }

    /// Returns every kept block to the heap.
    fn give_back(&mut self) {
        for class in 0..CLASSES {
            while let Some(block) = self.free[class] {
                // SAFETY: as in `allocate`: the first word is the next.
                let next = unsafe { block.cast::<usize>().as_ptr().read() };
                self.free[class] = NonNull::new(next as *mut u8);
                // SAFETY: kept blocks came from the heap with their class
                // layout and are no one's.
                unsafe { self.heap.deallocate(block, class_layout(class)) };
            }
        }
    }
}

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
        let mut pools = self.heap.lock();
        // SAFETY: the region is usable RAM reported by the loader, outside
        // the image and the loader's structures (the platform removed
        // those), identity-mapped, and given to the heap only once.
        unsafe { pools.heap.init(best.start as *mut u8, size) };
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
            .take_from_heap(layout)
            .ok_or(MemoryError::Exhausted)
    }

    /// Frees a block from [`KernelHeap::allocate`].
    ///
    /// # Safety
    /// `ptr` came from `allocate(size, align)` and was not freed since.
    pub(crate) unsafe fn free(&self, ptr: NonNull<u8>, size: usize, align: usize) {
        let layout = Layout::from_size_align(size, align).expect("validated when allocated");
        // SAFETY: the caller guarantees `ptr` came from this heap with this
        // layout and is freed once.
        unsafe { self.heap.lock().heap.deallocate(ptr, layout) };
    }

    /// Bytes the heap manages in total.
    pub(crate) fn size(&self) -> usize {
        self.heap.lock().heap.size()
    }

    /// Whether `start..end` shares a 2 MiB page with the heap (device
    /// mappings are made in 2 MiB pages, so sharing one would make heap
    /// memory uncached, and identity-mapped heap memory is no device's).
    pub(crate) fn near(&self, start: u64, end: u64) -> bool {
        const PAGE_2M: u64 = 2 << 20;
        let pools = self.heap.lock();
        let bottom = pools.heap.bottom() as u64 & !(PAGE_2M - 1);
        let top = (pools.heap.top() as u64).next_multiple_of(PAGE_2M);
        start < top && bottom < end
    }
}

// SAFETY: `alloc` returns blocks at least as large and as aligned as the
// layout asks (a kept block of its class, or the heap's) or null, and
// `dealloc` takes back exactly such blocks; the heap's lock makes both
// exclusive.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.heap
            .lock()
            .allocate(layout)
            .map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let ptr = NonNull::new(ptr).expect("dealloc of a null pointer");
        // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` with
        // `layout` and is freed once.
        unsafe { self.heap.lock().free(ptr, layout) };
    }
}
