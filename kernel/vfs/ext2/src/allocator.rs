//! Block and inode allocation over the groups' bitmaps.
//!
//! The bitmaps in use are kept in memory ([`CACHED_BITMAPS`] of them)
//! and written back when one leaves that cache and at sync, with the
//! group descriptors' free counts (the superblock's are their sum), so
//! an allocation costs no block write. A bitmap bit
//! that claims a group's own metadata is free is a damaged bitmap: such
//! a block is never handed out. A free that finds its bit already clear is
//! reported as corruption rather than counted twice.

use alloc::vec::Vec;

use crate::device::BlockDevice;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::inode::InodeNumber;

/// Bitmap blocks kept in memory (block and inode bitmaps of two groups).
const CACHED_BITMAPS: usize = 4;

/// A bitmap block held by the allocator.
#[derive(Debug)]
pub(crate) struct CachedBitmap {
    block: u64,
    bytes: Vec<u8>,
    /// Changed since it was last written.
    dirty: bool,
}

/// The first clear bit of `bitmap` in `start..end`.
fn first_clear(bitmap: &[u8], start: usize, end: usize) -> Option<usize> {
    let mut bit = start;
    while bit < end {
        let byte = bitmap[bit / 8];
        if byte == 0xFF && bit.is_multiple_of(8) {
            bit += 8;
            continue;
        }
        if byte & (1 << (bit % 8)) == 0 {
            return Some(bit);
        }
        bit += 1;
    }
    None
}

impl<D: BlockDevice> Fs<D> {
    /// The bitmap in block `block`, read through the small cache (the
    /// oldest one written back if it must make room).
    fn bitmap(&mut self, block: u64) -> Result<&mut [u8]> {
        match self.bitmaps.iter().position(|cached| cached.block == block) {
            Some(index) => {
                let entry = self.bitmaps.remove(index);
                self.bitmaps.push(entry);
            }
            None => {
                let mut bytes = self.disk.buffer();
                self.disk.read(block, &mut bytes)?;
                if self.bitmaps.len() == CACHED_BITMAPS {
                    let oldest = &mut self.bitmaps[0];
                    if oldest.dirty {
                        self.disk.write(oldest.block, &oldest.bytes)?;
                    }
                    self.bitmaps.remove(0);
                }
                let dirty = false;
                self.bitmaps.push(CachedBitmap {
                    block,
                    bytes,
                    dirty,
                });
            }
        }
        let cached = self.bitmaps.last_mut().expect("just pushed");
        Ok(&mut cached.bytes)
    }

    /// Marks the cached bitmap `block` changed.
    fn write_bitmap(&mut self, block: u64) -> Result<()> {
        let cached = self.bitmaps.iter_mut().find(|cached| cached.block == block);
        cached.expect("a bitmap is cached while it changes").dirty = true;
        Ok(())
    }

    /// Writes every changed bitmap back.
    pub(crate) fn write_bitmaps(&mut self) -> Result<()> {
        for cached in self.bitmaps.iter_mut().filter(|cached| cached.dirty) {
            self.disk.write(cached.block, &cached.bytes)?;
            cached.dirty = false;
        }
        Ok(())
    }

    /// Whether `block` (in `group`) holds the group's own metadata.
    fn is_group_metadata(&self, group: u32, block: u64) -> bool {
        let superblock = &self.superblock;
        let first = superblock.group_first_block(group);
        let descriptor = self.groups.get(group);
        let table = u64::from(descriptor.inode_table.get());
        block < first + superblock.group_header_blocks(group)
            || block == u64::from(descriptor.block_bitmap.get())
            || block == u64::from(descriptor.inode_bitmap.get())
            || (block >= table && block < table + superblock.inode_table_blocks)
    }

    /// Takes a free block in `group` at or after bit `start`, if any.
    fn take_block_in(&mut self, group: u32, start: usize) -> Result<Option<u64>> {
        if self.groups.get(group).free_blocks.get() == 0 {
            return Ok(None);
        }
        let first = self.superblock.group_first_block(group);
        let end = self.superblock.group_block_count(group) as usize;
        let bitmap_block = u64::from(self.groups.get(group).block_bitmap.get());
        let mut from = start;
        loop {
            let bitmap = self.bitmap(bitmap_block)?;
            let Some(bit) = first_clear(bitmap, from, end) else {
                return Ok(None);
            };
            from = bit + 1;
            if self.is_group_metadata(group, first + bit as u64) {
                continue;
            }
            let bitmap = self.bitmap(bitmap_block)?;
            bitmap[bit / 8] |= 1 << (bit % 8);
            self.write_bitmap(bitmap_block)?;
            self.groups.update(group, |d| {
                d.free_blocks.set(d.free_blocks.get().saturating_sub(1))
            });
            return Ok(Some(first + bit as u64));
        }
    }

