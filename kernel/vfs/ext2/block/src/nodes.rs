//! ext2's nodes as the vfs names them: ids, kinds, times, attributes,
//! directory listings.
//!
//! Node ids are inode numbers. Times are whole seconds on disk. New nodes
//! belong to user and group 0 (the vfs has no users). Device nodes, pipes
//! and sockets made by Linux list as files.

use ext2::{Access, FileKind, InodeNumber};
use vfs::{Attributes, DirectoryEntry, EntrySink, Errno, NodeId, NodeKind, SetAttributes};

use crate::filesystem::{Attached, Ext2};

const NS_PER_SECOND: u64 = 1_000_000_000;
/// ext2's root directory: always inode 2.
pub(crate) const ROOT: NodeId = 2;

/// The inode a node id names; ids past ext2's range name nothing.
pub(crate) fn inode(node: NodeId) -> Result<InodeNumber, Errno> {
    InodeNumber::try_from(node).map_err(|_| Errno::NotFound)
}

/// What the vfs calls an ext2 file kind.
fn kind(kind: FileKind) -> NodeKind {
    match kind {
        FileKind::Directory => NodeKind::Directory,
        FileKind::Symlink => NodeKind::Symlink,
        _ => NodeKind::File,
    }
}

/// Nanoseconds as ext2's 32-bit seconds (saturating in 2106).
fn seconds(ns: u64) -> u32 {
    u32::try_from(ns / NS_PER_SECOND).unwrap_or(u32::MAX)
}

/// Rights for a new node (no owner: the vfs has no users).
pub(crate) fn access(permissions: u16) -> Access {
    Access {
        mode: permissions & 0o7777,
        uid: 0,
        gid: 0,
    }
}

impl Ext2 {
    /// `number`'s attributes, as the vfs names them.
    pub(crate) fn attributes(
        &self,
        fs: &Attached<'_, '_>,
        number: InodeNumber,
    ) -> ext2::Result<Attributes> {
        let found = fs.getattr(number)?;
        Ok(Attributes {
            node: NodeId::from(number),
            kind: kind(found.kind),
            permissions: found.mode,
            links: u32::from(found.links),
            size: found.size,
            blocks: found.sectors,
            block_size: self.block_size,
            accessed_ns: u64::from(found.atime) * NS_PER_SECOND,
            modified_ns: u64::from(found.mtime) * NS_PER_SECOND,
            changed_ns: u64::from(found.ctime) * NS_PER_SECOND,
            user: found.uid,
            group: found.gid,
        })
    }
}

/// Applies `changes` to `number`: the size first (the one that can fail
/// for want of space), then mode and times.
pub(crate) fn set_attributes(
    fs: &mut Attached<'_, '_>,
    number: InodeNumber,
    changes: &SetAttributes,
) -> ext2::Result<()> {
    if let Some(size) = changes.size {
        fs.truncate(number, size)?;
    }
    let rest = ext2::SetAttributes {
        mode: changes.permissions,
        atime: changes.accessed_ns.map(seconds),
        mtime: changes.modified_ns.map(seconds),
        ..ext2::SetAttributes::default()
    };
    if rest != ext2::SetAttributes::default() {
        fs.setattr(number, rest)?;
    }
    Ok(())
}

/// Lists `directory` from `cookie` into `sink`, leaving out `.` and `..`.
pub(crate) fn list(
    fs: &Attached<'_, '_>,
    directory: InodeNumber,
    cookie: u64,
    sink: &mut EntrySink<'_>,
) -> ext2::Result<()> {
    let mut failure = None;
    fs.readdir(directory, cookie, |entry| {
        if entry.name == b"." || entry.name == b".." {
            return true;
        }
        let found = match entry.kind {
            Some(found) => Ok(found),
            None => fs.getattr(entry.inode).map(|attributes| attributes.kind),
        };
        match found {
            Ok(found) => sink(&DirectoryEntry {
                name: entry.name,
                node: NodeId::from(entry.inode),
                kind: kind(found),
                next: entry.next_cookie,
            }),
            Err(error) => {
                failure = Some(error);
                false
            }
        }
    })?;
    failure.map_or(Ok(()), Err)
}
