//! Directory blocks: checked entries, and finding a name in a directory.
//!
//! A directory is a whole number of blocks without holes, each a chain of
//! entries whose record lengths add up to the block. Every entry is
//! checked before it is used (Linux's `ext2_check_page` rules): a record
//! at least 12 bytes, 4-aligned, inside its block, long enough for its
//! name, naming an inode that exists. Walks are bounded by the
//! directory's size, which may not exceed the file system's blocks.
//!
//! Directories with an htree index (`dir_index`) read as linear: the
//! index lives in blocks that look like empty entries to a linear reader.

use alloc::vec::Vec;

use zerocopy::FromBytes;

use crate::blockmap::BlockMap;
use crate::device::BlockDevice;
use crate::error::{Error, Result};
use crate::features::INCOMPAT_FILETYPE;
use crate::fs::Fs;
use crate::inode::{FileKind, Inode};
use crate::layout::{DIRECTORY_ENTRY_HEAD, RawDirectoryEntry, entry_length};

/// One checked entry of a directory block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Byte offset in its block.
    pub offset: usize,
    /// 0 for an unused record.
    pub inode: u32,
    pub record_length: usize,
    pub name_length: usize,
    pub file_type: u8,
}

impl Entry {
    /// The name's bytes in `block`.
    pub fn name<'a>(&self, block: &'a [u8]) -> &'a [u8] {
        let start = self.offset + DIRECTORY_ENTRY_HEAD;
        &block[start..start + self.name_length]
    }

    /// Bytes the entry needs (0 for an unused one, which may be reused).
    pub fn used_length(&self) -> usize {
        if self.inode == 0 {
            0
        } else {
            entry_length(self.name_length)
        }
    }
}

/// Parses and checks the entries of one directory block.
pub(crate) fn parse_block(block: &[u8], inodes_count: u32, filetype: bool) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < block.len() {
        let head = block.get(offset..offset + DIRECTORY_ENTRY_HEAD);
        let head = head.ok_or(Error::Corrupt("directory entry crosses its block"))?;
        let raw = RawDirectoryEntry::read_from_bytes(head).expect("8 bytes");
        let record_length = usize::from(raw.record_length.get());
        let mut name_length = usize::from(raw.name_length);
        if !filetype {
            name_length |= usize::from(raw.file_type) << 8;
        }
        let inode = raw.inode.get();
        if record_length < entry_length(1) || !record_length.is_multiple_of(4) {
            return Err(Error::Corrupt("directory entry with a bad record length"));
        }
        if offset + record_length > block.len() {
            return Err(Error::Corrupt("directory entry crosses its block"));
        }
        if entry_length(name_length) > record_length || (inode != 0 && name_length == 0) {
            return Err(Error::Corrupt("directory entry with a bad name length"));
        }
        if inode > inodes_count {
            return Err(Error::Corrupt("directory entry names a missing inode"));
        }
        let file_type = if filetype { raw.file_type } else { 0 };
        entries.push(Entry {
            offset,
            inode,
            record_length,
            name_length,
            file_type,
        });
        offset += record_length;
    }
    Ok(entries)
}

/// Where a name was found.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Found {
    /// The device block holding the entry.
    pub block: u64,
    pub entry: Entry,
    /// The entry before it in the same block, if any.
    pub previous: Option<Entry>,
}

impl<D: BlockDevice> Fs<D> {
    /// Whether directory entries carry file types.
    pub(crate) fn has_filetype(&self) -> bool {
        self.superblock.has_incompatible_feature(INCOMPAT_FILETYPE)
    }

    /// The directory's block count, checked against its size and the
    /// file system's size.
    pub(crate) fn directory_blocks(&self, directory: &Inode) -> Result<u64> {
        let size = directory.size();
        let block_size = self.superblock.block_size as u64;
        if size == 0 || !size.is_multiple_of(block_size) {
            return Err(Error::Corrupt("directory size is not whole blocks"));
        }
        let blocks = size / block_size;
        if blocks > self.superblock.blocks_count {
            return Err(Error::Corrupt("directory larger than the file system"));
        }
        Ok(blocks)
    }

    /// Reads directory block `logical` into `buf`; its device block.
    pub(crate) fn read_directory_block(
        &self,
        directory: &Inode,
        map: &mut BlockMap,
        logical: u64,
        buf: &mut [u8],
    ) -> Result<u64> {
        let block = self.map_block(directory, map, logical)?;
        let block = block.ok_or(Error::Corrupt("hole in a directory"))?;
        self.disk.read(block, buf)?;
        Ok(block)
    }

    /// The checked entries of `buf`.
    pub(crate) fn entries(&self, buf: &[u8]) -> Result<Vec<Entry>> {
        parse_block(buf, self.superblock.inodes_count, self.has_filetype())
    }

    /// Finds `name` in `directory`.
    pub(crate) fn find_entry(&self, directory: &Inode, name: &[u8]) -> Result<Option<Found>> {
        let mut map = BlockMap::default();
        let mut buf = self.disk.buffer();
        for logical in 0..self.directory_blocks(directory)? {
            let block = self.read_directory_block(directory, &mut map, logical, &mut buf)?;
            let mut previous = None;
            for entry in self.entries(&buf)? {
                if entry.inode != 0 && entry.name(&buf) == name {
                    return Ok(Some(Found {
                        block,
                        entry,
                        previous,
                    }));
                }
                previous = Some(entry);
            }
        }
        Ok(None)
    }

    /// Whether `directory` holds nothing but `.` and `..`.
    pub(crate) fn is_empty_directory(&self, directory: &Inode) -> Result<bool> {
        let mut map = BlockMap::default();
        let mut buf = self.disk.buffer();
        for logical in 0..self.directory_blocks(directory)? {
            self.read_directory_block(directory, &mut map, logical, &mut buf)?;
            for entry in self.entries(&buf)? {
                let name = entry.name(&buf);
                if entry.inode != 0 && name != b"." && name != b".." {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// The file type byte for a new entry of `kind`.
    pub(crate) fn entry_type(&self, kind: FileKind) -> u8 {
        if self.has_filetype() {
            kind.entry_type()
        } else {
            0
        }
    }
}