    /// Allocates a block, as near after `goal` as can be.
    pub(crate) fn allocate_block(&mut self, goal: u64) -> Result<u64> {
        self.writable()?;
        let superblock = &self.superblock;
        let goal = goal.clamp(superblock.first_data_block, superblock.blocks_count - 1);
        let offset = goal - superblock.first_data_block;
        let per_group = u64::from(superblock.blocks_per_group);
        let goal_group = (offset / per_group) as u32;
        let count = superblock.group_count;
        for step in 0..=count {
            let group = (goal_group + step) % count;
            // The goal group first from the goal on, last from its start.
            let start = match step {
                0 => (offset % per_group) as usize,
                _ => 0,
            };
            if let Some(block) = self.take_block_in(group, start)? {
                return Ok(block);
            }
        }
        Err(Error::NoSpace)
    }

    /// Frees `block`, which must be a data block marked in use.
    pub(crate) fn free_block(&mut self, block: u64) -> Result<()> {
        let superblock = &self.superblock;
        if block < superblock.first_data_block || block >= superblock.blocks_count {
            return Err(Error::Corrupt("freeing a block out of range"));
        }
        let offset = block - superblock.first_data_block;
        let per_group = u64::from(superblock.blocks_per_group);
        let group = (offset / per_group) as u32;
        let bit = (offset % per_group) as usize;
        if self.is_group_metadata(group, block) {
            return Err(Error::Corrupt("a file claims group metadata"));
        }
        let bitmap_block = u64::from(self.groups.get(group).block_bitmap.get());
        let bitmap = self.bitmap(bitmap_block)?;
        if bitmap[bit / 8] & (1 << (bit % 8)) == 0 {
            return Err(Error::Corrupt("freeing a free block"));
        }
        bitmap[bit / 8] &= !(1 << (bit % 8));
        self.write_bitmap(bitmap_block)?;
        self.groups.update(group, |d| {
            d.free_blocks.set(d.free_blocks.get().saturating_add(1))
        });
        Ok(())
    }

    /// The group a new inode goes to: a directory to a group with more
    /// free inodes than average and the most free blocks (spreading the
    /// tree); anything else to its parent's group or the next with room.
    fn inode_group_for(&self, parent: InodeNumber, directory: bool) -> Option<u32> {
        let count = self.superblock.group_count;
        let free = |group: u32| self.groups.get(group).free_inodes.get();
        if directory {
            let (_, inodes) = self.groups.free_totals();
            let average = inodes / u64::from(count);
            let roomy = (0..count).filter(|g| free(*g) > 0 && u64::from(free(*g)) >= average);
            let best = roomy.max_by_key(|g| self.groups.get(*g).free_blocks.get());
            if best.is_some() {
                return best;
            }
        }
        let start = self.inode_group(parent) % count;
        (0..count)
            .map(|step| (start + step) % count)
            .find(|g| free(*g) > 0)
    }

    /// Allocates an inode for a child of `parent`.
    pub(crate) fn allocate_inode(
        &mut self,
        parent: InodeNumber,
        directory: bool,
    ) -> Result<InodeNumber> {
        self.writable()?;
        let count = self.superblock.group_count;
        let Some(start) = self.inode_group_for(parent, directory) else {
            return Err(Error::NoSpace);
        };
        for group in (0..count).map(|step| (start + step) % count) {
            if let Some(number) = self.take_inode_in(group, directory)? {
                return Ok(number);
            }
        }
        Err(Error::NoSpace)
    }

    fn take_inode_in(&mut self, group: u32, directory: bool) -> Result<Option<InodeNumber>> {
        if self.groups.get(group).free_inodes.get() == 0 {
            return Ok(None);
        }
        let per_group = self.superblock.inodes_per_group;
        let base = group * per_group;
        // The reserved inodes (below `first_inode`) are never handed out.
        let start = self.superblock.first_inode.saturating_sub(base + 1);
        let bitmap_block = u64::from(self.groups.get(group).inode_bitmap.get());
        let bitmap = self.bitmap(bitmap_block)?;
        let Some(bit) = first_clear(bitmap, start as usize, per_group as usize) else {
            return Ok(None);
        };
        bitmap[bit / 8] |= 1 << (bit % 8);
        self.write_bitmap(bitmap_block)?;
        self.groups.update(group, |d| {
            d.free_inodes.set(d.free_inodes.get().saturating_sub(1));
            if directory {
                d.used_directories
                    .set(d.used_directories.get().saturating_add(1));
            }
        });
        Ok(Some(base + bit as u32 + 1))
    }

    /// Frees inode `number` in its bitmap and its group's counts.
    pub(crate) fn free_inode(&mut self, number: InodeNumber, directory: bool) -> Result<()> {
        let group = self.inode_group(number);
        let bit = ((number - 1) % self.superblock.inodes_per_group) as usize;
        let bitmap_block = u64::from(self.groups.get(group).inode_bitmap.get());
        let bitmap = self.bitmap(bitmap_block)?;
        if bitmap[bit / 8] & (1 << (bit % 8)) == 0 {
            return Err(Error::Corrupt("freeing a free inode"));
        }
        bitmap[bit / 8] &= !(1 << (bit % 8));
        self.write_bitmap(bitmap_block)?;
        self.groups.update(group, |d| {
            d.free_inodes.set(d.free_inodes.get().saturating_add(1));
            if directory {
                d.used_directories
                    .set(d.used_directories.get().saturating_sub(1));
            }
        });
        Ok(())
    }
}
