//! Backtraces by walking the frame-pointer chain, symbolized in the guest.
//!
//! Images build with `-C force-frame-pointers=yes`, so every Rust frame
//! starts with `push rbp; mov rbp, rsp`: at `rbp` lies the caller's `rbp`,
//! at `rbp + 8` the return address. The entry code clears `rbp` before the
//! first call, which ends the chain. [`FrameWalker`] never trusts a frame
//! pointer: each must be 8-aligned, strictly above the previous one and
//! readable according to the caller's `read` function; the walk stops after
//! [`MAXIMUM_DEPTH`] frames. In the image, `print` reads only the image
//! (minus the boot stack's guard page) and the usable RAM regions, so a
//! corrupt chain never faults.
//!
//! Frames print as `  #<n> 0x<addr> <symbol>+0x<off>` or `<unknown>`.
//! Return addresses are symbolized at `addr - 1`, the call instruction,
//! so that a call ending a function is not attributed to the next one.

use crate::symbols::Table;

/// The most frames a backtrace shows.
pub const MAXIMUM_DEPTH: usize = 32;

/// Iterates over the return addresses of a frame-pointer chain.
#[derive(Debug)]
pub struct FrameWalker<R> {
    frame: u64,
    depth: usize,
    read: R,
}

impl<R: Fn(u64) -> Option<u64>> FrameWalker<R> {
    /// Starts at frame pointer `frame`; `read(address)` returns the 8-byte
    /// word at `address`, or `None` when it must not be read.
    pub fn new(frame: u64, read: R) -> Self {
        Self {
            frame,
            depth: 0,
            read,
        }
    }
}

impl<R: Fn(u64) -> Option<u64>> Iterator for FrameWalker<R> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let frame = self.frame;
        if frame == 0 || !frame.is_multiple_of(8) || self.depth >= MAXIMUM_DEPTH {
            return None;
        }
        self.frame = 0;
        let caller_frame = (self.read)(frame)?;
        let return_address = (self.read)(frame.checked_add(8)?)?;
        if return_address == 0 {
            return None;
        }
        self.depth += 1;
        // Frames lie at increasing addresses up the stack; anything else is
        // corruption or a loop, and ends the walk after this frame.
        if caller_frame > frame {
            self.frame = caller_frame;
        }
        Some(return_address)
    }
}

/// Writes one frame line; `lookup_address` is where to look the symbol up.
pub fn write_frame(
    out: &mut dyn core::fmt::Write,
    index: usize,
    address: u64,
    lookup_address: u64,
    symbols: Option<&Table<'_>>,
) -> core::fmt::Result {
    let symbol = symbols.and_then(|table| table.lookup(lookup_address));
    match symbol {
        Some(symbol) => {
            let offset = address - symbol.address;
            writeln!(
                out,
                "  #{index} {address:#018x} {}+{offset:#x}",
                symbol.name
            )
        }
        None => writeln!(out, "  #{index} {address:#018x} <unknown>"),
    }
}

/// Writes `backtrace:` and the frames: first `first` (an exact instruction
/// address, such as a faulting RIP), then the return addresses of `walker`.
pub fn write(
    out: &mut dyn core::fmt::Write,
    first: Option<u64>,
    walker: impl Iterator<Item = u64>,
    symbols: Option<&Table<'_>>,
) -> core::fmt::Result {
    writeln!(out, "backtrace:")?;
    let mut index = 0;
    if let Some(address) = first {
        write_frame(out, index, address, address, symbols)?;
        index += 1;
    }
    for return_address in walker {
        let call = return_address.saturating_sub(1);
        write_frame(out, index, return_address, call, symbols)?;
        index += 1;
    }
    Ok(())
}

/// The walk over real memory, in the image.
#[cfg(target_os = "none")]
mod image {
    use spin::Once;

    use super::FrameWalker;
    use crate::bootinfo::MemoryRegion;

    /// RAM besides the image where stacks may live (the usable regions).
    static READABLE: Once<&'static [MemoryRegion]> = Once::new();

    /// Allows frames in `regions` (called once the memory map is known;
    /// before, only the image is readable).
    pub fn set_readable_memory(regions: &'static [MemoryRegion]) {
        READABLE.call_once(|| regions);
    }

    /// Whether the 8 bytes at `address` are RAM that is mapped and readable.
    fn readable(address: u64) -> bool {
        let guard = crate::boot::stack_guard();
        if address.saturating_add(8) > guard.start && address < guard.end {
            return false;
        }
        let image = MemoryRegion::new(crate::boot::image_start(), crate::boot::image_end());
        image.contains_range(address, 8)
            || READABLE.get().is_some_and(|regions| {
                regions
                    .iter()
                    .any(|region| region.contains_range(address, 8))
            })
    }

