//! The namespace calls: stat, lstat, mkdir, rmdir, unlink, rename, link,
//! symlink, readlink, truncate, statvfs.
//!
//! The POSIX rules that do not depend on the file system are checked here
//! (see [`crate::filesystem`] for what is left to it): a final `.` or
//! `..`, a mount point in the way (EBUSY), a rename or link across
//! mounts (EXDEV), a directory moved below itself (EINVAL), a rename
//! between a directory and a non-directory (EISDIR, ENOTDIR), a rename
//! onto the same node (nothing to do).

use alloc::vec::Vec;

use base::Context;

use crate::calls::truncate_location;
use crate::errno::Errno;
use crate::file::Stat;
use crate::filesystem::{NodeKind, StatVfs};
use crate::lookup::{Parent, check_path};
use crate::mount::Location;
use crate::vfs::Vfs;

/// Whether `name` is the root's empty name, `.` or `..`.
fn is_dot(name: &[u8]) -> bool {
    matches!(name, b"" | b"." | b"..")
}

impl Vfs {
    /// `path`'s attributes, its last link followed.
    ///
    /// # Errors
    /// Lookup errors.
    pub fn stat(&self, context: &Context<'_>, path: &str) -> Result<Stat, Errno> {
        let location = self.resolve(context, path.as_bytes(), true)?;
        self.stat_location(context, &location)
    }

    /// `path`'s attributes, of the link itself if it is one.
    ///
    /// # Errors
    /// Lookup errors.
    pub fn lstat(&self, context: &Context<'_>, path: &str) -> Result<Stat, Errno> {
        let location = self.resolve(context, path.as_bytes(), false)?;
        self.stat_location(context, &location)
    }

    /// Makes the directory `path`.
    ///
    /// # Errors
    /// [`Errno::Exists`], [`Errno::NotFound`] (no parent),
    /// [`Errno::ReadOnly`], [`Errno::NoSpace`].
    pub fn mkdir(&self, context: &Context<'_>, path: &str, permissions: u16) -> Result<(), Errno> {
        let parent = self.new_name(context, path.as_bytes())?;
        let directory = &parent.directory;
        let fs = directory.fs();
        fs.mkdir(context, directory.node, &parent.name, permissions & 0o7777)?;
        Ok(())
    }

    /// Makes a symbolic link `path` pointing at `target`.
    ///
    /// # Errors
    /// As [`Vfs::mkdir`]; [`Errno::NotFound`] for an empty target.
    pub fn symlink(&self, context: &Context<'_>, target: &str, path: &str) -> Result<(), Errno> {
        check_path(target.as_bytes())?;
        let parent = self.new_name(context, path.as_bytes())?;
        if parent.trailing_slash {
            return Err(Errno::NotFound);
        }
        let directory = &parent.directory;
        let fs = directory.fs();
        fs.symlink(context, directory.node, &parent.name, target.as_bytes())?;
        Ok(())
    }

    /// Adds the name `path` for the file `existing` (not followed if a
    /// link, as Linux does).
    ///
    /// # Errors
    /// [`Errno::NotPermitted`] for a directory, [`Errno::CrossDevice`],
    /// [`Errno::Exists`].
    pub fn link(&self, context: &Context<'_>, existing: &str, path: &str) -> Result<(), Errno> {
        let source = self.resolve(context, existing.as_bytes(), false)?;
        if source.kind(context)? == NodeKind::Directory {
            return Err(Errno::NotPermitted);
        }
        let parent = self.new_name(context, path.as_bytes())?;
        if parent.trailing_slash {
            return Err(Errno::NotFound);
        }
        let directory = &parent.directory;
        if directory.mount.id() != source.mount.id() {
            return Err(Errno::CrossDevice);
        }
        directory
            .fs()
            .link(context, source.node, directory.node, &parent.name)
    }

    /// The parent of a name about to be made: it must not exist.
    fn new_name(&self, context: &Context<'_>, path: &[u8]) -> Result<Parent, Errno> {
        let parent = self.resolve_parent(context, path)?;
        if is_dot(&parent.name) {
            return Err(Errno::Exists);
        }
        match self.child(context, &parent.directory, &parent.name) {
            Ok(_) => return Err(Errno::Exists),
            Err(Errno::NotFound) => {}
            Err(error) => return Err(error),
        }
        parent.directory.mount.writable()?;
        Ok(parent)
    }

    /// Removes the empty directory `path`.
    ///
    /// # Errors
    /// [`Errno::NotEmpty`], [`Errno::NotDirectory`], [`Errno::Busy`] (a
    /// mount point or the root), [`Errno::InvalidArgument`] (`.`).
    pub fn rmdir(&self, context: &Context<'_>, path: &str) -> Result<(), Errno> {
        let parent = self.resolve_parent(context, path.as_bytes())?;
        match parent.name.as_slice() {
            b"" => return Err(Errno::Busy),
            b"." => return Err(Errno::InvalidArgument),
            b".." => return Err(Errno::NotEmpty),
            _ => {}
        }
        let target = self.existing(context, &parent)?;
        if target.kind(context)? != NodeKind::Directory {
            return Err(Errno::NotDirectory);
        }
        parent.directory.mount.writable()?;
        let directory = &parent.directory;
        directory.fs().rmdir(context, directory.node, &parent.name)
    }

