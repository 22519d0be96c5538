//! A block-layer volume as the ext2 driver's block device.

use core::cell::Cell;

use base::Context;
use block::{BlockError, Volume};
use ext2::{BlockDevice, IoError};
use log::debug;

/// A [`Volume`] with the context its calls run in, as an
/// [`ext2::BlockDevice`]: device blocks are volume blocks, reads and writes
/// go through the buffer cache, [`BlockDevice::flush`] is
/// [`Volume::sync`].
///
/// ext2's errors carry no reason; the last block-layer error is kept
/// ([`VolumeDevice::last_error`]) so a caller can tell EIO from ENOMEM.
#[derive(Debug)]
pub struct VolumeDevice<'c, 'k> {
    volume: Volume,
    context: &'c Context<'k>,
    last_error: Cell<Option<BlockError>>,
}

impl<'c, 'k> VolumeDevice<'c, 'k> {
    /// `volume`, its calls made in `context`.
    pub fn new(volume: Volume, context: &'c Context<'k>) -> Self {
        Self {
            volume,
            context,
            last_error: Cell::new(None),
        }
    }

    /// The volume.
    pub fn volume(&self) -> &Volume {
        &self.volume
    }

    /// The volume, its context let go (see [`ext2::Fs::map_device`]).
    pub fn into_volume(self) -> Volume {
        self.volume
    }

    /// The block layer's reason for the last failed call, if any failed.
    pub fn last_error(&self) -> Option<BlockError> {
        self.last_error.get()
    }

    /// Keeps `error` as the last one and turns it into ext2's.
    fn failed(&self, what: &str, block: u64, error: BlockError) -> IoError {
        debug!(
            "{}: ext2 {what} at block {block}: {error}",
            self.volume.name()
        );
        self.last_error.set(Some(error));
        IoError
    }

    /// The volume blocks `length` bytes from `block` on cover; an error
    /// unless whole blocks, at least one, numbered below `u64::MAX`.
    fn span(&self, block: u64, length: usize) -> Result<core::ops::Range<u64>, IoError> {
        let size = self.volume.block_size();
        let count = length / size;
        let end = block.checked_add(count as u64);
        match end {
            Some(end) if count > 0 && length.is_multiple_of(size) => Ok(block..end),
            _ => Err(self.failed("request", block, BlockError::Invalid)),
        }
    }
}

impl BlockDevice for VolumeDevice<'_, '_> {
    fn block_size(&self) -> usize {
        self.volume.block_size()
    }

    fn block_count(&self) -> u64 {
        self.volume.block_count()
    }

    fn read(&self, block: u64, buf: &mut [u8]) -> Result<(), IoError> {
        let span = self.span(block, buf.len())?;
        let size = self.volume.block_size();
        for (number, chunk) in span.zip(buf.chunks_exact_mut(size)) {
            self.volume
                .read(self.context, number, chunk)
                .map_err(|error| self.failed("read", number, error))?;
        }
        Ok(())
    }

    fn write(&self, block: u64, buf: &[u8]) -> Result<(), IoError> {
        let span = self.span(block, buf.len())?;
        let size = self.volume.block_size();
        for (number, chunk) in span.zip(buf.chunks_exact(size)) {
            self.volume
                .write(self.context, number, chunk)
                .map_err(|error| self.failed("write", number, error))?;
        }
        Ok(())
    }

    fn read_part(&self, block: u64, offset: usize, buf: &mut [u8]) -> Result<(), IoError> {
        self.volume
            .read_part(self.context, block, offset, buf)
            .map_err(|error| self.failed("read", block, error))
    }

    fn write_part(&self, block: u64, offset: usize, data: &[u8]) -> Result<(), IoError> {
        self.volume
            .write_part(self.context, block, offset, data)
            .map_err(|error| self.failed("write", block, error))
    }

    fn flush(&self) -> Result<(), IoError> {
        self.volume
            .sync(self.context)
            .map_err(|error| self.failed("sync", 0, error))
    }
}
