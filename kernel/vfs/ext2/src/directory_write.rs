//! Changing directories: adding, removing and repointing entries.
//!
//! A new entry takes the first record with room (an unused one, or the
//! slack after a used one, which is split), else a new block appended to
//! the directory. Removing merges the record into the one before it in
//! its block, or marks the block's first record unused, as Linux does.
//!
//! Writing to a directory with an htree index clears its index flag: the
//! directory stays a valid linear one (the index blocks read as empty
//! records), which `e2fsck -fD` can index again. Nothing else would keep
//! the index consistent, since this driver does not hash names.

use zerocopy::IntoBytes;
use zerocopy::little_endian::{U16, U32};

use crate::blockmap::BlockMap;
use crate::device::BlockDevice;
use crate::directory::{Entry, Found};
use crate::error::Result;
use crate::fs::Fs;
use crate::inode::{INDEX_FLAG, Inode, InodeNumber};
use crate::layout::{DIRECTORY_ENTRY_HEAD, RawDirectoryEntry, entry_length};

/// Writes an entry at `offset` of `block`.
pub(crate) fn put_entry(
    block: &mut [u8],
    offset: usize,
    record_length: usize,
    inode: InodeNumber,
    name: &[u8],
    file_type: u8,
) {
    let head = RawDirectoryEntry {
        inode: U32::new(inode),
        record_length: U16::new(record_length as u16),
        name_length: name.len() as u8,
        file_type,
    };
    block[offset..offset + DIRECTORY_ENTRY_HEAD].copy_from_slice(head.as_bytes());
    let start = offset + DIRECTORY_ENTRY_HEAD;
    block[start..start + name.len()].copy_from_slice(name);
    let padding = offset + entry_length(name.len());
    block[start + name.len()..padding].fill(0);
}

impl<D: BlockDevice> Fs<D> {
    /// Clears the htree index flag before `directory` changes.
    fn drop_index(&mut self, directory: &mut Inode) -> Result<()> {
        let flags = directory.fields.flags.get();
        if flags & INDEX_FLAG != 0 {
            directory.fields.flags.set(flags & !INDEX_FLAG);
            self.write_inode(directory)?;
        }
        Ok(())
    }

    /// Adds `name` -> `inode` to `directory` (the caller checked that the
    /// name is new). May append a block, changing `directory`'s size.
    pub(crate) fn add_entry(
        &mut self,
        directory: &mut Inode,
        name: &[u8],
        inode: InodeNumber,
        file_type: u8,
    ) -> Result<()> {
        self.drop_index(directory)?;
        let needed = entry_length(name.len());
        let mut map = BlockMap::default();
        let mut buf = self.disk.buffer();
        let blocks = self.directory_blocks(directory)?;
        for logical in 0..blocks {
            let block = self.read_directory_block(directory, &mut map, logical, &mut buf)?;
            let entries = self.entries(&buf)?;
            let room = entries
                .iter()
                .find(|e| e.record_length - e.used_length() >= needed);
            if let Some(entry) = room {
                place(&mut buf, entry, name, inode, file_type);
                self.disk.write(block, &buf)?;
                return Ok(());
            }
        }
        let goal = self.goal_for(directory);
        let (block, _) = self.map_or_allocate(directory, &mut map, blocks, goal)?;
        self.flush_map(&mut map)?;
        buf.fill(0);
        let length = buf.len();
        put_entry(&mut buf, 0, length, inode, name, file_type);
        self.disk.write(block, &buf)?;
        let block_size = self.superblock.block_size as u64;
        directory.set_size((blocks + 1) * block_size);
        self.write_inode(directory)
    }

    /// Removes the entry `found` from `directory`.
    pub(crate) fn remove_entry(&mut self, directory: &mut Inode, found: &Found) -> Result<()> {
        self.drop_index(directory)?;
        let mut buf = self.disk.buffer();
        self.disk.read(found.block, &mut buf)?;
        match found.previous {
            Some(previous) => {
                let merged = previous.record_length + found.entry.record_length;
                let at = previous.offset + 4;
                buf[at..at + 2].copy_from_slice(&(merged as u16).to_le_bytes());
            }
            None => {
                let at = found.entry.offset;
                buf[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
            }
        }
        self.disk.write(found.block, &buf)?;
        Ok(())
    }

    /// Points the entry `found` at `inode` of type `file_type` instead.
    pub(crate) fn repoint_entry(
        &mut self,
        directory: &mut Inode,
        found: &Found,
        inode: InodeNumber,
        file_type: u8,
    ) -> Result<()> {
        self.drop_index(directory)?;
        let mut buf = self.disk.buffer();
        self.disk.read(found.block, &mut buf)?;
        let at = found.entry.offset;
        buf[at..at + 4].copy_from_slice(&inode.to_le_bytes());
        if self.has_filetype() {
            buf[at + 7] = file_type;
        }
        self.disk.write(found.block, &buf)?;
        Ok(())
    }
}

/// Puts the new entry in `entry`'s record: in place if it is unused,
/// else in the slack after it.
fn place(buf: &mut [u8], entry: &Entry, name: &[u8], inode: InodeNumber, file_type: u8) {
    if entry.inode == 0 {
        put_entry(
            buf,
            entry.offset,
            entry.record_length,
            inode,
            name,
            file_type,
        );
        return;
    }
    let used = entry.used_length();
    let at = entry.offset + 4;
    buf[at..at + 2].copy_from_slice(&(used as u16).to_le_bytes());
    let rest = entry.record_length - used;
    put_entry(buf, entry.offset + used, rest, inode, name, file_type);
}
