//! Mounting the ext2 file system on a disk of the block layer, by name.
//!
//! The volume is opened in the file system's block size, read from the
//! superblock, so that one ext2 block is one cache buffer; when the
//! superblock names no size the volume can take (not ext2, damaged, or
//! blocks smaller than the disk's sectors), the volume uses the sector size
//! and ext2's own mount says what is wrong. A read-only disk is mounted
//! read-only, as Linux does with a write-protected one.

use alloc::sync::Arc;
use core::fmt;

use base::Context;
use block::{Block, BlockError, Disk, Volume};
use ext2::{Fs, MountOptions};
use log::info;

use crate::device::VolumeDevice;

/// Where the superblock starts, in bytes from the start of the disk.
const SUPERBLOCK_OFFSET: usize = 1024;
/// `s_log_block_size`: the block size is `1024 << value`.
const LOG_BLOCK_SIZE_AT: usize = 24;
/// `s_magic`, and the value that marks ext2 (and ext3/4).
const MAGIC_AT: usize = 56;
const MAGIC: u16 = 0xef53;
/// The largest device block ext2's driver takes.
const LARGEST_DEVICE_BLOCK: usize = 4096;

/// Why a disk could not be mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountError {
    /// The disk: none of that name, or it failed while its superblock was
    /// read.
    Block(BlockError),
    /// The file system on it: not ext2, damaged, features not supported,
    /// or the device failed during the mount.
    Ext2(ext2::Error),
}

impl fmt::Display for MountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Block(error) => write!(f, "disk: {error}"),
            Self::Ext2(error) => write!(f, "ext2: {error}"),
        }
    }
}

impl core::error::Error for MountError {}

impl From<BlockError> for MountError {
    fn from(error: BlockError) -> Self {
        Self::Block(error)
    }
}

impl From<ext2::Error> for MountError {
    fn from(error: ext2::Error) -> Self {
        Self::Ext2(error)
    }
}

/// Mounts the ext2 file system on disk `name` (`vblk0`, …) for as long as
/// `context` lives (see the crate docs); read-only when `options` say so
/// or the disk refuses writes.
///
/// # Errors
/// [`MountError::Block`] without such a disk or when reading its
/// superblock failed; [`MountError::Ext2`] from ext2's mount.
pub fn mount<'c, 'k>(
    context: &'c Context<'k>,
    name: &str,
    mut options: MountOptions,
) -> Result<Fs<VolumeDevice<'c, 'k>>, MountError> {
    let volume = open_volume(context, name)?;
    if volume.is_read_only() && !options.read_only {
        info!("{name}: the disk is read-only; ext2 mounted read-only");
        options.read_only = true;
    }
    Ok(Fs::mount(VolumeDevice::new(volume, context), options)?)
}

/// Disk `name` as a volume in the block size of the ext2 file system on
/// it, or in its sector size when the superblock names none it can take.
///
/// # Errors
/// [`BlockError::NoDevice`] without the block layer or such a disk;
/// [`BlockError::Io`] or [`BlockError::NoMemory`] from reading the
/// superblock.
pub fn open_volume(context: &Context<'_>, name: &str) -> Result<Volume, BlockError> {
    let block = Block::of(context).ok_or(BlockError::NoDevice)?;
    let disk = block.disk(context, name).ok_or(BlockError::NoDevice)?;
    let sector = disk.geometry().sector_size as usize;
    let size = superblock_block_size(context, &block, &disk)?
        .filter(|&size| (sector..=LARGEST_DEVICE_BLOCK).contains(&size))
        .unwrap_or(sector);
    Volume::on(context, block, disk, size)
}

/// Whether disk `name` holds an ext2 superblock (ext3 and ext4 have the
/// same magic: ext2's mount tells them apart, by their features).
///
/// # Errors
/// [`BlockError::NoDevice`] without such a disk; [`BlockError::Io`] or
/// [`BlockError::NoMemory`] from reading the superblock.
pub fn has_ext2(context: &Context<'_>, name: &str) -> Result<bool, BlockError> {
    let block = Block::of(context).ok_or(BlockError::NoDevice)?;
    let disk = block.disk(context, name).ok_or(BlockError::NoDevice)?;
    Ok(superblock_block_size(context, &block, &disk)?.is_some())
}

/// The block size the superblock names, or `None` when there is no ext2
/// superblock (a disk too small for one included).
fn superblock_block_size(
    context: &Context<'_>,
    block: &Arc<Block>,
    disk: &Arc<Disk>,
) -> Result<Option<usize>, BlockError> {
    let sector = disk.geometry().sector_size as usize;
    let probe_size = SUPERBLOCK_OFFSET.max(sector);
    let volume = Volume::on(context, block.clone(), disk.clone(), probe_size)?;
    let mut buffer = alloc::vec![0; probe_size];
    let number = (SUPERBLOCK_OFFSET / probe_size) as u64;
    match volume.read(context, number, &mut buffer) {
        Err(BlockError::OutOfRange) => return Ok(None),
        result => result?,
    }
    let superblock = &buffer[SUPERBLOCK_OFFSET % probe_size..];
    Ok(block_size_in(superblock))
}

/// The block size `superblock` (at least 1024 bytes) names, if it is an
/// ext2 superblock with a size of 1 to 64 KiB.
fn block_size_in(superblock: &[u8]) -> Option<usize> {
    let magic = superblock.get(MAGIC_AT..MAGIC_AT + 2)?;
    if u16::from_le_bytes([magic[0], magic[1]]) != MAGIC {
        return None;
    }
    let field = superblock.get(LOG_BLOCK_SIZE_AT..LOG_BLOCK_SIZE_AT + 4)?;
    let shift = u32::from_le_bytes(field.try_into().ok()?);
    (shift <= 6).then(|| 1024 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn superblock(magic: u16, shift: u32) -> [u8; 1024] {
        let mut bytes = [0; 1024];
        bytes[MAGIC_AT..MAGIC_AT + 2].copy_from_slice(&magic.to_le_bytes());
        bytes[LOG_BLOCK_SIZE_AT..LOG_BLOCK_SIZE_AT + 4].copy_from_slice(&shift.to_le_bytes());
        bytes
    }

    #[test]
    fn the_block_size_comes_from_an_ext2_superblock_only() {
        assert_eq!(block_size_in(&superblock(MAGIC, 0)), Some(1024));
        assert_eq!(block_size_in(&superblock(MAGIC, 2)), Some(4096));
        assert_eq!(block_size_in(&superblock(MAGIC, 6)), Some(65536));
        assert_eq!(block_size_in(&superblock(MAGIC, 7)), None);
        assert_eq!(block_size_in(&superblock(MAGIC, u32::MAX)), None);
        assert_eq!(block_size_in(&superblock(0x1234, 2)), None);
        assert_eq!(block_size_in(&[0; 10]), None);
    }
}
