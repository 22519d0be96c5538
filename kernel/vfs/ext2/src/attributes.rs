//! Inode attributes (stat), changing them (chmod, chown, utimes), and the
//! file system's totals (statfs).

use crate::device::BlockDevice;
use crate::error::Result;
use crate::fs::Fs;
use crate::inode::{FileKind, InodeNumber};
use crate::layout::{MAX_NAME, ROOT_INODE};

/// What `stat` tells of an inode. Times are seconds since 1970.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes {
    /// The inode number.
    pub inode: InodeNumber,
    /// What the inode is.
    pub kind: FileKind,
    /// Permission bits (`0o7777`).
    pub mode: u16,
    /// Names pointing here (a directory counts `.` and its children's `..`).
    pub links: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes (a symlink: its target's length).
    pub size: u64,
    /// 512-byte sectors held, metadata blocks included.
    pub sectors: u64,
    /// Last access (as stored; reads do not update it).
    pub atime: u32,
    /// Last modification of the contents.
    pub mtime: u32,
    /// Last change of the inode.
    pub ctime: u32,
    /// A device node's `(major, minor)`; `(0, 0)` for anything else.
    pub device: (u32, u32),
    /// The inode's generation (NFS file handles).
    pub generation: u32,
}

/// Changes for [`Fs::setattr`]; `None` leaves a field alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetAttributes {
    /// New permission bits (the file kind is kept).
    pub mode: Option<u16>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New access time.
    pub atime: Option<u32>,
    /// New modification time.
    pub mtime: Option<u32>,
}

/// What `statvfs` tells of the file system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatFs {
    /// Bytes per block.
    pub block_size: u32,
    /// Blocks in the file system.
    pub blocks: u64,
    /// Free blocks.
    pub free_blocks: u64,
    /// Free blocks for anyone but the superuser (free less reserved).
    pub available_blocks: u64,
    /// Inodes in the file system.
    pub inodes: u64,
    /// Free inodes.
    pub free_inodes: u64,
    /// The longest name.
    pub name_max: u32,
    /// Whether the mount is read-only.
    pub read_only: bool,
}

impl<D: BlockDevice> Fs<D> {
    /// The root directory's inode number (2).
    pub fn root(&self) -> InodeNumber {
        ROOT_INODE
    }

    /// The attributes of inode `number`.
    pub fn getattr(&self, number: InodeNumber) -> Result<Attributes> {
        let inode = self.live_inode(number)?;
        let fields = &inode.fields;
        let kind = inode.kind().expect("a live inode has a kind");
        let device = match kind {
            FileKind::CharacterDevice | FileKind::BlockDevice => {
                decode_device(fields.block[0].get(), fields.block[1].get())
            }
            _ => (0, 0),
        };
        Ok(Attributes {
            inode: number,
            kind,
            mode: fields.mode.get() & 0o7777,
            links: fields.links_count.get(),
            uid: inode.uid(),
            gid: inode.gid(),
            size: inode.size(),
            sectors: u64::from(fields.blocks.get()),
            atime: fields.atime.get(),
            mtime: fields.mtime.get(),
            ctime: fields.ctime.get(),
            device,
            generation: fields.generation.get(),
        })
    }

    /// Changes the mode, owner or times of inode `number`; the change
    /// time becomes now.
    pub fn setattr(&mut self, number: InodeNumber, changes: SetAttributes) -> Result<()> {
        self.writable()?;
        let mut inode = self.live_inode(number)?;
        if let Some(mode) = changes.mode {
            let kind = inode.fields.mode.get() & 0xF000;
            inode.fields.mode.set(kind | (mode & 0o7777));
        }
        let uid = changes.uid.unwrap_or(inode.uid());
        let gid = changes.gid.unwrap_or(inode.gid());
        inode.set_owner(uid, gid);
        if let Some(atime) = changes.atime {
            inode.fields.atime.set(atime);
        }
        if let Some(mtime) = changes.mtime {
            inode.fields.mtime.set(mtime);
        }
        inode.fields.ctime.set(self.now());
        self.write_inode(&mut inode)
    }

    /// The file system's totals.
    pub fn statfs(&self) -> StatFs {
        let (free_blocks, free_inodes) = self.groups.free_totals();
        let reserved = u64::from(self.superblock.fields.reserved_blocks_count.get());
        StatFs {
            block_size: self.superblock.block_size as u32,
            blocks: self.superblock.blocks_count,
            free_blocks,
            available_blocks: free_blocks.saturating_sub(reserved),
            inodes: u64::from(self.superblock.inodes_count),
            free_inodes,
            name_max: MAX_NAME as u32,
            read_only: self.read_only.is_some(),
        }
    }

    /// Makes everything written to inode `number` durable (the whole file
    /// system is synced; there is no journal to be finer with).
    pub fn fsync(&mut self, number: InodeNumber) -> Result<()> {
        self.live_inode(number)?;
        self.sync()
    }
}

/// A device number from the first two block pointers (see `set_device`).
fn decode_device(old: u32, new: u32) -> (u32, u32) {
    if old != 0 {
        return ((old >> 8) & 0xFF, old & 0xFF);
    }
    ((new >> 8) & 0xFFF, (new & 0xFF) | ((new >> 12) & 0xFFF00))
}