    /// The word at `address` if [`readable`].
    fn read_word(address: u64) -> Option<u64> {
        if !readable(address) || !address.is_multiple_of(8) {
            return None;
        }
        // SAFETY: `address` is 8-aligned and inside the image or a usable
        // RAM region, all of which the boot page tables map (the guard page
        // is excluded above); reading RAM has no side effect.
        Some(unsafe { core::ptr::read_volatile(address as *const u64) })
    }

    /// The current frame pointer (`rbp`).
    #[inline(always)]
    pub fn current_frame_pointer() -> u64 {
        let frame: u64;
        // SAFETY: copies rbp into a register; no memory access, no flags.
        unsafe {
            core::arch::asm!("mov {}, rbp", out(reg) frame, options(nomem, nostack, preserves_flags))
        };
        frame
    }

    /// Prints `backtrace:` and the frames from `first` (an exact
    /// instruction address, if any) and the chain at `frame_pointer`.
    pub fn print(first: Option<u64>, frame_pointer: u64) {
        let symbols = crate::symbols::embedded();
        let walker = FrameWalker::new(frame_pointer, read_word);
        let _ = super::write(&mut crate::console::Writer, first, walker, symbols.as_ref());
    }
}

#[cfg(target_os = "none")]
pub use image::{current_frame_pointer, print, set_readable_memory};

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::string::String;
    use std::vec::Vec;

    /// A fake stack: frame pointer -> (caller frame, return address).
    fn stack(frames: &[(u64, u64, u64)]) -> BTreeMap<u64, u64> {
        let mut words = BTreeMap::new();
        for &(frame, caller, return_address) in frames {
            words.insert(frame, caller);
            words.insert(frame + 8, return_address);
        }
        words
    }

    fn walk(words: &BTreeMap<u64, u64>, start: u64) -> Vec<u64> {
        FrameWalker::new(start, |address| words.get(&address).copied()).collect()
    }

    #[test]
    fn follows_a_chain_to_its_zero_end() {
        let words = stack(&[
            (0x1000, 0x1040, 0xa1),
            (0x1040, 0x10a0, 0xa2),
            (0x10a0, 0, 0xa3),
        ]);
        assert_eq!(walk(&words, 0x1000), [0xa1, 0xa2, 0xa3]);
    }

    #[test]
    fn stops_at_loops_and_decreasing_frames() {
        let words = stack(&[(0x1000, 0x1040, 0xa1), (0x1040, 0x1000, 0xa2)]);
        assert_eq!(walk(&words, 0x1000), [0xa1, 0xa2]);
        let words = stack(&[(0x1000, 0x1000, 0xa1)]);
        assert_eq!(walk(&words, 0x1000), [0xa1]);
    }

    #[test]
    fn stops_at_misaligned_or_unreadable_frames() {
        let words = stack(&[(0x1000, 0x1043, 0xa1), (0x1043, 0, 0xa2)]);
        assert_eq!(walk(&words, 0x1000), [0xa1]);
        let words = stack(&[(0x1000, 0x9000, 0xa1)]);
        assert_eq!(walk(&words, 0x1000), [0xa1]);
        assert_eq!(walk(&words, 0), []);
        assert_eq!(walk(&words, !7), []);
    }

    #[test]
    fn stops_at_the_maximum_depth() {
        let frames: Vec<_> = (0..100u64)
            .map(|n| (0x1000 + n * 16, 0x1010 + n * 16, n + 1))
            .collect();
        assert_eq!(walk(&stack(&frames), 0x1000).len(), MAXIMUM_DEPTH);
    }

    #[test]
    fn prints_symbolized_frames() {
        let mut table = Vec::new();
        table.extend_from_slice(&crate::symbols::MAGIC.to_le_bytes());
        table.extend_from_slice(&crate::symbols::VERSION.to_le_bytes());
        table.extend_from_slice(&crate::symbols::ENTRY_SIZE.to_le_bytes());
        for word in [1u32, 40, 5, 45] {
            table.extend_from_slice(&word.to_le_bytes());
        }
        table.extend_from_slice(&0x2000u64.to_le_bytes());
        table.extend_from_slice(&0x100u32.to_le_bytes());
        table.extend_from_slice(&0u32.to_le_bytes());
        table.extend_from_slice(b"main\0");
        let table = Table::parse(&table).unwrap();
        let mut out = String::new();
        write(
            &mut out,
            Some(0x2010),
            [0x2100u64, 0x3000].into_iter(),
            Some(&table),
        )
        .unwrap();
        let expected = "backtrace:\n  #0 0x0000000000002010 main+0x10\n  \
                        #1 0x0000000000002100 main+0x100\n  #2 0x0000000000003000 <unknown>\n";
        assert_eq!(out, expected);
        let mut out = String::new();
        write(&mut out, None, [0u64].into_iter(), Some(&table)).unwrap();
        assert_eq!(out, "backtrace:\n  #0 0x0000000000000000 <unknown>\n");
    }
}
