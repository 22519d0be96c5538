//! From a file's logical blocks to device blocks: 12 direct pointers,
//! then single, double and triple indirect blocks; 0 is a hole.
//!
//! A [`BlockMap`] walks the tree for one operation and keeps the last
//! indirect block of each level, so a sequential read or write reads each
//! indirect block once; one that allocation changed is written once, when
//! the walk moves to another block of its level or ends
//! ([`Fs::flush_map`]), not once per new pointer. Every pointer read
//! from disk is checked to lie in the file system before it is followed.

use alloc::vec::Vec;

use crate::device::BlockDevice;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::inode::Inode;

/// Direct pointers in an inode.
pub(crate) const DIRECT: u64 = 12;

/// Where a logical block's pointer lives: the inode slot, then one index
/// per level of indirection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Path {
    pub slot: usize,
    pub depth: usize,
    pub indexes: [usize; 3],
}

/// The path of logical block `logical` with `per` pointers per block.
pub(crate) fn path(logical: u64, per: u64) -> Result<Path> {
    let mut path = Path {
        slot: 0,
        depth: 0,
        indexes: [0; 3],
    };
    if logical < DIRECT {
        path.slot = logical as usize;
        return Ok(path);
    }
    let mut rest = logical - DIRECT;
    let mut span = per;
    for depth in 1..=3 {
        if rest < span {
            path.slot = DIRECT as usize + depth - 1;
            path.depth = depth;
            for level in (0..depth).rev() {
                path.indexes[level] = (rest % per) as usize;
                rest /= per;
            }
            return Ok(path);
        }
        rest -= span;
        span *= per;
    }
    Err(Error::FileTooBig)
}

/// The logical blocks a file of this block size can map.
pub(crate) fn max_blocks(per: u64) -> u64 {
    DIRECT + per + per * per + per * per * per
}

/// One indirect block held in memory.
#[derive(Debug)]
pub(crate) struct Indirect {
    pub block: u64,
    pub pointers: Vec<u32>,
    /// Changed since it was read or written.
    pub dirty: bool,
}

/// A walk over one inode's block tree, caching one indirect block per level.
#[derive(Debug, Default)]
pub(crate) struct BlockMap {
    pub levels: [Option<Indirect>; 3],
}

impl<D: BlockDevice> Fs<D> {
    /// Pointers per indirect block.
    pub(crate) fn pointers_per_block(&self) -> u64 {
        self.superblock.block_size as u64 / 4
    }

    /// Checks a pointer read from disk: 0 or a block of the file system.
    pub(crate) fn checked_pointer(&self, pointer: u32) -> Result<u64> {
        let block = u64::from(pointer);
        let superblock = &self.superblock;
        if block != 0 && (block < superblock.first_data_block || block >= superblock.blocks_count) {
            return Err(Error::Corrupt("block pointer out of range"));
        }
        Ok(block)
    }

    /// Reads indirect block `block` into level `level` of `map`.
    pub(crate) fn load_indirect(&self, map: &mut BlockMap, level: usize, block: u64) -> Result<()> {
        if map.levels[level].as_ref().is_some_and(|i| i.block == block) {
            return Ok(());
        }
        let mut buf = self.disk.buffer();
        self.disk.read(block, &mut buf)?;
        let pointers = buf
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let dirty = false;
        self.replace_level(
            map,
            level,
            Indirect {
                block,
                pointers,
                dirty,
            },
        )
    }

    /// Puts `indirect` at level `level` of `map`, writing the one it
    /// replaces first if that one changed.
    pub(crate) fn replace_level(
        &self,
        map: &mut BlockMap,
        level: usize,
        indirect: Indirect,
    ) -> Result<()> {
        if map.levels[level].as_ref().is_some_and(|old| old.dirty) {
            self.store_indirect(map, level)?;
        }
        map.levels[level] = Some(indirect);
        Ok(())
    }

    /// Writes every changed level of `map`; a walk that changed pointers
    /// ends with it.
    pub(crate) fn flush_map(&self, map: &mut BlockMap) -> Result<()> {
        for level in 0..map.levels.len() {
            if map.levels[level].as_ref().is_some_and(|i| i.dirty) {
                self.store_indirect(map, level)?;
                map.levels[level].as_mut().expect("a loaded level").dirty = false;
            }
        }
        Ok(())
    }

    /// The device block of `logical` in `inode`, or `None` for a hole.
    pub(crate) fn map_block(
        &self,
        inode: &Inode,
        map: &mut BlockMap,
        logical: u64,
    ) -> Result<Option<u64>> {
        let path = path(logical, self.pointers_per_block())?;
        let mut block = self.checked_pointer(inode.fields.block[path.slot].get())?;
        for level in 0..path.depth {
            if block == 0 {
                return Ok(None);
            }
            self.load_indirect(map, level, block)?;
            let indirect = map.levels[level].as_ref().expect("just loaded");
            block = self.checked_pointer(indirect.pointers[path.indexes[level]])?;
        }
        Ok((block != 0).then_some(block))
    }

    /// Writes level `level` of `map` back to its block.
    pub(crate) fn store_indirect(&self, map: &BlockMap, level: usize) -> Result<()> {
        let indirect = map.levels[level].as_ref().expect("a loaded level");
        let mut buf = self.disk.buffer();
        for (chunk, pointer) in buf.chunks_exact_mut(4).zip(&indirect.pointers) {
            chunk.copy_from_slice(&pointer.to_le_bytes());
        }
        self.disk.write(indirect.block, &buf)?;
        Ok(())
    }

    /// Adds `blocks` file system blocks to the inode's 512-byte sector count.
    pub(crate) fn add_sectors(&self, inode: &mut Inode, blocks: u64) -> Result<()> {
        let sectors = blocks * (self.superblock.block_size as u64 / 512);
        let total = u64::from(inode.fields.blocks.get()) + sectors;
        let total = u32::try_from(total).map_err(|_| Error::FileTooBig)?;
        inode.fields.blocks.set(total);
        Ok(())
    }

    /// Removes `blocks` blocks from the inode's sector count.
    pub(crate) fn remove_sectors(&self, inode: &mut Inode, blocks: u64) {
        let sectors = blocks * (self.superblock.block_size as u64 / 512);
        let total = u64::from(inode.fields.blocks.get()).saturating_sub(sectors);
        inode.fields.blocks.set(total as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cover_every_level() {
        let per = 256;
        assert_eq!(path(11, per).unwrap().slot, 11);
        let single = path(12, per).unwrap();
        assert_eq!((single.slot, single.depth, single.indexes[0]), (12, 1, 0));
        let double = path(12 + 256 + 257, per).unwrap();
        assert_eq!((double.slot, double.depth), (13, 2));
        assert_eq!(&double.indexes[..2], &[1, 1]);
        let last = max_blocks(per) - 1;
        let triple = path(last, per).unwrap();
        assert_eq!((triple.slot, triple.indexes), (14, [255, 255, 255]));
        assert_eq!(path(last + 1, per).unwrap_err(), Error::FileTooBig);
    }
}
