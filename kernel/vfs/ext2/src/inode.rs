//! Inodes: the in-memory copy, its file kind and size, and where it lives
//! in its group's inode table.
//!
//! An inode keeps all `inode_size` bytes it was read with, so that fields
//! we do not interpret (extended attributes in the inode, the extra time
//! fields) go back to disk unchanged.

use alloc::vec::Vec;

use zerocopy::{FromBytes, IntoBytes};

use crate::device::BlockDevice;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::layout::{GOOD_OLD_INODE_SIZE, RawInode};

/// An inode number (1-based; 2 is the root directory).
pub type InodeNumber = u32;

/// Inode flag: the directory carries an htree index (`dir_index`).
pub const INDEX_FLAG: u32 = 0x1000;
/// The highest link count of an ext2 inode.
pub const MAX_LINKS: u16 = 32000;

/// What an inode is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharacterDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A Unix-domain socket.
    Socket,
}

impl FileKind {
    /// The kind in the `S_IFMT` bits of `mode`, if valid.
    pub fn from_mode(mode: u16) -> Option<Self> {
        Some(match mode & 0xF000 {
            0x1000 => Self::Fifo,
            0x2000 => Self::CharacterDevice,
            0x4000 => Self::Directory,
            0x6000 => Self::BlockDevice,
            0x8000 => Self::Regular,
            0xA000 => Self::Symlink,
            0xC000 => Self::Socket,
            _ => return None,
        })
    }

    /// The `S_IFMT` bits.
    pub fn mode_bits(self) -> u16 {
        match self {
            Self::Fifo => 0x1000,
            Self::CharacterDevice => 0x2000,
            Self::Directory => 0x4000,
            Self::BlockDevice => 0x6000,
            Self::Regular => 0x8000,
            Self::Symlink => 0xA000,
            Self::Socket => 0xC000,
        }
    }

    /// The file type of a directory entry (`filetype` feature).
    pub fn entry_type(self) -> u8 {
        match self {
            Self::Regular => 1,
            Self::Directory => 2,
            Self::CharacterDevice => 3,
            Self::BlockDevice => 4,
            Self::Fifo => 5,
            Self::Socket => 6,
            Self::Symlink => 7,
        }
    }

    /// The kind a directory entry's file type names, if any.
    pub fn from_entry_type(value: u8) -> Option<Self> {
        Some(match value {
            1 => Self::Regular,
            2 => Self::Directory,
            3 => Self::CharacterDevice,
            4 => Self::BlockDevice,
            5 => Self::Fifo,
            6 => Self::Socket,
            7 => Self::Symlink,
            _ => return None,
        })
    }
}

/// An inode as read from its table.
#[derive(Clone, Debug)]
pub(crate) struct Inode {
    pub number: InodeNumber,
    /// All `inode_size` bytes; `fields` are written over the first 128.
    raw: Vec<u8>,
    pub fields: RawInode,
}

impl Inode {
    fn parse(number: InodeNumber, bytes: &[u8]) -> Result<Self> {
        let (fields, _) =
            RawInode::read_from_prefix(bytes).map_err(|_| Error::Corrupt("short inode"))?;
        Ok(Self {
            number,
            raw: bytes.to_vec(),
            fields,
        })
    }

    /// A zeroed inode `number` of `size` bytes.
    pub fn empty(number: InodeNumber, size: usize) -> Self {
        let raw = alloc::vec![0; size];
        let (fields, _) = RawInode::read_from_prefix(&raw).expect("an inode is 128 bytes or more");
        Self {
            number,
            raw,
            fields,
        }
    }

    /// The kind, or `None` for a mode without a valid type.
    pub fn kind(&self) -> Option<FileKind> {
        FileKind::from_mode(self.fields.mode.get())
    }

    /// Whether this is a directory.
    pub fn is_directory(&self) -> bool {
        self.kind() == Some(FileKind::Directory)
    }

    /// The size in bytes (`i_size_high` counts for regular files only).
    pub fn size(&self) -> u64 {
        let low = u64::from(self.fields.size.get());
        match self.kind() {
            Some(FileKind::Regular) => low | u64::from(self.fields.size_high.get()) << 32,
            _ => low,
        }
    }

    /// Sets the size; the caller checked it fits this kind of inode.
    pub fn set_size(&mut self, size: u64) {
        self.fields.size.set(size as u32);
        if self.kind() == Some(FileKind::Regular) {
            self.fields.size_high.set((size >> 32) as u32);
        }
    }

