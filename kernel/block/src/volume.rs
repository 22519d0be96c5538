//! A disk as a file system sees it: numbered blocks of one size, through
//! the buffer cache.
//!
//! ```text
//! let volume = Volume::open(context, "vblk0", 1024)?;  // read the superblock
//! let volume = Volume::open(context, "vblk0", 4096)?;  // then its real size
//! volume.read(context, 7, &mut block)?;
//! volume.write(context, 7, &block)?;                    // dirty in the cache
//! volume.sync(context)?;                                // on the disk, flushed
//! ```
//!
//! Reads and writes copy whole blocks between the caller's bytes and the
//! cache; a write is in memory until a sync, the syncer (after
//! [`crate::cache::DIRTY_EXPIRE_NS`]), the cache's need for room, or the
//! kernel's shutdown writes it back. One block size is cached per disk
//! at a time: opening a volume with another size first writes back and
//! forgets the buffers of the old one. Volumes are cheap handles; clone
//! them freely.

use alloc::sync::Arc;

use base::Context;

use crate::cache::table::Key;
use crate::disk::Disk;
use crate::error::BlockError;
use crate::registry::Block;

/// The largest block size a volume takes.
pub const MAX_BLOCK_SIZE: usize = 64 * 1024;

/// A disk in blocks of one size, through the cache.
#[derive(Debug, Clone)]
pub struct Volume {
    block: Arc<Block>,
    disk: Arc<Disk>,
    block_size: u32,
    blocks: u64,
}

impl Volume {
    /// The disk `name` (`vblk0`, …) in blocks of `block_size` bytes.
    ///
    /// # Errors
    /// [`BlockError::NoDevice`] without the block layer or such a disk;
    /// [`BlockError::Invalid`] for a block size that is not a power of two
    /// from the disk's sector size to [`MAX_BLOCK_SIZE`]; [`BlockError::Io`]
    /// when buffers of another block size could not be written back.
    pub fn open(context: &Context<'_>, name: &str, block_size: usize) -> Result<Self, BlockError> {
        let block = Block::of(context).ok_or(BlockError::NoDevice)?;
        let disk = block.disk(context, name).ok_or(BlockError::NoDevice)?;
        Self::on(context, block, disk, block_size)
    }

    /// [`Volume::open`] for a disk in hand.
    ///
    /// # Errors
    /// As [`Volume::open`].
    pub fn on(
        context: &Context<'_>,
        block: Arc<Block>,
        disk: Arc<Disk>,
        block_size: usize,
    ) -> Result<Self, BlockError> {
        let sector = disk.geometry().sector_size as usize;
        let valid = block_size.is_power_of_two() && (sector..=MAX_BLOCK_SIZE).contains(&block_size);
        if !valid {
            return Err(BlockError::Invalid);
        }
        let block_size = block_size as u32;
        block.forget_other_sizes(context, &disk, block_size)?;
        let blocks = disk.geometry().bytes() / u64::from(block_size);
        Ok(Self {
            block,
            disk,
            block_size,
            blocks,
        })
    }

    /// The disk's name.
    pub fn name(&self) -> &str {
        self.disk.name()
    }

    /// The disk.
    pub fn disk(&self) -> &Arc<Disk> {
        &self.disk
    }

    /// Bytes per block.
    pub fn block_size(&self) -> usize {
        self.block_size as usize
    }

    /// Whole blocks on the disk.
    pub fn block_count(&self) -> u64 {
        self.blocks
    }

    /// Whether writes are refused.
    pub fn is_read_only(&self) -> bool {
        self.disk.geometry().read_only
    }

    /// Copies block `block` into `buffer` (exactly one block long).
    ///
    /// # Errors
    /// [`BlockError::Invalid`] for a buffer of another length;
    /// [`BlockError::OutOfRange`] past the last block; [`BlockError::Io`]
    /// when the device failed or did not answer;
    /// [`BlockError::NoMemory`].
    pub fn read(
        &self,
        context: &Context<'_>,
        block: u64,
        buffer: &mut [u8],
    ) -> Result<(), BlockError> {
        let key = self.key(block, buffer.len())?;
        self.block.read_block(context, &self.disk, key, 0, buffer)
    }

