//! The interface a file system implements: vnode operations on node ids.
//!
//! A file system (tmpfs, the archive baked into the image, ext2 over a
//! block device) is an object behind `Arc<dyn FileSystem>`: the vfs mounts
//! it, walks paths through [`FileSystem::lookup`] and turns every file call
//! into one or two of these operations. Nodes are named by [`NodeId`]s
//! (an inode number), valid while the node exists; a stale id gives
//! [`Errno::NotFound`].
//!
//! What the vfs guarantees a file system, so each need not check:
//! - a `name` is 1..=[`NAME_MAX`] bytes without `/` or NUL, and never `.`
//!   or `..` (except that [`FileSystem::lookup`] is asked for `..`);
//! - no modifying operation reaches a file system mounted read-only or
//!   saying [`FileSystem::read_only`] (the vfs answers EROFS);
//! - [`FileSystem::rename`] is called within one file system, never moves
//!   a directory into itself or below itself, never onto itself (a rename
//!   of a node onto the same node is a no-op above), and never replaces a
//!   directory with a non-directory or the reverse;
//! - [`FileSystem::unlink`] names a non-directory, [`FileSystem::rmdir`]
//!   a directory, neither a mount point;
//! - every [`FileSystem::opened`] is paired with one
//!   [`FileSystem::released`], so a file system can keep an unlinked node
//!   until its last open file goes (POSIX's "last close").
//!
//! What a file system does itself: replacing an existing target in
//! `rename` atomically (an existing directory target only when empty:
//! [`Errno::NotEmpty`]), `rmdir`'s emptiness check, timestamps (from
//! [`Context::time_of_day_ns`]), link counts, and space ([`Errno::NoSpace`]).

use alloc::vec::Vec;

use base::Context;

use crate::errno::Errno;

/// The longest name in a directory, in bytes.
pub const NAME_MAX: usize = 255;

/// A node's number within its file system.
pub type NodeId = u64;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
}

/// A node's attributes (`struct stat` less the device, which the vfs adds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attributes {
    /// Its number.
    pub node: NodeId,
    /// What it is.
    pub kind: NodeKind,
    /// Permission bits (`0o7777`).
    pub permissions: u16,
    /// Hard links to it.
    pub links: u32,
    /// Length in bytes (of a symlink: its target's).
    pub size: u64,
    /// Storage it holds, in 512-byte units (a sparse file holds less than
    /// its size).
    pub blocks: u64,
    /// The best I/O size.
    pub block_size: u32,
    /// Last read, nanoseconds since 1970 (UTC).
    pub accessed_ns: u64,
    /// Last change of the data.
    pub modified_ns: u64,
    /// Last change of the data or the attributes.
    pub changed_ns: u64,
    /// Owner.
    pub user: u32,
    /// Group.
    pub group: u32,
}

/// Attributes to change; `None` leaves one as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetAttributes {
    /// A new length: cut, or extended with a hole that reads as zeros.
    pub size: Option<u64>,
    /// New permission bits.
    pub permissions: Option<u16>,
    /// A new access time.
    pub accessed_ns: Option<u64>,
    /// A new modification time.
    pub modified_ns: Option<u64>,
}

/// One directory entry as [`FileSystem::readdir`] hands it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryEntry<'a> {
    /// Its name (never `.` or `..`: those are not listed).
    pub name: &'a [u8],
    /// The node it names.
    pub node: NodeId,
    /// What that node is.
    pub kind: NodeKind,
    /// The cookie that continues the listing after this entry.
    pub next: u64,
}

/// A file system's space (`struct statvfs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatVfs {
    /// The unit of the block counts.
    pub block_size: u32,
    /// Blocks in all.
    pub blocks: u64,
    /// Blocks free.
    pub free_blocks: u64,
    /// Blocks free for an ordinary user (`f_bavail`): the free blocks less
    /// any the file system keeps in reserve.
    pub available_blocks: u64,
    /// Nodes in all (0: no fixed number).
    pub files: u64,
    /// Nodes free.
    pub free_files: u64,
    /// The longest name.
    pub name_max: u32,
    /// Whether it is read-only (the file system's or the mount's).
    pub read_only: bool,
}

/// Receives directory entries; returns false to stop the listing.
pub type EntrySink<'s> = dyn FnMut(&DirectoryEntry<'_>) -> bool + 's;

