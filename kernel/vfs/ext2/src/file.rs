//! File contents: read, write and truncate, holes included.
//!
//! Invariant: bytes of a file's last block past its size are zero (new
//! blocks are written whole, truncation zeroes the tail), so growing a
//! file never uncovers old data. Reads do not update the access time (as
//! with `noatime`); writes set the modification and change times.

use crate::blockmap::{BlockMap, max_blocks};
use crate::device::BlockDevice;
use crate::error::{Error, Result};
use crate::features::RO_COMPAT_LARGE_FILE;
use crate::fs::Fs;
use crate::inode::{FileKind, Inode, InodeNumber};

/// Sizes below this fit without the `large_file` feature.
const LARGE_FILE_SIZE: u64 = 1 << 31;

impl<D: BlockDevice> Fs<D> {
    /// The largest file size this block size can map.
    pub fn max_file_size(&self) -> u64 {
        max_blocks(self.pointers_per_block()) * self.superblock.block_size as u64
    }

    /// A regular file's inode (`IsDirectory` or `InvalidArgument` else).
    fn regular_file(&self, number: InodeNumber) -> Result<Inode> {
        let inode = self.live_inode(number)?;
        match inode.kind() {
            Some(FileKind::Regular) => Ok(inode),
            Some(FileKind::Directory) => Err(Error::IsDirectory),
            _ => Err(Error::InvalidArgument),
        }
    }

    /// Reads from byte `offset` of regular file `number` into `buf`;
    /// returns the bytes read (0 at or past the end). Holes read as zeros.
    pub fn read_at(&self, number: InodeNumber, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let inode = self.regular_file(number)?;
        self.read_contents(&inode, offset, buf)
    }