    /// The owner's user id (16 low bits and 16 high bits).
    pub fn uid(&self) -> u32 {
        u32::from(self.fields.uid.get()) | u32::from(self.fields.uid_high.get()) << 16
    }

    /// The owner's group id.
    pub fn gid(&self) -> u32 {
        u32::from(self.fields.gid.get()) | u32::from(self.fields.gid_high.get()) << 16
    }

    /// Sets the owner.
    pub fn set_owner(&mut self, uid: u32, gid: u32) {
        self.fields.uid.set(uid as u16);
        self.fields.uid_high.set((uid >> 16) as u16);
        self.fields.gid.set(gid as u16);
        self.fields.gid_high.set((gid >> 16) as u16);
    }

    /// The 512-byte sectors of data and indirect blocks (without the
    /// extended-attribute block).
    pub fn data_sectors(&self, block_size: usize) -> u32 {
        let attributes = if self.fields.file_acl.get() != 0 {
            (block_size / 512) as u32
        } else {
            0
        };
        self.fields.blocks.get().saturating_sub(attributes)
    }

    /// Whether this is a symlink with its target in the block pointers.
    pub fn is_fast_symlink(&self, block_size: usize) -> bool {
        self.kind() == Some(FileKind::Symlink) && self.data_sectors(block_size) == 0
    }

    /// The bytes of the 15 block pointers (a fast symlink's target).
    pub fn pointer_bytes(&self) -> &[u8] {
        self.fields.block.as_bytes()
    }

    /// Writes a fast symlink's target (at most 60 bytes) into the pointers.
    pub fn set_pointer_bytes(&mut self, target: &[u8]) {
        let mut bytes = [0u8; 60];
        bytes[..target.len()].copy_from_slice(target);
        self.fields.block = FromBytes::read_from_bytes(&bytes[..]).expect("60 bytes");
    }

    /// The extra-fields area of a large inode: its size and the creation
    /// time, set as libext2fs sets them for new inodes.
    pub fn set_extra(&mut self, now: u32) {
        if self.raw.len() >= GOOD_OLD_INODE_SIZE + 32 {
            self.raw[128..130].copy_from_slice(&32u16.to_le_bytes());
            self.raw[144..148].copy_from_slice(&now.to_le_bytes());
        }
    }

    fn to_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn sync_raw(&mut self) {
        self.raw[..GOOD_OLD_INODE_SIZE].copy_from_slice(self.fields.as_bytes());
    }
}

impl<D: BlockDevice> Fs<D> {
    /// The table block and byte offset of inode `number`.
    fn inode_location(&self, number: InodeNumber) -> Result<(u64, usize)> {
        let superblock = &self.superblock;
        if number == 0 || number > superblock.inodes_count {
            return Err(Error::InvalidArgument);
        }
        let index = number - 1;
        let group = index / superblock.inodes_per_group;
        let within = u64::from(index % superblock.inodes_per_group);
        let byte = within * superblock.inode_size as u64;
        let table = u64::from(self.groups.get(group).inode_table.get());
        let block_size = superblock.block_size as u64;
        Ok((table + byte / block_size, (byte % block_size) as usize))
    }

    /// Reads inode `number`, whatever its state.
    pub(crate) fn read_inode(&self, number: InodeNumber) -> Result<Inode> {
        let (block, offset) = self.inode_location(number)?;
        let mut raw = alloc::vec![0; self.superblock.inode_size];
        self.disk.read_part(block, offset, &mut raw)?;
        Inode::parse(number, &raw)
    }

    /// Reads inode `number`, which must be in use (else `NotFound`).
    pub(crate) fn live_inode(&self, number: InodeNumber) -> Result<Inode> {
        let inode = self.read_inode(number)?;
        let pinned = self.pinned.contains_key(&number);
        if inode.kind().is_none() || (inode.fields.links_count.get() == 0 && !pinned) {
            return Err(Error::NotFound);
        }
        Ok(inode)
    }

    /// Writes `inode` back to its table.
    pub(crate) fn write_inode(&mut self, inode: &mut Inode) -> Result<()> {
        inode.sync_raw();
        let (block, offset) = self.inode_location(inode.number)?;
        self.disk.write_part(block, offset, inode.to_bytes())?;
        Ok(())
    }

    /// The group inode `number` belongs to.
    pub(crate) fn inode_group(&self, number: InodeNumber) -> u32 {
        (number.max(1) - 1) / self.superblock.inodes_per_group
    }
}
