//! The block group descriptor table: loaded and checked on mount, kept in
//! memory, and written back block by block when it changed.
//!
//! Each group's bitmaps and inode table must lie inside the group, after
//! its superblock copy and descriptor table (no `flex_bg`, which is an
//! incompatible feature we refuse), so that allocating a block can never
//! hand out metadata of another group.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use zerocopy::{FromBytes, IntoBytes};

use crate::device::{BlockDevice, Disk};
use crate::error::{Error, Result};
use crate::layout::{GROUP_DESCRIPTOR_SIZE, RawGroupDescriptor};
use crate::superblock::Superblock;

/// The descriptor table, with the blocks of it that changed.
#[derive(Debug)]
pub(crate) struct Groups {
    /// The table as on disk, padding after the last descriptor included.
    table: Vec<u8>,
    descriptors: Vec<RawGroupDescriptor>,
    /// Indexes (from the table's start) of the blocks that changed.
    dirty_blocks: BTreeSet<u64>,
    block_size: usize,
    /// The table's first block.
    first_block: u64,
}

impl Groups {
    /// Reads the table after the superblock and checks every descriptor.
    pub fn load<D: BlockDevice>(disk: &Disk<D>, superblock: &Superblock) -> Result<Self> {
        let block_size = disk.block_size;
        let mut table = alloc::vec![0; superblock.table_blocks as usize * block_size];
        let first = superblock.first_data_block + 1;
        for (index, chunk) in table.chunks_mut(block_size).enumerate() {
            disk.read(first + index as u64, chunk)?;
        }
        let mut descriptors = Vec::with_capacity(superblock.group_count as usize);
        for group in 0..superblock.group_count {
            let at = group as usize * GROUP_DESCRIPTOR_SIZE;
            let bytes = &table[at..at + GROUP_DESCRIPTOR_SIZE];
            let descriptor = RawGroupDescriptor::read_from_bytes(bytes)
                .map_err(|_| Error::Corrupt("short group descriptor"))?;
            check(superblock, group, &descriptor)?;
            descriptors.push(descriptor);
        }
        Ok(Self {
            table,
            descriptors,
            dirty_blocks: BTreeSet::new(),
            block_size,
            first_block: first,
        })
    }

    /// The descriptor of `group` (which the caller checked is in range).
    pub fn get(&self, group: u32) -> &RawGroupDescriptor {
        &self.descriptors[group as usize]
    }

    /// Changes the descriptor of `group` through `change`.
    pub fn update(&mut self, group: u32, change: impl FnOnce(&mut RawGroupDescriptor)) {
        let descriptor = &mut self.descriptors[group as usize];
        change(descriptor);
        let at = group as usize * GROUP_DESCRIPTOR_SIZE;
        self.table[at..at + GROUP_DESCRIPTOR_SIZE].copy_from_slice(descriptor.as_bytes());
        self.dirty_blocks.insert((at / self.block_size) as u64);
    }

    /// Writes the blocks of the table that changed since the last call.
    pub fn write_dirty<D: BlockDevice>(&mut self, disk: &Disk<D>) -> Result<()> {
        let first = self.first_block;
        let size = self.block_size;
        while let Some(block) = self.dirty_blocks.pop_first() {
            let at = block as usize * size;
            disk.write(first + block, &self.table[at..at + size])?;
        }
        Ok(())
    }

    /// Whether a descriptor changed since the last write.
    pub fn has_dirty(&self) -> bool {
        !self.dirty_blocks.is_empty()
    }

    /// Free blocks and free inodes over all groups.
    pub fn free_totals(&self) -> (u64, u64) {
        let blocks = self
            .descriptors
            .iter()
            .map(|d| u64::from(d.free_blocks.get()));
        let inodes = self
            .descriptors
            .iter()
            .map(|d| u64::from(d.free_inodes.get()));
        (blocks.sum(), inodes.sum())
    }
}

/// Checks that `group`'s bitmaps and inode table lie inside the group,
/// after its header, and do not overlap.
fn check(superblock: &Superblock, group: u32, descriptor: &RawGroupDescriptor) -> Result<()> {
    let first = superblock.group_first_block(group) + superblock.group_header_blocks(group);
    let end = superblock.group_first_block(group) + superblock.group_block_count(group);
    let inside = |block: u64, length: u64| block >= first && block + length <= end;
    let block_bitmap = u64::from(descriptor.block_bitmap.get());
    let inode_bitmap = u64::from(descriptor.inode_bitmap.get());
    let table = u64::from(descriptor.inode_table.get());
    let table_length = superblock.inode_table_blocks;
    if !inside(block_bitmap, 1) || !inside(inode_bitmap, 1) || !inside(table, table_length) {
        return Err(Error::Corrupt("group metadata outside its group"));
    }
    let in_table = |block: u64| block >= table && block < table + table_length;
    if block_bitmap == inode_bitmap || in_table(block_bitmap) || in_table(inode_bitmap) {
        return Err(Error::Corrupt("group metadata overlaps"));
    }
    Ok(())
}
