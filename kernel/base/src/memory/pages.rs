//! A run of pages owned by the kernel, returned to the host on drop.

#![allow(
    unsafe_code,
    reason = "pages are slices of a block the host handed out (contract: hypercall::Memory)"
)]

use core::ptr::NonNull;

use hypercall::PAGE_SIZE;

use super::Account;

/// Zeroed, page-aligned memory counted against the kernel's limit, charged
/// to an account.
pub struct Pages {
    account: Account,
    start: NonNull<u8>,
    count: usize,
}

// SAFETY: `Pages` owns its block exclusively (like a `Box<[u8]>`); moving
// it to another thread moves that ownership.
unsafe impl Send for Pages {}
// SAFETY: shared references only allow reads of initialised bytes.
unsafe impl Sync for Pages {}

impl Pages {
    /// Takes ownership of `count` pages at `start` and zeroes them.
    ///
    /// # Safety
    /// `start` is what the host of `account`'s memory returned from
    /// `memory_allocate(count * PAGE_SIZE, PAGE_SIZE)`, not freed since
    /// and owned by no one else; `count * PAGE_SIZE` bytes are charged to
    /// `account`.
    pub(super) unsafe fn new(account: Account, start: NonNull<u8>, count: usize) -> Self {
        // SAFETY: by the caller's promise and the `hypercall::Memory`
        // contract, `count * PAGE_SIZE` writable bytes at `start` are ours.
        unsafe { start.write_bytes(0, count * PAGE_SIZE) };
        Self {
            account,
            start,
            count,
        }
    }

    /// The number of pages.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.count * PAGE_SIZE
    }

    /// Always false: a run has at least one page.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The first byte.
    pub fn as_ptr(&self) -> NonNull<u8> {
        self.start
    }

    /// The pages as bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the block is `len()` initialised bytes owned by `self`.
        unsafe { core::slice::from_raw_parts(self.start.as_ptr(), self.len()) }
    }

    /// The pages as mutable bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes this unique.
        unsafe { core::slice::from_raw_parts_mut(self.start.as_ptr(), self.len()) }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        let bytes = self.len();
        // SAFETY: `start` came from `memory_allocate(bytes, PAGE_SIZE)` in
        // `Memory::alloc_pages_for` and is freed exactly once, here.
        unsafe {
            self.account
                .memory()
                .hypercalls()
                .memory_free(self.start, bytes, PAGE_SIZE)
        };
        self.account.release(bytes);
    }
}

impl core::fmt::Debug for Pages {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pages")
            .field("start", &self.start)
            .field("count", &self.count)
            .finish()
    }
}
