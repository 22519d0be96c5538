//! Thread stacks: fallible allocation, 16-byte alignment, a bottom canary.
//!
//! A stack is one block from the global allocator. The lowest 16 bytes hold
//! a known pattern; a thread that overflows its stack writes over it before
//! it writes over anything else, and the scheduler checks it at every
//! switch. This is a tripwire, not a guard page: a frame that skips over the
//! canary goes unnoticed.

use alloc::alloc::{Layout, alloc, dealloc};
use core::ptr::NonNull;

/// The stack size used when [`crate::SpawnSpec::stack_size`] is 0.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;
/// The smallest stack handed out; smaller requests are rounded up to it.
pub const MINIMUM_STACK_SIZE: usize = 4 * 1024;
/// Alignment of stacks and of their sizes (the x86_64 ABI's).
const STACK_ALIGN: usize = 16;
/// The pattern at the bottom of every stack ("STACK_CANARY_OK!").
const CANARY: [u64; 2] = [
    u64::from_le_bytes(*b"STACK_CA"),
    u64::from_le_bytes(*b"NARY_OK!"),
];

/// A thread's stack; freed when dropped.
pub(crate) struct Stack {
    /// Lowest address of the block (where the canary lives).
    bottom: NonNull<u64>,
    /// Size in bytes: a multiple of 16, at least [`MINIMUM_STACK_SIZE`].
    size: usize,
}

impl Stack {
    /// Allocates a stack of about `requested` bytes (0: the default) and
    /// writes its canary. `None` when the allocator has no such block or
    /// the size cannot be allocated at all.
    pub(crate) fn allocate(requested: usize) -> Option<Self> {
        let size = rounded_size(requested)?;
        let layout = Layout::from_size_align(size, STACK_ALIGN).ok()?;
        // SAFETY: `layout` has a nonzero size (at least MINIMUM_STACK_SIZE),
        // which is all `alloc` requires; a null result is handled.
        let bottom = NonNull::new(unsafe { alloc(layout) }.cast::<u64>())?;
        for (word, value) in CANARY.iter().enumerate() {
            // SAFETY: the block is at least MINIMUM_STACK_SIZE bytes and
            // 16-byte aligned, so the first two u64 words are in it and
            // aligned; nobody else has its address yet.
            unsafe { bottom.add(word).write_volatile(*value) };
        }
        Some(Self { bottom, size })
    }

    /// The address just past the highest byte: the initial stack pointer.
    /// A multiple of 16.
    pub(crate) fn top(&self) -> *mut u8 {
        // SAFETY: one past the end of the allocated block is in bounds for
        // pointer arithmetic.
        unsafe { self.bottom.as_ptr().cast::<u8>().add(self.size) }
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Whether the canary still holds its pattern.
    pub(crate) fn canary_intact(&self) -> bool {
        CANARY.iter().enumerate().all(|(word, value)| {
            // SAFETY: the first two words of the block are allocated and
            // aligned (see `allocate`); volatile because other contexts'
            // code writes this memory behind the compiler's back.
            unsafe { self.bottom.add(word).read_volatile() == *value }
        })
    }

    /// Overwrites the canary, as an overflow would (tests only).
    #[cfg(test)]
    pub(crate) fn clobber_canary(&self) {
        // SAFETY: the first word is allocated and aligned (see `allocate`).
        unsafe { self.bottom.write_volatile(0) };
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let layout = Layout::from_size_align(self.size, STACK_ALIGN)
            .expect("the layout was valid when the stack was allocated");
        // SAFETY: `bottom` came from `alloc` with this very layout and is
        // freed only here, once; the scheduler drops a stack only when no
        // context runs on it (see `State::dead_stack`).
        unsafe { dealloc(self.bottom.as_ptr().cast(), layout) };
    }
}

/// The size actually allocated for a request: the default for 0, then at
/// least the minimum, rounded up to 16. `None` when that overflows.
fn rounded_size(requested: usize) -> Option<usize> {
    let wanted = if requested == 0 {
        DEFAULT_STACK_SIZE
    } else {
        requested
    };
    wanted
        .max(MINIMUM_STACK_SIZE)
        .checked_next_multiple_of(STACK_ALIGN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_rounded_to_alignment_and_minimum() {
        assert_eq!(rounded_size(0), Some(DEFAULT_STACK_SIZE));
        assert_eq!(rounded_size(1), Some(MINIMUM_STACK_SIZE));
        assert_eq!(rounded_size(8193), Some(8208));
        assert_eq!(rounded_size(usize::MAX), None);
    }

    #[test]
    fn a_new_stack_is_aligned_and_has_its_canary() {
        let stack = Stack::allocate(10_000).expect("10 kB are available");
        assert_eq!(stack.top().addr() % STACK_ALIGN, 0);
        assert_eq!(stack.size(), 10_000usize.next_multiple_of(16));
        assert!(stack.canary_intact());
        stack.clobber_canary();
        assert!(!stack.canary_intact());
    }

    #[test]
    fn impossible_sizes_fail_instead_of_aborting() {
        assert!(Stack::allocate(usize::MAX).is_none());
        assert!(Stack::allocate(isize::MAX as usize - 15).is_none());
        assert!(Stack::allocate(1 << 62).is_none());
    }
}
