//! Making names: files, device nodes, directories, symlinks, hard links.
//!
//! A new inode is written before the entry naming it, and freed again if
//! the entry cannot be added (a full disk), so a failed call changes
//! nothing. Names are 1 to 255 bytes without `/` or NUL, and never `.`
//! or `..`.

use alloc::vec::Vec;

use crate::device::BlockDevice;
use crate::directory_write::put_entry;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::inode::{FileKind, Inode, InodeNumber, MAX_LINKS};
use crate::layout::MAX_NAME;
use crate::readdir::check_name_length;

/// Who owns a new inode, and its permission bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Permission bits (`0o7777`: setuid, setgid, sticky, rwx for three).
    pub mode: u16,
    /// The owner.
    pub uid: u32,
    /// The group.
    pub gid: u32,
}

/// Longest target kept in the inode itself (a fast symlink).
const FAST_SYMLINK_MAX: usize = 59;

/// Checks a name for a new entry.
pub(crate) fn check_new_name(name: &[u8]) -> Result<()> {
    check_name_length(name)?;
    if name.len() > MAX_NAME {
        return Err(Error::NameTooLong);
    }
    if name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0) {
        return Err(Error::InvalidArgument);
    }
    Ok(())
}

impl<D: BlockDevice> Fs<D> {
    /// The directory a name is to be added to: live, writable, the name
    /// not taken, and room for one more link if `subdirectory`.
    fn parent_for(&self, directory: InodeNumber, name: &[u8], subdirectory: bool) -> Result<Inode> {
        self.writable()?;
        check_new_name(name)?;
        let parent = self.directory(directory)?;
        if parent.fields.links_count.get() == 0 {
            return Err(Error::NotFound);
        }
        if subdirectory && parent.fields.links_count.get() >= MAX_LINKS {
            return Err(Error::TooManyLinks);
        }
        if self.find_entry(&parent, name)?.is_some() {
            return Err(Error::Exists);
        }
        Ok(parent)
    }

    /// Allocates and initialises an inode of `kind` (not yet written).
    fn new_inode(&mut self, parent: &Inode, kind: FileKind, access: Access) -> Result<Inode> {
        let directory = kind == FileKind::Directory;
        let number = self.allocate_inode(parent.number, directory)?;
        let generation = match self.read_inode(number) {
            Ok(old) => old.fields.generation.get().wrapping_add(1),
            Err(_) => 0,
        };
        let mut inode = Inode::empty(number, self.superblock.inode_size);
        let now = self.now();
        let fields = &mut inode.fields;
        fields.mode.set(kind.mode_bits() | (access.mode & 0o7777));
        fields.links_count.set(if directory { 2 } else { 1 });
        fields.generation.set(generation);
        for time in [&mut fields.atime, &mut fields.ctime, &mut fields.mtime] {
            time.set(now);
        }
        inode.set_owner(access.uid, access.gid);
        inode.set_extra(now);
        Ok(inode)
    }

    /// Names `inode` in `parent` and stamps the parent; undoes the inode
    /// if the entry cannot be added.
    fn attach(&mut self, parent: &mut Inode, name: &[u8], inode: &mut Inode) -> Result<()> {
        self.write_inode(inode)?;
        let kind = inode.kind().expect("a new inode has a kind");
        let file_type = self.entry_type(kind);
        if let Err(error) = self.add_entry(parent, name, inode.number, file_type) {
            self.release(inode)?;
            return Err(error);
        }
        let now = self.now();
        parent.fields.mtime.set(now);
        parent.fields.ctime.set(now);
        self.write_inode(parent)?;
        Ok(())
    }

    /// Creates an empty regular file `name` in `directory`.
    pub fn create(
        &mut self,
        directory: InodeNumber,
        name: &[u8],
        access: Access,
    ) -> Result<InodeNumber> {
        self.make_node(directory, name, FileKind::Regular, access, (0, 0))
    }

    /// Creates a node that is not a directory or symlink: a regular file,
    /// a named pipe, a socket, or a device with `(major, minor)`.
    pub fn make_node(
        &mut self,
        directory: InodeNumber,
        name: &[u8],
        kind: FileKind,
        access: Access,
        device: (u32, u32),
    ) -> Result<InodeNumber> {
        if matches!(kind, FileKind::Directory | FileKind::Symlink) {
            return Err(Error::InvalidArgument);
        }
        let mut parent = self.parent_for(directory, name, false)?;
        let mut inode = self.new_inode(&parent, kind, access)?;
        if matches!(kind, FileKind::CharacterDevice | FileKind::BlockDevice) {
            set_device(&mut inode, device);
        }
        self.attach(&mut parent, name, &mut inode)?;
        Ok(inode.number)
    }

