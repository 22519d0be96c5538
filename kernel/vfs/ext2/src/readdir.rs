//! Looking names up and listing directories with a resumable cookie.
//!
//! A cookie is the byte offset in the directory of the next entry to
//! return. Entries never move while they exist (removal merges a record
//! into the one before it), so a cookie stays valid across changes; one
//! that lands inside a merged record resumes at the next entry after it.

use crate::blockmap::BlockMap;
use crate::device::BlockDevice;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::inode::{FileKind, Inode, InodeNumber};

/// One entry handed to a [`Fs::readdir`] callback.
#[derive(Clone, Copy, Debug)]
pub struct DirEntry<'a> {
    /// The inode the name points to.
    pub inode: InodeNumber,
    /// The name (no `/`, no NUL, 1 to 255 bytes).
    pub name: &'a [u8],
    /// The kind, from the entry's file type when the file system records
    /// it (`filetype`), else `None`: ask [`Fs::getattr`].
    pub kind: Option<FileKind>,
    /// The cookie that resumes after this entry.
    pub next_cookie: u64,
}

impl<D: BlockDevice> Fs<D> {
    /// A directory's inode (`NotDirectory` if it is something else).
    pub(crate) fn directory(&self, number: InodeNumber) -> Result<Inode> {
        let inode = self.live_inode(number)?;
        if !inode.is_directory() {
            return Err(Error::NotDirectory);
        }
        Ok(inode)
    }

    /// The inode `name` names in directory `directory`. `.` and `..` are
    /// the entries on disk.
    pub fn lookup(&self, directory: InodeNumber, name: &[u8]) -> Result<InodeNumber> {
        let inode = self.directory(directory)?;
        check_name_length(name)?;
        match self.find_entry(&inode, name)? {
            Some(found) => Ok(found.entry.inode),
            None => Err(Error::NotFound),
        }
    }

    /// Lists `directory` from `cookie` (0: the start), handing each entry
    /// to `take` until it returns `false` (that entry was not taken).
    /// Returns the cookie to resume from; at the end, the directory's size.
    pub fn readdir(
        &self,
        directory: InodeNumber,
        cookie: u64,
        mut take: impl FnMut(&DirEntry<'_>) -> bool,
    ) -> Result<u64> {
        let inode = self.directory(directory)?;
        let block_size = self.superblock.block_size as u64;
        let blocks = self.directory_blocks(&inode)?;
        let mut map = BlockMap::default();
        let mut buf = self.disk.buffer();
        for logical in cookie / block_size..blocks {
            let base = logical * block_size;
            self.read_directory_block(&inode, &mut map, logical, &mut buf)?;
            for entry in self.entries(&buf)? {
                let offset = base + entry.offset as u64;
                if offset < cookie || entry.inode == 0 {
                    continue;
                }
                let item = DirEntry {
                    inode: entry.inode,
                    name: entry.name(&buf),
                    kind: FileKind::from_entry_type(entry.file_type),
                    next_cookie: offset + entry.record_length as u64,
                };
                if !take(&item) {
                    return Ok(offset);
                }
            }
        }
        Ok(blocks * block_size)
    }
}

/// Names are 1 to 255 bytes.
pub(crate) fn check_name_length(name: &[u8]) -> Result<()> {
    if name.is_empty() {
        return Err(Error::NotFound);
    }
    if name.len() > crate::layout::MAX_NAME {
        return Err(Error::NameTooLong);
    }
    Ok(())
}
