//! Growing and cutting a file's block tree: allocation of data blocks
//! with the indirect blocks they need, and freeing from a logical block on.
//!
//! Growing allocates every block a logical block needs before linking
//! any, and frees them again if one allocation fails, so `ENOSPC` leaves
//! the tree as it was. Changed indirect blocks stay in the walk's
//! [`BlockMap`] until it moves on or is flushed (the caller's
//! `flush_map`). Cutting frees leaves first and an indirect block only once
//! all its pointers are zero; the depth is at most three, and a block
//! freed twice (a damaged tree) stops the walk with an error.

use alloc::vec::Vec;

use crate::blockmap::{BlockMap, DIRECT, Indirect, path};
use crate::device::BlockDevice;
use crate::error::Result;
use crate::fs::Fs;
use crate::inode::Inode;

impl<D: BlockDevice> Fs<D> {
    /// The device block of `logical`, allocating it (and any indirect
    /// blocks on its path) near `goal` if it is a hole. `true` with a new
    /// data block, whose contents the caller must write in full. The
    /// caller ends its walk with [`Fs::flush_map`].
    pub(crate) fn map_or_allocate(
        &mut self,
        inode: &mut Inode,
        map: &mut BlockMap,
        logical: u64,
        goal: u64,
    ) -> Result<(u64, bool)> {
        let path = path(logical, self.pointers_per_block())?;
        let mut block = self.checked_pointer(inode.fields.block[path.slot].get())?;
        let mut present = 0;
        while present < path.depth && block != 0 {
            self.load_indirect(map, present, block)?;
            let indirect = map.levels[present].as_ref().expect("just loaded");
            block = self.checked_pointer(indirect.pointers[path.indexes[present]])?;
            present += 1;
        }
        if block != 0 {
            return Ok((block, false));
        }
        let missing = (path.depth - present + 1) as u64;
        let mut counted = inode.clone();
        self.add_sectors(&mut counted, missing)?;
        let fresh = self.allocate_run(goal, missing)?;
        // Link from the bottom up: each new indirect block points to the next.
        for (offset, level) in (present..path.depth).enumerate() {
            let mut pointers = alloc::vec![0u32; self.pointers_per_block() as usize];
            pointers[path.indexes[level]] = fresh[offset + 1] as u32;
            let block = fresh[offset];
            let dirty = true;
            self.replace_level(
                map,
                level,
                Indirect {
                    block,
                    pointers,
                    dirty,
                },
            )?;
        }
        if present == 0 {
            inode.fields.block[path.slot].set(fresh[0] as u32);
        } else {
            let parent = map.levels[present - 1].as_mut().expect("a loaded level");
            parent.pointers[path.indexes[present - 1]] = fresh[0] as u32;
            parent.dirty = true;
        }
        inode.fields.blocks = counted.fields.blocks;
        Ok((*fresh.last().expect("at least the data block"), true))
    }

    /// Allocates `count` blocks from `goal` on, all or none.
    fn allocate_run(&mut self, goal: u64, count: u64) -> Result<Vec<u64>> {
        let mut blocks = Vec::with_capacity(count as usize);
        for index in 0..count {
            match self.allocate_block(goal + index) {
                Ok(block) => blocks.push(block),
                Err(error) => {
                    for block in blocks {
                        self.free_block(block)?;
                    }
                    return Err(error);
                }
            }
        }
        Ok(blocks)
    }

    /// Frees every block of `inode` from logical block `first` on, with
    /// the indirect blocks left empty.
    pub(crate) fn free_blocks_from(&mut self, inode: &mut Inode, first: u64) -> Result<()> {
        for slot in first.min(DIRECT)..DIRECT {
            let block = self.checked_pointer(inode.fields.block[slot as usize].get())?;
            if block != 0 {
                self.free_block(block)?;
                self.remove_sectors(inode, 1);
                inode.fields.block[slot as usize].set(0);
            }
        }
        let per = self.pointers_per_block();
        let (mut base, mut span) = (DIRECT, per);
        for depth in 1..=3 {
            let slot = DIRECT as usize + depth - 1;
            let block = self.checked_pointer(inode.fields.block[slot].get())?;
            if block != 0 && first < base + span {
                let start = first.saturating_sub(base);
                if self.free_tree(inode, block, depth, start)? {
                    self.free_block(block)?;
                    self.remove_sectors(inode, 1);
                    inode.fields.block[slot].set(0);
                }
            }
            base += span;
            span *= per;
        }
        Ok(())
    }

    /// Frees the part of the tree under indirect block `block` (of
    /// `depth` levels) from its logical block `start` on; `true` if the
    /// block is now empty.
    fn free_tree(
        &mut self,
        inode: &mut Inode,
        block: u64,
        depth: usize,
        start: u64,
    ) -> Result<bool> {
        let mut map = BlockMap::default();
        self.load_indirect(&mut map, 0, block)?;
        let per = self.pointers_per_block();
        let span = per.pow(depth as u32 - 1);
        let first = (start / span) as usize;
        let mut changed = false;
        for index in first..per as usize {
            let pointers = &map.levels[0].as_ref().expect("loaded").pointers;
            let child = self.checked_pointer(pointers[index])?;
            if child == 0 {
                continue;
            }
            let child_start = if index == first { start % span } else { 0 };
            let empty = depth == 1 || self.free_tree(inode, child, depth - 1, child_start)?;
            if empty {
                self.free_block(child)?;
                self.remove_sectors(inode, 1);
                map.levels[0].as_mut().expect("loaded").pointers[index] = 0;
                changed = true;
            }
        }
        if changed {
            self.store_indirect(&map, 0)?;
        }
        let pointers = &map.levels[0].as_ref().expect("loaded").pointers;
        Ok(pointers.iter().all(|pointer| *pointer == 0))
    }
}
