//! The block device the file system sits on, and an in-memory one.
//!
//! A device is addressed in its *own* blocks of [`BlockDevice::block_size`]
//! bytes (a power of two from 512 to 4096: sectors for a disk, cache
//! blocks for a buffer cache). The file system block size is a multiple
//! of it; the file system reads and writes whole file system blocks, i.e.
//! runs of consecutive device blocks.

use alloc::vec;
use alloc::vec::Vec;

use spin::Mutex;

use crate::error::IoError;

/// A device of fixed-size blocks.
///
/// Calls may block (they are the block hypercalls, or a cache over them);
/// the caller holds the file system, nothing else. A write is durable only
/// after a [`BlockDevice::flush`] returns.
pub trait BlockDevice {
    /// The device's block size in bytes: a power of two, 512 to 4096.
    fn block_size(&self) -> usize;
    /// How many blocks the device holds.
    fn block_count(&self) -> u64;
    /// Reads `buf.len() / block_size()` consecutive blocks from `block` on.
    /// `buf.len()` is a non-zero multiple of the block size.
    fn read(&self, block: u64, buf: &mut [u8]) -> Result<(), IoError>;
    /// Writes `buf` over consecutive blocks from `block` on (same rule).
    fn write(&self, block: u64, buf: &[u8]) -> Result<(), IoError>;
    /// Makes every completed write durable.
    fn flush(&self) -> Result<(), IoError>;

    /// Reads `buf.len()` bytes from byte `offset` of block `block`, all
    /// inside that one block. The default reads the whole block; a cache
    /// copies just the part.
    fn read_part(&self, block: u64, offset: usize, buf: &mut [u8]) -> Result<(), IoError> {
        let mut whole = vec![0; self.block_size()];
        self.read(block, &mut whole)?;
        let part = whole.get(offset..offset + buf.len()).ok_or(IoError)?;
        buf.copy_from_slice(part);
        Ok(())
    }

    /// Writes `data` from byte `offset` of block `block` on, all inside
    /// that one block. The default reads, changes and writes the whole
    /// block; a cache changes just the part.
    fn write_part(&self, block: u64, offset: usize, data: &[u8]) -> Result<(), IoError> {
        let mut whole = vec![0; self.block_size()];
        self.read(block, &mut whole)?;
        let part = whole.get_mut(offset..offset + data.len()).ok_or(IoError)?;
        part.copy_from_slice(data);
        self.write(block, &whole)
    }
}

/// A device in memory, 512-byte blocks: for tests and the fuzz target.
#[derive(Debug)]
pub struct MemoryDevice {
    bytes: Mutex<Vec<u8>>,
}

/// The in-memory device's block size.
const MEMORY_BLOCK: usize = 512;

impl MemoryDevice {
    /// A device holding `bytes`, padded with zeros to whole blocks.
    pub fn new(mut bytes: Vec<u8>) -> Self {
        let padded = bytes.len().next_multiple_of(MEMORY_BLOCK);
        bytes.resize(padded, 0);
        Self {
            bytes: Mutex::new(bytes),
        }
    }

    /// A zeroed device of `size` bytes.
    pub fn zeroed(size: usize) -> Self {
        Self::new(vec![0; size])
    }

    /// The device's contents.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes.into_inner()
    }

    /// The byte range of `buf.len()` bytes from `block` on, if inside.
    fn range(&self, block: u64, length: usize, size: usize) -> Result<(usize, usize), IoError> {
        let start = usize::try_from(block)
            .ok()
            .and_then(|block| block.checked_mul(MEMORY_BLOCK))
            .ok_or(IoError)?;
        let end = start.checked_add(length).ok_or(IoError)?;
        if end > size || !length.is_multiple_of(MEMORY_BLOCK) {
            return Err(IoError);
        }
        Ok((start, end))
    }
}

impl BlockDevice for MemoryDevice {
    fn block_size(&self) -> usize {
        MEMORY_BLOCK
    }

    fn block_count(&self) -> u64 {
        (self.bytes.lock().len() / MEMORY_BLOCK) as u64
    }

    fn read(&self, block: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let bytes = self.bytes.lock();
        let (start, end) = self.range(block, buf.len(), bytes.len())?;
        buf.copy_from_slice(&bytes[start..end]);
        Ok(())
    }

    fn write(&self, block: u64, buf: &[u8]) -> Result<(), IoError> {
        let mut bytes = self.bytes.lock();
        let (start, end) = self.range(block, buf.len(), bytes.len())?;
        bytes[start..end].copy_from_slice(buf);
        Ok(())
    }

    fn flush(&self) -> Result<(), IoError> {
        Ok(())
    }
}