    /// Copies `buffer.len()` bytes from byte `offset` of block `block`
    /// (all inside it) into `buffer`: an inode out of its table's block
    /// without copying the whole block.
    ///
    /// # Errors
    /// As [`Volume::read`]; [`BlockError::Invalid`] for a range that is
    /// not inside one block.
    pub fn read_part(
        &self,
        context: &Context<'_>,
        block: u64,
        offset: usize,
        buffer: &mut [u8],
    ) -> Result<(), BlockError> {
        let key = self.part_key(block, offset, buffer.len())?;
        self.block
            .read_block(context, &self.disk, key, offset, buffer)
    }

    /// Replaces the bytes from byte `offset` of block `block` with
    /// `data` (all inside the block), in the cache; the rest of the block
    /// is read first if it is not cached.
    ///
    /// # Errors
    /// As [`Volume::write`], and a failed read of the block.
    pub fn write_part(
        &self,
        context: &Context<'_>,
        block: u64,
        offset: usize,
        data: &[u8],
    ) -> Result<(), BlockError> {
        if self.is_read_only() {
            return Err(BlockError::ReadOnly);
        }
        let key = self.part_key(block, offset, data.len())?;
        self.block
            .update_block(context, &self.disk, key, offset, data)
    }

    /// Replaces block `block` with `data` (exactly one block long) in the
    /// cache; it reaches the disk later (see the module docs).
    ///
    /// # Errors
    /// [`BlockError::ReadOnly`]; [`BlockError::Invalid`];
    /// [`BlockError::OutOfRange`]; [`BlockError::NoMemory`];
    /// [`BlockError::Io`] when room had to be made by a write-back that
    /// failed.
    pub fn write(&self, context: &Context<'_>, block: u64, data: &[u8]) -> Result<(), BlockError> {
        if self.is_read_only() {
            return Err(BlockError::ReadOnly);
        }
        let key = self.key(block, data.len())?;
        self.block.write_block(context, key, data)
    }

    /// Writes every dirty block of the disk back, waits for them, then
    /// flushes the device's write cache: on return, all that was written
    /// before the call is durable.
    ///
    /// # Errors
    /// [`BlockError::Io`] when a write-back or the flush failed; the
    /// blocks that did not reach the disk stay dirty.
    pub fn sync(&self, context: &Context<'_>) -> Result<(), BlockError> {
        self.block.sync_disk(context, &self.disk)
    }

    /// Writes every dirty block of the disk back and forgets every cached
    /// block of it, whatever its size, so that the next reads come from
    /// the device (what Linux's `drop_caches` does for a whole machine).
    ///
    /// # Errors
    /// [`BlockError::Io`] when a write-back failed (its blocks stay
    /// cached, dirty).
    pub fn forget(&self, context: &Context<'_>) -> Result<(), BlockError> {
        self.block.forget_disk(context, &self.disk)
    }

    /// The key of `block` if `length` bytes from `offset` lie inside it.
    fn part_key(&self, block: u64, offset: usize, length: usize) -> Result<Key, BlockError> {
        let end = offset.checked_add(length);
        if end.is_none_or(|end| end > self.block_size as usize) {
            return Err(BlockError::Invalid);
        }
        self.key(block, self.block_size as usize)
    }

    fn key(&self, block: u64, length: usize) -> Result<Key, BlockError> {
        if length != self.block_size as usize {
            return Err(BlockError::Invalid);
        }
        if block >= self.blocks {
            return Err(BlockError::OutOfRange);
        }
        Ok(Key {
            disk: self.disk.index(),
            block_size: self.block_size,
            block,
        })
    }
}
