//! Address windows from which unassigned BARs get addresses (pure).
//!
//! A window hands out naturally aligned blocks upward from its start
//! (alignment = size, at least `minimum_alignment`). Addresses firmware
//! already gave out are [`reserve`](Window::reserve)d first, and new blocks
//! skip over them (SeaBIOS, for one, fills memory windows from the top).
//! Past `RESERVATIONS` reservations the cursor simply moves beyond each
//! further one: still no overlap, only less space. [`bridge_register`]
//! encodes such a range for the windows of a PCI-to-PCI bridge.

/// How many firmware blocks a window remembers individually.
const RESERVATIONS: usize = 32;

/// A range `[next, end)` of addresses, minus reserved blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    next: u64,
    end: u64,
    minimum_alignment: u64,
    reserved: [(u64, u64); RESERVATIONS],
    reserved_count: usize,
}

impl Window {
    /// A window over `[start, end)`; blocks are aligned to at least
    /// `minimum_alignment` (a power of two; 4 KiB keeps memory BARs on
    /// separate pages).
    pub const fn new(start: u64, end: u64, minimum_alignment: u64) -> Self {
        Self {
            next: start,
            end,
            minimum_alignment,
            reserved: [(0, 0); RESERVATIONS],
            reserved_count: 0,
        }
    }

    /// The first address not yet handed out.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Takes a block of `size` bytes (a power of two) aligned to its size;
    /// `None` if it does not fit.
    pub fn allocate(&mut self, size: u64) -> Option<u64> {
        if size == 0 || !size.is_power_of_two() {
            return None;
        }
        let alignment = size.max(self.minimum_alignment);
        let mut start = align_up(self.next, alignment)?;
        // Each pass either succeeds or moves past one reservation.
        for _ in 0..=self.reserved_count {
            let end = start.checked_add(size)?;
            if end > self.end {
                return None;
            }
            match self.overlap(start, end) {
                None => {
                    self.next = end;
                    return Some(start);
                }
                Some(reserved_end) => start = align_up(reserved_end, alignment)?,
            }
        }
        None
    }

    /// The end of a reservation overlapping `[start, end)`, if any.
    fn overlap(&self, start: u64, end: u64) -> Option<u64> {
        self.reserved[..self.reserved_count]
            .iter()
            .filter(|&&(low, high)| low < end && start < high)
            .map(|&(_, high)| high)
            .max()
    }

    /// Marks `[address, address + size)` as taken by firmware.
    pub fn reserve(&mut self, address: u64, size: u64) {
        let end = address.saturating_add(size);
        if address >= self.end || end <= self.next {
            return;
        }
        if self.reserved_count < RESERVATIONS {
            self.reserved[self.reserved_count] = (address, end);
            self.reserved_count += 1;
        } else {
            self.next = end.min(self.end);
        }
    }

    /// Moves the cursor up to a multiple of `alignment` (a power of two),
    /// e.g. the 1 MiB granularity of a bridge's memory window.
    pub fn align(&mut self, alignment: u64) {
        self.next = align_up(self.next, alignment)
            .unwrap_or(self.end)
            .min(self.end);
    }
}

/// How a bridge's base/limit register encodes one window: the base field
/// (address bits from `shift` up, in the bits of `mask`) and the limit
/// field, the same `shift` bits higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeField {
    shift: u32,
    mask: u32,
}

/// The memory base/limit register (1 MiB granules, bits 31:20).
pub const MEMORY_FIELD: BridgeField = BridgeField {
    shift: 16,
    mask: 0xfff0,
};
/// The I/O base/limit register's low half (4 KiB granules, bits 15:12).
pub const IO_FIELD: BridgeField = BridgeField {
    shift: 8,
    mask: 0xf0,
};

/// The register value that opens a bridge window on `[start, end)`
/// (granule-aligned), or closes it (base above limit) when empty.
pub fn bridge_register(start: u64, end: u64, field: BridgeField) -> u32 {
    if end <= start {
        return field.mask;
    }
    let base = (start >> field.shift) as u32 & field.mask;
    let limit = ((end - 1) >> field.shift) as u32 & field.mask;
    limit << field.shift | base
}