/// A file system: vnode operations on node ids (see the module docs for
/// who checks what). Object-safe; every error is an [`Errno`].
pub trait FileSystem: Send + Sync {
    /// Its type's name (`tmpfs`, `cpiofs`, `ext2`).
    fn name(&self) -> &'static str;

    /// Its root directory.
    fn root(&self) -> NodeId;

    /// Whether it cannot be written at all (a read-only medium, an image
    /// with features this driver may only read).
    fn read_only(&self) -> bool {
        false
    }

    /// The node `name` in `directory`; `..` is the parent (the root's is
    /// the root).
    fn lookup(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
    ) -> Result<NodeId, Errno>;

    /// `node`'s attributes.
    fn getattr(&self, context: &Context<'_>, node: NodeId) -> Result<Attributes, Errno>;

    /// Changes `node`'s attributes (`size` is truncate); returns them.
    fn setattr(
        &self,
        context: &Context<'_>,
        node: NodeId,
        changes: &SetAttributes,
    ) -> Result<Attributes, Errno>;

    /// Makes an empty regular file `name` in `directory`
    /// ([`Errno::Exists`] if the name is taken).
    fn create(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        permissions: u16,
    ) -> Result<NodeId, Errno>;

    /// Makes an empty directory `name` in `directory`.
    fn mkdir(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        permissions: u16,
    ) -> Result<NodeId, Errno>;

    /// Makes a symbolic link `name` in `directory` pointing at `target`.
    fn symlink(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        name: &[u8],
        target: &[u8],
    ) -> Result<NodeId, Errno>;

    /// Adds the name `name` in `directory` for the non-directory `node`.
    fn link(
        &self,
        context: &Context<'_>,
        node: NodeId,
        directory: NodeId,
        name: &[u8],
    ) -> Result<(), Errno>;

    /// Removes the name of a non-directory.
    fn unlink(&self, context: &Context<'_>, directory: NodeId, name: &[u8]) -> Result<(), Errno>;

    /// Removes an empty directory ([`Errno::NotEmpty`] otherwise).
    fn rmdir(&self, context: &Context<'_>, directory: NodeId, name: &[u8]) -> Result<(), Errno>;

    /// Moves `from_name` in `from_directory` to `to_name` in
    /// `to_directory`, replacing what is there atomically.
    fn rename(
        &self,
        context: &Context<'_>,
        from_directory: NodeId,
        from_name: &[u8],
        to_directory: NodeId,
        to_name: &[u8],
    ) -> Result<(), Errno>;

    /// A symbolic link's target.
    fn readlink(&self, context: &Context<'_>, node: NodeId) -> Result<Vec<u8>, Errno>;

    /// Reads from `offset` into `buffer`; 0 at or past the end. Holes read
    /// as zeros.
    fn read_at(
        &self,
        context: &Context<'_>,
        node: NodeId,
        offset: u64,
        buffer: &mut [u8],
    ) -> Result<usize, Errno>;

    /// Writes `data` at `offset`, growing the file (a gap becomes a hole);
    /// returns how much was written, short only when space ran out after
    /// some was written.
    fn write_at(
        &self,
        context: &Context<'_>,
        node: NodeId,
        offset: u64,
        data: &[u8],
    ) -> Result<usize, Errno>;

    /// Lists `directory` from `cookie` (0: the start) into `sink` until it
    /// returns false or the entries end.
    fn readdir(
        &self,
        context: &Context<'_>,
        directory: NodeId,
        cookie: u64,
        sink: &mut EntrySink<'_>,
    ) -> Result<(), Errno>;

    /// Puts `node`'s data and attributes on stable storage.
    fn fsync(&self, _context: &Context<'_>, _node: NodeId) -> Result<(), Errno> {
        Ok(())
    }

    /// Its space.
    fn statvfs(&self, context: &Context<'_>) -> Result<StatVfs, Errno>;

    /// An open file now refers to `node`.
    fn opened(&self, _node: NodeId) {}

    /// An open file of `node` went away. May run outside the kernel (a
    /// process ending): without a context, so work that needs one (freeing
    /// an unlinked inode on a disk) is deferred.
    fn released(&self, _node: NodeId) {}

    /// Called once before the vfs lets go of the mount: write back.
    fn unmount(&self, _context: &Context<'_>) -> Result<(), Errno> {
        Ok(())
    }
}
