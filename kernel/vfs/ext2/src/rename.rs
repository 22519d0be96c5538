//! Rename with POSIX semantics, replacing an existing target.
//!
//! Order: the new name is added (or the existing one repointed, which is
//! atomic on disk), then the old name removed, then link counts and the
//! moved directory's `..` fixed, then the replaced inode dropped. A full
//! disk fails the first step, before anything changed. Parents are read
//! again before each change, since source and target may be one inode.

use crate::device::BlockDevice;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::inode::{FileKind, Inode, InodeNumber, MAX_LINKS};
use crate::layout::ROOT_INODE;

/// The most `..` steps from a directory up to the root.
const MAX_DEPTH: u32 = 65_536;

impl<D: BlockDevice> Fs<D> {
    /// Renames `from_name` in `from_directory` to `to_name` in
    /// `to_directory`, replacing what `to_name` named: a file by anything
    /// but a directory, an empty directory by a directory. Renaming a
    /// name onto another link of the same inode does nothing.
    pub fn rename(
        &mut self,
        from_directory: InodeNumber,
        from_name: &[u8],
        to_directory: InodeNumber,
        to_name: &[u8],
    ) -> Result<()> {
        self.writable()?;
        if matches!(from_name, b"." | b"..") {
            return Err(Error::InvalidArgument);
        }
        crate::create::check_new_name(to_name)?;
        let source = self.directory(from_directory)?;
        let found = self
            .find_entry(&source, from_name)?
            .ok_or(Error::NotFound)?;
        let moving = self.read_inode(found.entry.inode)?;
        let target = self.directory(to_directory)?;
        if target.fields.links_count.get() == 0 {
            return Err(Error::NotFound);
        }
        let existing = self.find_entry(&target, to_name)?;
        if existing.is_some_and(|e| e.entry.inode == moving.number) {
            return Ok(());
        }
        let moves_directory = moving.is_directory() && from_directory != to_directory;
        if moves_directory {
            self.check_not_inside(moving.number, to_directory)?;
        }
        let victim = match existing {
            Some(found) => Some(self.check_victim(&moving, found.entry.inode)?),
            None if moves_directory && target.fields.links_count.get() >= MAX_LINKS => {
                return Err(Error::TooManyLinks);
            }
            None => None,
        };
        let kind = moving
            .kind()
            .ok_or(Error::Corrupt("inode without a type"))?;
        let file_type = self.entry_type(kind);
        let mut target = target;
        match existing {
            Some(found) => self.repoint_entry(&mut target, &found, moving.number, file_type)?,
            None => self.add_entry(&mut target, to_name, moving.number, file_type)?,
        }
        let mut source = self.directory(from_directory)?;
        let old = self.find_entry(&source, from_name)?;
        let old = old.filter(|f| f.entry.inode == moving.number);
        self.remove_entry(
            &mut source,
            &old.ok_or(Error::Corrupt("renamed entry vanished"))?,
        )?;
        self.finish_rename(moving, from_directory, to_directory, victim)?;
        Ok(())
    }

    /// The inode a rename replaces, if the replacement is allowed.
    fn check_victim(&self, moving: &Inode, number: InodeNumber) -> Result<Inode> {
        let victim = self.read_inode(number)?;
        match (moving.is_directory(), victim.is_directory()) {
            (true, false) => Err(Error::NotDirectory),
            (false, true) => Err(Error::IsDirectory),
            (true, true) if !self.is_empty_directory(&victim)? => Err(Error::NotEmpty),
            _ => Ok(victim),
        }
    }

    /// Fails if `directory` is `moving` or lies under it.
    fn check_not_inside(&self, moving: InodeNumber, directory: InodeNumber) -> Result<()> {
        let mut current = directory;
        for _ in 0..MAX_DEPTH.min(self.superblock.inodes_count) {
            if current == moving {
                return Err(Error::InvalidArgument);
            }
            if current == ROOT_INODE {
                return Ok(());
            }
            current = self.lookup(current, b"..")?;
        }
        Err(Error::Loop)
    }

    /// Link counts, times, the moved directory's `..`, the replaced inode.
    fn finish_rename(
        &mut self,
        mut moving: Inode,
        from_directory: InodeNumber,
        to_directory: InodeNumber,
        victim: Option<Inode>,
    ) -> Result<()> {
        let moved_directory = moving.is_directory() && from_directory != to_directory;
        if moved_directory {
            let dotdot = self.find_entry(&moving, b"..")?;
            let dotdot = dotdot.ok_or(Error::Corrupt("directory without .."))?;
            let file_type = self.entry_type(FileKind::Directory);
            self.repoint_entry(&mut moving, &dotdot, to_directory, file_type)?;
            moving = self.read_inode(moving.number)?;
        }
        moving.fields.ctime.set(self.now());
        self.write_inode(&mut moving)?;
        let victim_is_directory = victim.as_ref().is_some_and(Inode::is_directory);
        let source_delta = -i32::from(moved_directory);
        let target_delta = i32::from(moved_directory) - i32::from(victim_is_directory);
        self.adjust_directory(from_directory, source_delta)?;
        if to_directory != from_directory {
            self.adjust_directory(to_directory, target_delta)?;
        } else {
            self.adjust_directory(to_directory, -i32::from(victim_is_directory))?;
        }
        match victim {
            Some(mut victim) if victim.is_directory() => self.drop_directory(&mut victim),
            Some(mut victim) => self.drop_link(&mut victim),
            None => Ok(()),
        }
    }

    /// Changes a directory's link count by `delta` and stamps it.
    fn adjust_directory(&mut self, number: InodeNumber, delta: i32) -> Result<()> {
        let mut directory = self.read_inode(number)?;
        let links = i32::from(directory.fields.links_count.get()) + delta;
        directory
            .fields
            .links_count
            .set(links.clamp(0, i32::from(MAX_LINKS)) as u16);
        self.stamp_changed(&mut directory)
    }

    /// Takes one link from a non-directory, freeing it with its last.
    pub(crate) fn drop_link(&mut self, inode: &mut Inode) -> Result<()> {
        let links = inode.fields.links_count.get().saturating_sub(1);
        inode.fields.links_count.set(links);
        inode.fields.ctime.set(self.now());
        self.write_inode(inode)?;
        if links == 0 && !self.pinned.contains_key(&inode.number) {
            self.release(inode)?;
        }
        Ok(())
    }
}
