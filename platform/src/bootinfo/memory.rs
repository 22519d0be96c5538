//! Physical memory regions and a fixed-capacity list of them.
//!
//! Boot runs before any allocator exists, so the list lives in a fixed
//! array ([`MAXIMUM_REGIONS`]). Regions that do not fit are counted in
//! [`RegionList::dropped`] rather than lost silently.

use core::fmt;
use core::ops::Deref;

/// How many regions a [`RegionList`] holds.
pub const MAXIMUM_REGIONS: usize = 64;

/// The page size the usable regions are aligned to.
pub const PAGE_SIZE: u64 = 4096;

/// The physical range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryRegion {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl MemoryRegion {
    /// The range `[start, end)`.
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    /// The range of `length` bytes at `start`, clamped at the top of the
    /// address space.
    pub const fn with_length(start: u64, length: u64) -> Self {
        Self {
            start,
            end: start.saturating_add(length),
        }
    }

    /// Its size in bytes (zero when `end <= start`).
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether it holds no byte.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether `address` lies inside.
    pub const fn contains(&self, address: u64) -> bool {
        self.start <= address && address < self.end
    }

    /// Whether `[address, address + length)` lies entirely inside.
    pub const fn contains_range(&self, address: u64, length: u64) -> bool {
        match address.checked_add(length) {
            Some(end) => self.start <= address && end <= self.end,
            None => false,
        }
    }

    /// The smallest page-aligned region covering this one.
    pub const fn pages_covering(&self) -> Self {
        Self {
            start: self.start & !(PAGE_SIZE - 1),
            end: self.end.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1),
        }
    }

    /// The largest page-aligned region inside this one (maybe empty).
    pub const fn pages_inside(&self) -> Self {
        Self {
            start: self.start.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1),
            end: self.end & !(PAGE_SIZE - 1),
        }
    }
}

impl fmt::Display for MemoryRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:#x}, {:#x})", self.start, self.end)
    }
}

/// Up to [`MAXIMUM_REGIONS`] regions; derefs to the slice of those held.
#[derive(Clone, Copy)]
pub struct RegionList {
    regions: [MemoryRegion; MAXIMUM_REGIONS],
    length: usize,
    dropped: usize,
}

impl RegionList {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            regions: [MemoryRegion::new(0, 0); MAXIMUM_REGIONS],
            length: 0,
            dropped: 0,
        }
    }

    /// How many regions did not fit and were left out.
    pub const fn dropped(&self) -> usize {
        self.dropped
    }

    /// The total size of the regions in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.iter().map(MemoryRegion::len).sum()
    }

    /// Appends `region` unless it is empty; counts it as dropped when full.
    pub fn push(&mut self, region: MemoryRegion) {
        if region.is_empty() {
            return;
        }
        match self.regions.get_mut(self.length) {
            Some(slot) => {
                *slot = region;
                self.length += 1;
            }
            None => self.dropped += 1,
        }
    }

    /// Sorts by start address and merges overlapping or touching regions.
    pub fn normalize(&mut self) {
        self.regions[..self.length].sort_unstable_by_key(|region| region.start);
        let mut merged = Self {
            dropped: self.dropped,
            ..Self::new()
        };
        for &region in self.iter() {
            match merged
                .length
                .checked_sub(1)
                .map(|last| &mut merged.regions[last])
            {
                Some(last) if region.start <= last.end => last.end = last.end.max(region.end),
                _ => merged.push(region),
            }
        }
        *self = merged;
    }

    /// Removes `hole` from every region, splitting regions it cuts in two.
    pub fn remove(&mut self, hole: MemoryRegion) {
        if hole.is_empty() {
            return;
        }
        let old = *self;
        *self = Self {
            dropped: old.dropped,
            ..Self::new()
        };
        for &region in old.iter() {
            self.push(MemoryRegion::new(region.start, region.end.min(hole.start)));
            self.push(MemoryRegion::new(region.start.max(hole.end), region.end));
        }
    }

    /// Keeps only `[low, high)`; returns the bytes removed at or above `high`.
    pub fn clip(&mut self, low: u64, high: u64) -> u64 {
        let above: u64 = self
            .iter()
            .map(|region| MemoryRegion::new(region.start.max(high), region.end).len())
            .sum();
        self.remove(MemoryRegion::new(0, low));
        self.remove(MemoryRegion::new(high, u64::MAX));
        above
    }

    /// Shrinks every region to whole pages, dropping those left empty.
    pub fn align_to_pages(&mut self) {
        let old = *self;
        *self = Self {
            dropped: old.dropped,
            ..Self::new()
        };
        for region in old.iter() {
            self.push(region.pages_inside());
        }
    }
}