    /// Removes the name `path` of a non-directory.
    ///
    /// # Errors
    /// [`Errno::IsDirectory`], [`Errno::NotFound`], [`Errno::ReadOnly`].
    pub fn unlink(&self, context: &Context<'_>, path: &str) -> Result<(), Errno> {
        let parent = self.resolve_parent(context, path.as_bytes())?;
        if is_dot(&parent.name) {
            return Err(Errno::IsDirectory);
        }
        let target = self.existing(context, &parent)?;
        match target.kind(context)? {
            NodeKind::Directory => return Err(Errno::IsDirectory),
            _ if parent.trailing_slash => return Err(Errno::NotDirectory),
            _ => {}
        }
        parent.directory.mount.writable()?;
        let directory = &parent.directory;
        directory.fs().unlink(context, directory.node, &parent.name)
    }

    /// The node a parent's name stands for, as the file system has it (a
    /// mount point answers EBUSY: it cannot be removed or replaced).
    fn existing(&self, context: &Context<'_>, parent: &Parent) -> Result<Location, Errno> {
        let directory = &parent.directory;
        let node = directory
            .fs()
            .lookup(context, directory.node, &parent.name)?;
        let location = Location {
            mount: directory.mount.clone(),
            node,
        };
        if self.is_covered(&location) {
            return Err(Errno::Busy);
        }
        Ok(location)
    }

    /// Moves `from` to `to`, replacing a file there, or an empty directory
    /// with a directory.
    ///
    /// # Errors
    /// [`Errno::CrossDevice`], [`Errno::InvalidArgument`] (a directory
    /// into itself), [`Errno::IsDirectory`], [`Errno::NotDirectory`],
    /// [`Errno::NotEmpty`], [`Errno::Busy`], [`Errno::NotFound`].
    pub fn rename(&self, context: &Context<'_>, from: &str, to: &str) -> Result<(), Errno> {
        let source = self.resolve_parent(context, from.as_bytes())?;
        let target = self.resolve_parent(context, to.as_bytes())?;
        if is_dot(&source.name) || is_dot(&target.name) {
            return Err(if source.name.is_empty() || target.name.is_empty() {
                Errno::Busy
            } else {
                Errno::InvalidArgument
            });
        }
        let moving = self.existing(context, &source)?;
        let moving_kind = moving.kind(context)?;
        if moving_kind != NodeKind::Directory && (source.trailing_slash || target.trailing_slash) {
            return Err(Errno::NotDirectory);
        }
        if source.directory.mount.id() != target.directory.mount.id() {
            return Err(Errno::CrossDevice);
        }
        match self.existing(context, &target) {
            Ok(replaced) if replaced.same(&moving) => return Ok(()),
            Ok(replaced) => check_replace(context, moving_kind, &replaced)?,
            Err(Errno::NotFound) => {}
            Err(error) => return Err(error),
        }
        if moving_kind == NodeKind::Directory {
            self.check_not_below(context, &moving, &target.directory)?;
        }
        source.directory.mount.writable()?;
        let fs = source.directory.fs();
        let (from_directory, to_directory) = (source.directory.node, target.directory.node);
        fs.rename(
            context,
            from_directory,
            &source.name,
            to_directory,
            &target.name,
        )
    }

    /// EINVAL if `directory` is `moving` or below it.
    fn check_not_below(
        &self,
        context: &Context<'_>,
        moving: &Location,
        directory: &Location,
    ) -> Result<(), Errno> {
        let fs = directory.fs();
        let mut at = directory.node;
        loop {
            if at == moving.node {
                return Err(Errno::InvalidArgument);
            }
            if at == fs.root() {
                return Ok(());
            }
            at = fs.lookup(context, at, b"..")?;
        }
    }

    /// The target of the symbolic link `path`.
    ///
    /// # Errors
    /// [`Errno::InvalidArgument`] when `path` is not a link.
    pub fn readlink(&self, context: &Context<'_>, path: &str) -> Result<Vec<u8>, Errno> {
        let location = self.resolve(context, path.as_bytes(), false)?;
        if location.kind(context)? != NodeKind::Symlink {
            return Err(Errno::InvalidArgument);
        }
        location.fs().readlink(context, location.node)
    }

    /// Cuts or extends the file `path` to `size` bytes.
    ///
    /// # Errors
    /// [`Errno::IsDirectory`], [`Errno::ReadOnly`], [`Errno::NoSpace`].
    pub fn truncate(&self, context: &Context<'_>, path: &str, size: u64) -> Result<(), Errno> {
        let location = self.resolve(context, path.as_bytes(), true)?;
        if location.kind(context)? == NodeKind::Directory {
            return Err(Errno::IsDirectory);
        }
        location.mount.writable()?;
        truncate_location(context, &location, size)
    }

    /// The space of the file system holding `path`.
    ///
    /// # Errors
    /// Lookup errors.
    pub fn statvfs(&self, context: &Context<'_>, path: &str) -> Result<StatVfs, Errno> {
        let location = self.resolve(context, path.as_bytes(), true)?;
        let mut answer = location.fs().statvfs(context)?;
        answer.read_only |= location.mount.read_only();
        Ok(answer)
    }
}

/// EISDIR or ENOTDIR when `moving` may not replace `replaced`.
fn check_replace(
    context: &Context<'_>,
    moving: NodeKind,
    replaced: &Location,
) -> Result<(), Errno> {
    let replaced = replaced.kind(context)?;
    match (
        moving == NodeKind::Directory,
        replaced == NodeKind::Directory,
    ) {
        (true, false) => Err(Errno::NotDirectory),
        (false, true) => Err(Errno::IsDirectory),
        _ => Ok(()),
    }
}