    /// Creates directory `name` in `directory`, with `.` and `..`.
    pub fn mkdir(
        &mut self,
        directory: InodeNumber,
        name: &[u8],
        access: Access,
    ) -> Result<InodeNumber> {
        let mut parent = self.parent_for(directory, name, true)?;
        let mut inode = self.new_inode(&parent, FileKind::Directory, access)?;
        let goal = self.goal_for(&inode);
        let block = match self.allocate_block(goal) {
            Ok(block) => block,
            Err(error) => {
                self.free_inode(inode.number, true)?;
                return Err(error);
            }
        };
        let mut buf = self.disk.buffer();
        put_entry(
            &mut buf,
            0,
            12,
            inode.number,
            b".",
            self.entry_type(FileKind::Directory),
        );
        let rest = buf.len() - 12;
        put_entry(
            &mut buf,
            12,
            rest,
            parent.number,
            b"..",
            self.entry_type(FileKind::Directory),
        );
        self.disk.write(block, &buf)?;
        inode.fields.block[0].set(block as u32);
        inode.set_size(self.superblock.block_size as u64);
        self.add_sectors(&mut inode, 1)?;
        self.attach(&mut parent, name, &mut inode)?;
        let links = parent.fields.links_count.get() + 1;
        parent.fields.links_count.set(links);
        self.write_inode(&mut parent)?;
        Ok(inode.number)
    }

    /// Creates symlink `name` in `directory` pointing to `target`: in the
    /// inode if under 60 bytes, else in one block.
    pub fn symlink(
        &mut self,
        directory: InodeNumber,
        name: &[u8],
        target: &[u8],
        access: Access,
    ) -> Result<InodeNumber> {
        if target.is_empty() {
            return Err(Error::NotFound);
        }
        if target.contains(&0) {
            return Err(Error::InvalidArgument);
        }
        if target.len() >= self.superblock.block_size {
            return Err(Error::NameTooLong);
        }
        let mut parent = self.parent_for(directory, name, false)?;
        let access = Access {
            mode: 0o777,
            ..access
        };
        let mut inode = self.new_inode(&parent, FileKind::Symlink, access)?;
        inode.set_size(target.len() as u64);
        if target.len() <= FAST_SYMLINK_MAX {
            inode.set_pointer_bytes(target);
        } else {
            let goal = self.goal_for(&inode);
            let block = match self.allocate_block(goal) {
                Ok(block) => block,
                Err(error) => {
                    self.free_inode(inode.number, false)?;
                    return Err(error);
                }
            };
            let mut buf = self.disk.buffer();
            buf[..target.len()].copy_from_slice(target);
            self.disk.write(block, &buf)?;
            inode.fields.block[0].set(block as u32);
            self.add_sectors(&mut inode, 1)?;
        }
        self.attach(&mut parent, name, &mut inode)?;
        Ok(inode.number)
    }

    /// The target of symlink `number`.
    pub fn readlink(&self, number: InodeNumber) -> Result<Vec<u8>> {
        let inode = self.live_inode(number)?;
        if inode.kind() != Some(FileKind::Symlink) {
            return Err(Error::InvalidArgument);
        }
        let size = inode.size() as usize;
        if size >= self.superblock.block_size {
            return Err(Error::Corrupt("symlink longer than a block"));
        }
        if inode.is_fast_symlink(self.superblock.block_size) {
            let bytes = inode.pointer_bytes();
            let target = bytes
                .get(..size)
                .ok_or(Error::Corrupt("fast symlink too long"))?;
            return Ok(target.to_vec());
        }
        let mut target = alloc::vec![0; size];
        let read = self.read_contents(&inode, 0, &mut target)?;
        target.truncate(read);
        Ok(target)
    }

    /// Adds the name `name` in `directory` for `number` (a hard link).
    pub fn link(&mut self, number: InodeNumber, directory: InodeNumber, name: &[u8]) -> Result<()> {
        let mut parent = self.parent_for(directory, name, false)?;
        let mut inode = self.live_inode(number)?;
        if inode.is_directory() {
            return Err(Error::NotPermitted);
        }
        let links = inode.fields.links_count.get();
        if links >= MAX_LINKS {
            return Err(Error::TooManyLinks);
        }
        let kind = inode.kind().expect("a live inode has a kind");
        self.add_entry(&mut parent, name, number, self.entry_type(kind))?;
        inode.fields.links_count.set(links + 1);
        inode.fields.ctime.set(self.now());
        self.write_inode(&mut inode)?;
        let now = self.now();
        parent.fields.mtime.set(now);
        parent.fields.ctime.set(now);
        self.write_inode(&mut parent)?;
        Ok(())
    }
}

/// Stores a device number as Linux does: the old 8:8 encoding in the
/// first pointer when it fits, else the new one in the second.
fn set_device(inode: &mut Inode, (major, minor): (u32, u32)) {
    if major < 256 && minor < 256 {
        inode.fields.block[0].set(major << 8 | minor);
    } else {
        let encoded = (minor & 0xFF) | (major & 0xFFF) << 8 | (minor & !0xFF) << 12;
        inode.fields.block[1].set(encoded);
    }
}