impl Default for RegionList {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for RegionList {
    type Target = [MemoryRegion];

    fn deref(&self) -> &[MemoryRegion] {
        &self.regions[..self.length]
    }
}

impl fmt::Debug for RegionList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(regions: &[(u64, u64)]) -> RegionList {
        let mut list = RegionList::new();
        for &(start, end) in regions {
            list.push(MemoryRegion::new(start, end));
        }
        list
    }

    fn pairs(list: &RegionList) -> std::vec::Vec<(u64, u64)> {
        list.iter()
            .map(|region| (region.start, region.end))
            .collect()
    }

    #[test]
    fn normalize_sorts_and_merges_overlaps() {
        let mut regions = list(&[
            (0x5000, 0x6000),
            (0x1000, 0x3000),
            (0x2000, 0x4000),
            (0x4000, 0x4800),
        ]);
        regions.normalize();
        assert_eq!(pairs(&regions), [(0x1000, 0x4800), (0x5000, 0x6000)]);
    }

    #[test]
    fn remove_splits_and_trims() {
        let mut regions = list(&[(0x1000, 0x9000), (0xa000, 0xc000)]);
        regions.remove(MemoryRegion::new(0x3000, 0x4000));
        regions.remove(MemoryRegion::new(0xb000, 0xd000));
        assert_eq!(
            pairs(&regions),
            [(0x1000, 0x3000), (0x4000, 0x9000), (0xa000, 0xb000)]
        );
        regions.remove(MemoryRegion::new(0, 0x10000));
        assert!(regions.is_empty());
    }

    #[test]
    fn clip_reports_the_bytes_above_the_limit() {
        let mut regions = list(&[(0, 0x9f000), (0x10_0000, 0x2_0000_0000)]);
        let above = regions.clip(0x10_0000, 0x1_0000_0000);
        assert_eq!(above, 0x1_0000_0000);
        assert_eq!(pairs(&regions), [(0x10_0000, 0x1_0000_0000)]);
    }

    #[test]
    fn a_full_list_counts_what_it_drops() {
        let mut regions = RegionList::new();
        for index in 0..MAXIMUM_REGIONS as u64 + 3 {
            regions.push(MemoryRegion::new(index * 0x2000, index * 0x2000 + 0x1000));
        }
        assert_eq!(regions.len(), MAXIMUM_REGIONS);
        assert_eq!(regions.dropped(), 3);
        regions.remove(MemoryRegion::new(0x800, 0x900));
        assert_eq!(
            regions.dropped(),
            4,
            "the split of the first region overflows"
        );
    }

    #[test]
    fn page_alignment_shrinks_inward_and_covers_outward() {
        let region = MemoryRegion::new(0x1001, 0x3fff);
        assert_eq!(region.pages_inside(), MemoryRegion::new(0x2000, 0x3000));
        assert_eq!(region.pages_covering(), MemoryRegion::new(0x1000, 0x4000));
        let mut regions = list(&[(0x1001, 0x1fff), (0x1001, 0x3001)]);
        regions.align_to_pages();
        assert_eq!(pairs(&regions), [(0x2000, 0x3000)]);
    }

    #[test]
    fn ranges_near_the_top_do_not_overflow() {
        let region = MemoryRegion::with_length(u64::MAX - 4, 100);
        assert_eq!(region.end, u64::MAX);
        assert!(!region.contains_range(u64::MAX - 2, 10));
        assert!(region.contains_range(u64::MAX - 4, 4));
    }
}