    /// Reads any inode's data blocks (files, directories, slow symlinks).
    /// A (damaged) size past what blocks can map ends where they end.
    pub(crate) fn read_contents(
        &self,
        inode: &Inode,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize> {
        let size = inode.size().min(self.max_file_size());
        if offset >= size {
            return Ok(0);
        }
        let length = buf
            .len()
            .min((size - offset).min(usize::MAX as u64) as usize);
        let block_size = self.superblock.block_size;
        let mut map = BlockMap::default();
        let mut scratch = self.disk.buffer();
        let mut done = 0;
        while done < length {
            let position = offset + done as u64;
            let within = (position % block_size as u64) as usize;
            let count = (block_size - within).min(length - done);
            let out = &mut buf[done..done + count];
            match self.map_block(inode, &mut map, position / block_size as u64)? {
                None => out.fill(0),
                Some(block) if count == block_size => self.disk.read(block, out)?,
                Some(block) => {
                    self.disk.read(block, &mut scratch)?;
                    out.copy_from_slice(&scratch[within..within + count]);
                }
            }
            done += count;
        }
        Ok(length)
    }

    /// Writes `data` at byte `offset` of regular file `number`, filling
    /// holes and growing the file. Returns the bytes written: fewer than
    /// asked only when the disk filled up part way (`NoSpace` if nothing
    /// could be written) or at the largest file size (`FileTooBig` then).
    pub fn write_at(&mut self, number: InodeNumber, offset: u64, data: &[u8]) -> Result<usize> {
        self.writable()?;
        let mut inode = self.regular_file(number)?;
        let limit = self.max_file_size();
        if offset >= limit && !data.is_empty() {
            return Err(Error::FileTooBig);
        }
        let length = data.len().min((limit - offset.min(limit)) as usize);
        let (done, failure) = self.write_blocks(&mut inode, offset, &data[..length]);
        let end = offset + done as u64;
        if end > inode.size() {
            self.grow_size(&mut inode, end)?;
        }
        let now = self.now();
        inode.fields.mtime.set(now);
        inode.fields.ctime.set(now);
        self.write_inode(&mut inode)?;
        match failure {
            Some(error) if done == 0 => Err(error),
            _ => Ok(done),
        }
    }

    /// Writes block by block; the bytes written and the error that
    /// stopped it early, if one did.
    fn write_blocks(
        &mut self,
        inode: &mut Inode,
        offset: u64,
        data: &[u8],
    ) -> (usize, Option<Error>) {
        let block_size = self.superblock.block_size;
        let mut map = BlockMap::default();
        let mut scratch = self.disk.buffer();
        let mut goal = self.goal_for(inode);
        let mut done = 0;
        while done < data.len() {
            let position = offset + done as u64;
            let within = (position % block_size as u64) as usize;
            let count = (block_size - within).min(data.len() - done);
            let chunk = &data[done..done + count];
            let logical = position / block_size as u64;
            let step = self.map_or_allocate(inode, &mut map, logical, goal);
            let result = step.and_then(|(block, fresh)| {
                goal = block + 1;
                if count == block_size {
                    return Ok(self.disk.write(block, chunk)?);
                }
                if fresh {
                    scratch.fill(0);
                } else {
                    self.disk.read(block, &mut scratch)?;
                }
                scratch[within..within + count].copy_from_slice(chunk);
                Ok(self.disk.write(block, &scratch)?)
            });
            if let Err(error) = result {
                return self.flushed(&mut map, done, Some(error));
            }
            done += count;
        }
        self.flushed(&mut map, done, None)
    }

    /// [`Fs::write_blocks`]'s answer once its walk's indirect blocks are
    /// written: if that fails, nothing counts as written.
    fn flushed(
        &self,
        map: &mut BlockMap,
        done: usize,
        failure: Option<Error>,
    ) -> (usize, Option<Error>) {
        match self.flush_map(map) {
            Ok(()) => (done, failure),
            Err(error) => (0, Some(error)),
        }
    }

    /// Where to look for a file's first new block: its inode's group.
    pub(crate) fn goal_for(&self, inode: &Inode) -> u64 {
        let group = self.inode_group(inode.number);
        self.superblock.group_first_block(group)
    }

    /// Sets a larger size, turning `large_file` on when it is needed.
    fn grow_size(&mut self, inode: &mut Inode, size: u64) -> Result<()> {
        if size >= LARGE_FILE_SIZE && !self.superblock.has_read_only_feature(RO_COMPAT_LARGE_FILE) {
            if self.superblock.fields.revision.get() == 0 {
                return Err(Error::FileTooBig);
            }
            let fields = &mut self.superblock.fields;
            let features = fields.feature_read_only.get() | RO_COMPAT_LARGE_FILE;
            fields.feature_read_only.set(features);
            self.superblock_dirty = true;
        }
        inode.set_size(size);
        Ok(())
    }

    /// Sets the size of regular file `number`: blocks past the new end
    /// are freed, and growing leaves a hole.
    pub fn truncate(&mut self, number: InodeNumber, size: u64) -> Result<()> {
        self.writable()?;
        let mut inode = self.regular_file(number)?;
        if size > self.max_file_size() {
            return Err(Error::FileTooBig);
        }
        if size < inode.size() {
            self.cut(&mut inode, size)?;
        } else {
            self.grow_size(&mut inode, size)?;
        }
        let now = self.now();
        inode.fields.mtime.set(now);
        inode.fields.ctime.set(now);
        self.write_inode(&mut inode)?;
        Ok(())
    }

    /// Shrinks `inode` to `size`: frees the blocks past it and zeroes the
    /// tail of the new last block.
    pub(crate) fn cut(&mut self, inode: &mut Inode, size: u64) -> Result<()> {
        let block_size = self.superblock.block_size as u64;
        inode.set_size(size);
        self.free_blocks_from(inode, size.div_ceil(block_size))?;
        let within = (size % block_size) as usize;
        if within == 0 {
            return Ok(());
        }
        let mut map = BlockMap::default();
        if let Some(block) = self.map_block(inode, &mut map, size / block_size)? {
            let mut scratch = self.disk.buffer();
            self.disk.read(block, &mut scratch)?;
            scratch[within..].fill(0);
            self.disk.write(block, &scratch)?;
        }
        Ok(())
    }
}