fn align_up(value: u64, alignment: u64) -> Option<u64> {
    Some(value.checked_add(alignment - 1)? & !(alignment - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_to_their_size_and_do_not_overlap() {
        let mut window = Window::new(0xe000_0000, 0xfec0_0000, 4096);
        assert_eq!(window.allocate(0x1000), Some(0xe000_0000));
        assert_eq!(window.allocate(0x4000), Some(0xe000_4000));
        assert_eq!(window.allocate(0x100), Some(0xe000_8000));
        assert_eq!(window.allocate(0x10_0000), Some(0xe010_0000));
        assert_eq!(window.next(), 0xe020_0000);
    }

    #[test]
    fn io_window_uses_small_alignment() {
        let mut window = Window::new(0xc000, 0x1_0000, 4);
        assert_eq!(window.allocate(0x20), Some(0xc000));
        assert_eq!(window.allocate(0x4), Some(0xc020));
        assert_eq!(window.allocate(0x40), Some(0xc040));
    }

    #[test]
    fn refuses_what_does_not_fit_or_is_not_a_power_of_two() {
        let mut window = Window::new(0xc000, 0x1_0000, 4);
        assert_eq!(window.allocate(0x1_0000), None);
        assert_eq!(window.allocate(0x30), None);
        assert_eq!(window.allocate(0), None);
        assert_eq!(window.allocate(0x4000), Some(0xc000));
        assert_eq!(window.allocate(0x4), None);
        let mut top = Window::new(u64::MAX - 0xff, u64::MAX, 1);
        assert_eq!(top.allocate(0x1000), None);
    }

    #[test]
    fn reserved_ranges_are_skipped() {
        let mut window = Window::new(0xc000, 0x1_0000, 4);
        window.reserve(0xc000, 0x40);
        window.reserve(0x1000, 0x40);
        assert_eq!(window.allocate(0x20), Some(0xc040));
        window.reserve(0xc060, 0x100);
        assert_eq!(window.allocate(0x4), Some(0xc160));
        window.reserve(0xc080, 0x10);
        assert_eq!(window.allocate(0x4), Some(0xc164));
    }

    #[test]
    fn firmware_blocks_at_the_top_leave_the_bottom_free() {
        let mut window = Window::new(0xe000_0000, 0xfec0_0000, 4096);
        window.reserve(0xfeb0_0000, 0x1000);
        window.reserve(0xfe00_0000, 0x80_0000);
        window.reserve(0xe000_0000, 0x1000);
        assert_eq!(window.allocate(0x4000), Some(0xe000_4000));
        assert_eq!(window.allocate(0x1000), Some(0xe000_8000));
        let mut small = Window::new(0xfe00_0000, 0xfec0_0000, 4096);
        small.reserve(0xfe00_0000, 0x80_0000);
        assert_eq!(small.allocate(0x80_0000), None);
        assert_eq!(small.allocate(0x1000), Some(0xfe80_0000));
    }

    #[test]
    fn many_reservations_still_never_overlap() {
        let mut window = Window::new(0, 0x10_0000, 16);
        for block in 0..40u64 {
            window.reserve(block * 0x100, 0x10);
        }
        // 32 are remembered; the last 8 push the cursor past themselves.
        assert_eq!(window.allocate(0x10), Some(39 * 0x100 + 0x10));
    }

    #[test]
    fn bridge_registers_encode_base_and_limit_or_close() {
        let memory = bridge_register(0xe010_0000, 0xe030_0000, MEMORY_FIELD);
        assert_eq!(memory, 0xe020_e010, "limit 0xe02, base 0xe01");
        assert_eq!(bridge_register(0xc000, 0xe000, IO_FIELD), 0xd0c0);
        assert_eq!(
            bridge_register(0xe010_0000, 0xe010_0000, MEMORY_FIELD),
            0xfff0
        );
        assert_eq!(bridge_register(0xd000, 0xc000, IO_FIELD), 0xf0);
    }

    #[test]
    fn align_moves_to_the_next_boundary() {
        let mut window = Window::new(0xe000_1000, 0xfec0_0000, 4096);
        window.align(1 << 20);
        assert_eq!(window.next(), 0xe010_0000);
        window.align(1 << 20);
        assert_eq!(window.next(), 0xe010_0000);
    }
}