/// A device seen in file system blocks, and byte ranges for the superblock.
#[derive(Debug)]
pub(crate) struct Disk<D> {
    pub device: D,
    /// File system block size in bytes.
    pub block_size: usize,
    /// Device blocks per file system block.
    per_block: u64,
}

impl<D> Disk<D> {
    /// The same disk on the device `f` makes of this one.
    pub fn map_device<E>(self, f: impl FnOnce(D) -> E) -> Disk<E> {
        Disk {
            device: f(self.device),
            block_size: self.block_size,
            per_block: self.per_block,
        }
    }
}

impl<D: BlockDevice> Disk<D> {
    /// Checks the device's block size (512 to 4096, a power of two).
    pub fn new(device: D) -> Result<Self, &'static str> {
        let size = device.block_size();
        if !size.is_power_of_two() || !(512..=4096).contains(&size) {
            return Err("device block size is not a power of two from 512 to 4096");
        }
        Ok(Self {
            device,
            block_size: size,
            per_block: 1,
        })
    }

    /// Switches to file system blocks of `block_size` bytes.
    pub fn set_block_size(&mut self, block_size: usize) -> Result<(), &'static str> {
        let device = self.device.block_size();
        if block_size < device || !block_size.is_multiple_of(device) {
            return Err("file system blocks smaller than the device's");
        }
        self.block_size = block_size;
        self.per_block = (block_size / device) as u64;
        Ok(())
    }

    /// The file system blocks the device holds.
    pub fn blocks(&self) -> u64 {
        self.device.block_count() / self.per_block
    }

    /// Reads file system block `block` into `buf` (one block long).
    pub fn read(&self, block: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let first = block.checked_mul(self.per_block).ok_or(IoError)?;
        self.device.read(first, &mut buf[..self.block_size])
    }

    /// Writes file system block `block` from `buf` (one block long).
    pub fn write(&self, block: u64, buf: &[u8]) -> Result<(), IoError> {
        let first = block.checked_mul(self.per_block).ok_or(IoError)?;
        self.device.write(first, &buf[..self.block_size])
    }

    /// Reads `out.len()` bytes from byte `offset` of file system block
    /// `block` (a part that lies inside one device block: an inode).
    pub fn read_part(&self, block: u64, offset: usize, out: &mut [u8]) -> Result<(), IoError> {
        let (first, within) = self.part(block, offset, out.len())?;
        self.device.read_part(first, within, out)
    }

    /// Writes `data` from byte `offset` of file system block `block` on
    /// (inside one device block, as [`Disk::read_part`]).
    pub fn write_part(&self, block: u64, offset: usize, data: &[u8]) -> Result<(), IoError> {
        let (first, within) = self.part(block, offset, data.len())?;
        self.device.write_part(first, within, data)
    }

    /// The device block and the offset in it of `length` bytes at
    /// `offset` of file system block `block`; an error unless they lie
    /// inside one device block.
    fn part(&self, block: u64, offset: usize, length: usize) -> Result<(u64, usize), IoError> {
        let size = self.device.block_size();
        let (index, within) = (offset / size, offset % size);
        if within + length > size || offset >= self.block_size {
            return Err(IoError);
        }
        let first = block.checked_mul(self.per_block).ok_or(IoError)?;
        Ok((first + index as u64, within))
    }

    /// A new buffer of one file system block.
    pub fn buffer(&self) -> Vec<u8> {
        vec![0; self.block_size]
    }

    /// Reads bytes `offset..offset + out.len()` of the device.
    pub fn read_bytes(&self, offset: u64, out: &mut [u8]) -> Result<(), IoError> {
        let (first, buf, skip) = self.covering(offset, out.len())?;
        let mut buf = buf;
        self.device.read(first, &mut buf)?;
        out.copy_from_slice(&buf[skip..skip + out.len()]);
        Ok(())
    }

    /// Writes `data` at byte `offset` of the device (read-modify-write).
    pub fn write_bytes(&self, offset: u64, data: &[u8]) -> Result<(), IoError> {
        let (first, mut buf, skip) = self.covering(offset, data.len())?;
        self.device.read(first, &mut buf)?;
        buf[skip..skip + data.len()].copy_from_slice(data);
        self.device.write(first, &buf)
    }

    /// The first device block, a buffer of whole device blocks, and the
    /// offset into it that cover `length` bytes at `offset`.
    fn covering(&self, offset: u64, length: usize) -> Result<(u64, Vec<u8>, usize), IoError> {
        let size = self.device.block_size() as u64;
        let first = offset / size;
        let skip = (offset % size) as usize;
        let total = (skip + length).next_multiple_of(size as usize);
        Ok((first, vec![0; total], skip))
    }
}
