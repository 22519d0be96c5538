//! The vnode operations of ext2 on a volume: [`FileSystem`] for [`Ext2`].
//!
//! Each operation is one ext2 operation on the file system attached to
//! the caller's context (`Ext2::with`); ext2 writes inodes, directories
//! and data through the buffer cache as it goes (its allocation state at
//! sync), and `fsync` syncs the whole volume (ext2 has no journal to be
//! finer with). Conversions are in `nodes.rs`.

use alloc::vec::Vec;

use base::Context;
use vfs::{Attributes, EntrySink, Errno, FileSystem, NodeId, SetAttributes, StatVfs};

use crate::filesystem::Ext2;
use crate::nodes::{ROOT, access, inode, list, set_attributes};

impl FileSystem for Ext2 {
    fn name(&self) -> &'static str {
        "ext2"
    }

    fn root(&self) -> NodeId {
        ROOT
    }

    fn read_only(&self) -> bool {
        self.is_read_only()
    }

    fn lookup(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
    ) -> Result<NodeId, Errno> {
        let directory = inode(directory)?;
        self.with(context, |fs| fs.lookup(directory, name))
            .map(NodeId::from)
    }

    fn getattr(&self, context: &Context<'_>, node: NodeId) -> Result<Attributes, Errno> {
        let number = inode(node)?;
        self.with(context, |fs| self.attributes(fs, number))
    }

    fn setattr(
        &self,
        context: &Context<'_>,
        node: NodeId,
        changes: &SetAttributes,
    ) -> Result<Attributes, Errno> {
        let number = inode(node)?;
        self.with(context, |fs| {
            set_attributes(fs, number, changes)?;
            self.attributes(fs, number)
        })
    }

    fn create(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        permissions: u16,
    ) -> Result<NodeId, Errno> {
        let directory = inode(directory)?;
        self.with(context, |fs| {
            fs.create(directory, name, access(permissions))
        })
        .map(NodeId::from)
    }

    fn mkdir(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        permissions: u16,
    ) -> Result<NodeId, Errno> {
        let directory = inode(directory)?;
        self.with(context, |fs| fs.mkdir(directory, name, access(permissions)))
            .map(NodeId::from)
    }

    fn symlink(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        target: &[u8],
    ) -> Result<NodeId, Errno> {
        let directory = inode(directory)?;
        let rights = access(0o777);
        self.with(context, |fs| fs.symlink(directory, name, target, rights))
            .map(NodeId::from)
    }

    fn link(
        &self,
        context: &Context<'_>,
        node: NodeId,
        directory: NodeId,
        name: &[u8],
    ) -> Result<(), Errno> {
        let (number, directory) = (inode(node)?, inode(directory)?);
        self.with(context, |fs| fs.link(number, directory, name))
    }

    fn unlink(&self, context: &Context<'_>, directory: NodeId, name: &[u8]) -> Result<(), Errno> {
        let directory = inode(directory)?;
        self.with(context, |fs| fs.unlink(directory, name))
    }

    fn rmdir(&self, context: &Context<'_>, directory: NodeId, name: &[u8]) -> Result<(), Errno> {
        let directory = inode(directory)?;
        self.with(context, |fs| fs.rmdir(directory, name))
    }

    fn rename(
        &self,
        context: &Context<'_>,
        from_directory: NodeId,
        from_name: &[u8],
        to_directory: NodeId,
        to_name: &[u8],
    ) -> Result<(), Errno> {
        let (from, to) = (inode(from_directory)?, inode(to_directory)?);
        self.with(context, |fs| fs.rename(from, from_name, to, to_name))
    }

    fn readlink(&self, context: &Context<'_>, node: NodeId) -> Result<Vec<u8>, Errno> {
        let number = inode(node)?;
        self.with(context, |fs| fs.readlink(number))
    }

    fn read_at(
        &self,
        context: &Context<'_>,
        node: NodeId,
        offset: u64,
        buffer: &mut [u8],
    ) -> Result<usize, Errno> {
        let number = inode(node)?;
        self.with(context, |fs| fs.read_at(number, offset, buffer))
    }

    fn write_at(
        &self,
        context: &Context<'_>,
        node: NodeId,
        offset: u64,
        data: &[u8],
    ) -> Result<usize, Errno> {
        let number = inode(node)?;
        self.with(context, |fs| fs.write_at(number, offset, data))
    }

    fn readdir(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        cookie: u64,
        sink: &mut EntrySink<'_>,
    ) -> Result<(), Errno> {
        let directory = inode(directory)?;
        self.with(context, |fs| list(fs, directory, cookie, sink))
    }

    fn fsync(&self, context: &Context<'_>, node: NodeId) -> Result<(), Errno> {
        let number = inode(node)?;
        self.with(context, |fs| fs.fsync(number))
    }

    fn statvfs(&self, context: &Context<'_>) -> Result<StatVfs, Errno> {
        let totals = self.with(context, |fs| Ok(fs.statfs()))?;
        Ok(StatVfs {
            block_size: totals.block_size,
            blocks: totals.blocks,
            free_blocks: totals.free_blocks,
            available_blocks: totals.available_blocks,
            files: totals.inodes,
            free_files: totals.free_inodes,
            name_max: totals.name_max,
            read_only: totals.read_only,
        })
    }

    fn opened(&self, node: NodeId) {
        self.count_open(node);
    }

    fn released(&self, node: NodeId) {
        self.count_release(node);
    }

    fn unmount(&self, context: &Context<'_>) -> Result<(), Errno> {
        self.unmount_now(context)
    }
}
