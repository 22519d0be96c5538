//! Removing names, and freeing an inode once its last link and its last
//! pin are gone.
//!
//! The caller (the vfs) pins an inode while it has it open: an inode
//! whose last name is removed while pinned keeps its blocks, with a link
//! count of 0, until [`Fs::unpin`] lets go of it (POSIX's open unlinked
//! file). A freed inode gets its deletion time and a zero link count and
//! size, as e2fsck expects of a deleted inode.

use crate::device::BlockDevice;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::inode::{Inode, InodeNumber};
use crate::layout::ROOT_INODE;

/// The magic number of an extended-attribute block.
const ATTRIBUTE_MAGIC: u32 = 0xEA02_0000;

impl<D: BlockDevice> Fs<D> {
    /// Removes the name `name` of a non-directory from `directory`.
    pub fn unlink(&mut self, directory: InodeNumber, name: &[u8]) -> Result<()> {
        self.writable()?;
        let mut parent = self.directory(directory)?;
        let found = self.find_entry(&parent, name)?.ok_or(Error::NotFound)?;
        let mut inode = self.read_inode(found.entry.inode)?;
        if inode.is_directory() {
            return Err(Error::IsDirectory);
        }
        self.remove_entry(&mut parent, &found)?;
        self.stamp_changed(&mut parent)?;
        self.drop_link(&mut inode)?;
        Ok(())
    }

    /// Removes the empty directory `name` from `directory`.
    pub fn rmdir(&mut self, directory: InodeNumber, name: &[u8]) -> Result<()> {
        self.writable()?;
        if name == b"." {
            return Err(Error::InvalidArgument);
        }
        if name == b".." {
            return Err(Error::NotEmpty);
        }
        let mut parent = self.directory(directory)?;
        let found = self.find_entry(&parent, name)?.ok_or(Error::NotFound)?;
        let mut inode = self.read_inode(found.entry.inode)?;
        if !inode.is_directory() {
            return Err(Error::NotDirectory);
        }
        if inode.number == ROOT_INODE {
            return Err(Error::NotPermitted);
        }
        if !self.is_empty_directory(&inode)? {
            return Err(Error::NotEmpty);
        }
        self.remove_entry(&mut parent, &found)?;
        let links = parent.fields.links_count.get().saturating_sub(1);
        parent.fields.links_count.set(links);
        self.stamp_changed(&mut parent)?;
        self.drop_directory(&mut inode)?;
        Ok(())
    }

    /// Takes a removed directory's links away and frees it unless pinned.
    pub(crate) fn drop_directory(&mut self, inode: &mut Inode) -> Result<()> {
        inode.fields.links_count.set(0);
        inode.fields.ctime.set(self.now());
        self.write_inode(inode)?;
        if !self.pinned.contains_key(&inode.number) {
            self.release(inode)?;
        }
        Ok(())
    }

    /// Sets the modification and change times and writes the inode.
    pub(crate) fn stamp_changed(&mut self, inode: &mut Inode) -> Result<()> {
        let now = self.now();
        inode.fields.mtime.set(now);
        inode.fields.ctime.set(now);
        self.write_inode(inode)
    }

    /// Frees all of `inode`: its blocks, its attribute block, the inode.
    pub(crate) fn release(&mut self, inode: &mut Inode) -> Result<()> {
        if inode.data_sectors(self.superblock.block_size) != 0 {
            self.free_blocks_from(inode, 0)?;
        }
        self.release_attributes(inode)?;
        let directory = inode.is_directory();
        let fields = &mut inode.fields;
        fields.links_count.set(0);
        fields.size.set(0);
        fields.size_high.set(0);
        fields.blocks.set(0);
        for pointer in fields.block.iter_mut() {
            pointer.set(0);
        }
        inode.fields.dtime.set(self.now().max(1));
        self.write_inode(inode)?;
        self.free_inode(inode.number, directory)
    }

    /// Drops the inode's reference to its extended-attribute block,
    /// freeing the block with its last reference.
    fn release_attributes(&mut self, inode: &mut Inode) -> Result<()> {
        let block = self.checked_pointer(inode.fields.file_acl.get())?;
        if block == 0 {
            return Ok(());
        }
        let mut buf = self.disk.buffer();
        self.disk.read(block, &mut buf)?;
        let word = |at: usize| u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
        let references = word(4);
        if word(0) == ATTRIBUTE_MAGIC && references > 1 {
            buf[4..8].copy_from_slice(&(references - 1).to_le_bytes());
            self.disk.write(block, &buf)?;
        } else {
            self.free_block(block)?;
        }
        inode.fields.file_acl.set(0);
        self.remove_sectors(inode, 1);
        Ok(())
    }

    /// Holds inode `number` open: it outlives its last name until unpinned.
    pub fn pin(&mut self, number: InodeNumber) -> Result<()> {
        self.live_inode(number)?;
        *self.pinned.entry(number).or_insert(0) += 1;
        Ok(())
    }

    /// Lets go of a pin; frees the inode if it was the last pin and the
    /// inode has no name left.
    pub fn unpin(&mut self, number: InodeNumber) -> Result<()> {
        let Some(count) = self.pinned.get_mut(&number) else {
            return Err(Error::InvalidArgument);
        };
        *count -= 1;
        if *count > 0 {
            return Ok(());
        }
        self.pinned.remove(&number);
        let mut inode = self.read_inode(number)?;
        if inode.fields.links_count.get() == 0
            && inode.fields.dtime.get() == 0
            && self.read_only.is_none()
        {
            self.release(&mut inode)?;
        }
        Ok(())
    }
}
