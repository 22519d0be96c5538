//! The file calls on descriptors: open, read, write, pread, pwrite,
//! lseek, close, fstat, readdir, ftruncate, fsync, dup.
//!
//! Descriptors live in the caller's process context
//! ([`Context::process`]), in the one table that holds whatever the
//! factions open. A descriptor that stands for something else (a socket)
//! gives [`Errno::NotAFile`]; `close` and `dup` take any descriptor.

use alloc::sync::Arc;
use alloc::vec::Vec;

use base::Context;
use base::descriptor::Fd;

use crate::errno::Errno;
use crate::file::{OpenFile, OpenFlags, Stat, Whence};
use crate::filesystem::{NodeKind, SetAttributes};
use crate::mount::Location;
use crate::vfs::Vfs;

/// The largest offset or size: what an `i64` offset holds.
const MAX_OFFSET: u64 = i64::MAX as u64;

/// One entry of a directory listing, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Its name.
    pub name: Vec<u8>,
    /// Its node's number.
    pub node: u64,
    /// What it is.
    pub kind: NodeKind,
}

impl Vfs {
    /// Opens `path` (see [`OpenFlags`]); `permissions` apply to a file
    /// made by O_CREAT.
    ///
    /// # Errors
    /// [`Errno::NotFound`], [`Errno::Exists`] (O_CREAT|O_EXCL),
    /// [`Errno::IsDirectory`] (a directory for writing),
    /// [`Errno::NotDirectory`] (O_DIRECTORY), [`Errno::Loop`],
    /// [`Errno::ReadOnly`], [`Errno::TooManyOpen`], …
    pub fn open(
        &self,
        context: &Context<'_>,
        path: &str,
        flags: OpenFlags,
        permissions: u16,
    ) -> Result<Fd, Errno> {
        let file = self.open_file(context, path, flags, permissions)?;
        Ok(context.process().open_descriptor(file)?)
    }

    /// Opens `path` as [`Vfs::open`] does, without a descriptor: for
    /// kernel services (NetBSD's `vn_open`). Dropping the file closes it.
    ///
    /// # Errors
    /// As [`Vfs::open`].
    pub fn open_file(
        &self,
        context: &Context<'_>,
        path: &str,
        flags: OpenFlags,
        permissions: u16,
    ) -> Result<Arc<OpenFile>, Errno> {
        if flags.access() == 3 {
            return Err(Errno::InvalidArgument);
        }
        let location = if flags.contains(OpenFlags::CREATE) {
            self.open_creating(context, path.as_bytes(), flags, permissions)?
        } else {
            let follow = !flags.contains(OpenFlags::NO_FOLLOW);
            self.resolve(context, path.as_bytes(), follow)?
        };
        self.open_location(context, location, flags)
    }

    fn open_creating(
        &self,
        context: &Context<'_>,
        path: &[u8],
        flags: OpenFlags,
        permissions: u16,
    ) -> Result<Location, Errno> {
        let parent = self.resolve_parent(context, path)?;
        if parent.name.is_empty() || parent.name == b"." || parent.name == b".." {
            return Err(Errno::IsDirectory);
        }
        match self.child(context, &parent.directory, &parent.name) {
            Ok(_) if flags.contains(OpenFlags::EXCLUSIVE) => Err(Errno::Exists),
            Ok(_) => self.resolve(context, path, !flags.contains(OpenFlags::NO_FOLLOW)),
            Err(Errno::NotFound) if parent.trailing_slash => Err(Errno::IsDirectory),
            Err(Errno::NotFound) => {
                let directory = parent.directory;
                directory.mount.writable()?;
                let node = directory.fs().create(
                    context,
                    directory.node,
                    &parent.name,
                    permissions & 0o7777,
                )?;
                Ok(Location {
                    mount: directory.mount,
                    node,
                })
            }
            Err(error) => Err(error),
        }
    }

    fn open_location(
        &self,
        context: &Context<'_>,
        location: Location,
        flags: OpenFlags,
    ) -> Result<Arc<OpenFile>, Errno> {
        let kind = location.kind(context)?;
        let writing = flags.access() != OpenFlags::READ_ONLY.0;
        let creating = flags.contains(OpenFlags::CREATE);
        match kind {
            NodeKind::Symlink => return Err(Errno::Loop),
            NodeKind::Directory if writing || creating => return Err(Errno::IsDirectory),
            NodeKind::File if flags.contains(OpenFlags::DIRECTORY) => {
                return Err(Errno::NotDirectory);
            }
            _ => {}
        }
        if writing || (flags.contains(OpenFlags::TRUNCATE) && kind == NodeKind::File) {
            location.mount.writable()?;
        }
        if writing && flags.contains(OpenFlags::TRUNCATE) && kind == NodeKind::File {
            let cut = SetAttributes {
                size: Some(0),
                ..SetAttributes::default()
            };
            location.fs().setattr(context, location.node, &cut)?;
        }
        Ok(OpenFile::open(location, kind, flags))
    }

    /// The open file behind `fd`.
    pub(crate) fn file(&self, context: &Context<'_>, fd: Fd) -> Result<Arc<OpenFile>, Errno> {
        Ok(context.process().descriptor::<OpenFile>(fd)?)
    }

    /// Reads at the descriptor's offset and moves it.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`] (not open for reading),
    /// [`Errno::IsDirectory`], [`Errno::Io`].
    pub fn read(&self, context: &Context<'_>, fd: Fd, buffer: &mut [u8]) -> Result<usize, Errno> {
        let file = self.readable(context, fd)?;
        let mut offset = file.offset.lock(context);
        let count = file
            .location
            .fs()
            .read_at(context, file.location.node, *offset, buffer)?;
        *offset += count as u64;
        Ok(count)
    }

    /// Reads at `offset`, leaving the descriptor's offset alone.
    ///
    /// # Errors
    /// As [`Vfs::read`]; [`Errno::InvalidArgument`] past the largest
    /// offset.
    pub fn pread(
        &self,
        context: &Context<'_>,
        fd: Fd,
        buffer: &mut [u8],
        offset: u64,
    ) -> Result<usize, Errno> {
        let file = self.file(context, fd)?;
        self.read_file_at(context, &file, buffer, offset)
    }

    /// Reads `file` (from [`Vfs::open_file`]) at `offset`.
    ///
    /// # Errors
    /// As [`Vfs::pread`].
    pub fn read_file_at(
        &self,
        context: &Context<'_>,
        file: &OpenFile,
        buffer: &mut [u8],
        offset: u64,
    ) -> Result<usize, Errno> {
        readable(file)?;
        if offset > MAX_OFFSET {
            return Err(Errno::InvalidArgument);
        }
        let node = file.location.node;
        file.location.fs().read_at(context, node, offset, buffer)
    }

    /// Writes `file` (from [`Vfs::open_file`]) at `offset`.
    ///
    /// # Errors
    /// As [`Vfs::pwrite`].
    pub fn write_file_at(
        &self,
        context: &Context<'_>,
        file: &OpenFile,
        data: &[u8],
        offset: u64,
    ) -> Result<usize, Errno> {
        writable(file)?;
        if offset > MAX_OFFSET {
            return Err(Errno::InvalidArgument);
        }
        write_within_limit(file, context, offset, data)
    }

    /// The attributes of `file`'s node.
    ///
    /// # Errors
    /// [`Errno::NotFound`] for a node gone meanwhile.
    pub fn stat_file(&self, context: &Context<'_>, file: &OpenFile) -> Result<Stat, Errno> {
        self.stat_location(context, &file.location)
    }

    fn readable(&self, context: &Context<'_>, fd: Fd) -> Result<Arc<OpenFile>, Errno> {
        let file = self.file(context, fd)?;
        readable(&file)?;
        Ok(file)
    }

    fn writable(&self, context: &Context<'_>, fd: Fd) -> Result<Arc<OpenFile>, Errno> {
        let file = self.file(context, fd)?;
        writable(&file)?;
        Ok(file)
    }

    /// Writes at the descriptor's offset (at the end with O_APPEND) and
    /// moves it.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`] (not open for writing), [`Errno::NoSpace`],
    /// [`Errno::FileTooLarge`], [`Errno::ReadOnly`].
    pub fn write(&self, context: &Context<'_>, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        let file = self.writable(context, fd)?;
        let mut offset = file.offset.lock(context);
        let node = file.location.node;
        if file.append {
            *offset = file.location.fs().getattr(context, node)?.size;
        }
        let count = write_within_limit(&file, context, *offset, data)?;
        *offset += count as u64;
        Ok(count)
    }

    /// Writes at `offset`, leaving the descriptor's offset alone.
    ///
    /// # Errors
    /// As [`Vfs::write`].
    pub fn pwrite(
        &self,
        context: &Context<'_>,
        fd: Fd,
        data: &[u8],
        offset: u64,
    ) -> Result<usize, Errno> {
        let file = self.file(context, fd)?;
        self.write_file_at(context, &file, data, offset)
    }

    /// Moves the descriptor's offset; returns it.
    ///
    /// # Errors
    /// [`Errno::InvalidArgument`] for a negative result,
    /// [`Errno::Overflow`] past the largest offset.
    pub fn lseek(
        &self,
        context: &Context<'_>,
        fd: Fd,
        offset: i64,
        whence: Whence,
    ) -> Result<u64, Errno> {
        let file = self.file(context, fd)?;
        let mut current = file.offset.lock(context);
        let base = match whence {
            Whence::Start => 0,
            Whence::Current => *current,
            Whence::End => {
                let node = file.location.node;
                file.location.fs().getattr(context, node)?.size
            }
        };
        let base = i64::try_from(base).map_err(|_| Errno::Overflow)?;
        let target = base.checked_add(offset).ok_or(Errno::Overflow)?;
        let target = u64::try_from(target).map_err(|_| Errno::InvalidArgument)?;
        *current = target;
        Ok(target)
    }

    /// Closes `fd`, whatever it stands for.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`].
    pub fn close(&self, context: &Context<'_>, fd: Fd) -> Result<(), Errno> {
        Ok(context.process().close_descriptor(fd)?)
    }

    /// A second descriptor for `fd`'s open file (sharing its offset).
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`], [`Errno::TooManyOpen`].
    pub fn dup(&self, context: &Context<'_>, fd: Fd) -> Result<Fd, Errno> {
        Ok(context.process().duplicate_descriptor(fd)?)
    }

    /// The attributes of `fd`'s node.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`].
    pub fn fstat(&self, context: &Context<'_>, fd: Fd) -> Result<Stat, Errno> {
        let file = self.file(context, fd)?;
        self.stat_location(context, &file.location)
    }

    pub(crate) fn stat_location(
        &self,
        context: &Context<'_>,
        location: &Location,
    ) -> Result<Stat, Errno> {
        Ok(Stat {
            device: location.mount.id(),
            attributes: location.fs().getattr(context, location.node)?,
        })
    }

    /// The next entry of the directory open as `fd`, `None` at the end
    /// (`.` and `..` are not listed).
    ///
    /// # Errors
    /// [`Errno::NotDirectory`], [`Errno::BadDescriptor`].
    pub fn readdir(&self, context: &Context<'_>, fd: Fd) -> Result<Option<DirEntry>, Errno> {
        let file = self.file(context, fd)?;
        if file.kind != NodeKind::Directory {
            return Err(Errno::NotDirectory);
        }
        let mut cookie = file.offset.lock(context);
        let mut found = None;
        let node = file.location.node;
        file.location
            .fs()
            .readdir(context, node, *cookie, &mut |entry| {
                found = Some((
                    DirEntry {
                        name: entry.name.to_vec(),
                        node: entry.node,
                        kind: entry.kind,
                    },
                    entry.next,
                ));
                false
            })?;
        Ok(found.map(|(entry, next)| {
            *cookie = next;
            entry
        }))
    }

    /// Cuts or extends `fd`'s file to `size` bytes.
    ///
    /// # Errors
    /// [`Errno::InvalidArgument`] when not open for writing or not a
    /// regular file, [`Errno::FileTooLarge`], [`Errno::NoSpace`].
    pub fn ftruncate(&self, context: &Context<'_>, fd: Fd, size: u64) -> Result<(), Errno> {
        let file = self.file(context, fd)?;
        if !file.writable || file.kind != NodeKind::File {
            return Err(Errno::InvalidArgument);
        }
        file.location.mount.writable()?;
        truncate_location(context, &file.location, size)
    }

    /// Puts `fd`'s file on stable storage.
    ///
    /// # Errors
    /// [`Errno::Io`], [`Errno::BadDescriptor`].
    pub fn fsync(&self, context: &Context<'_>, fd: Fd) -> Result<(), Errno> {
        let file = self.file(context, fd)?;
        self.fsync_file(context, &file)
    }

    /// Puts `file` (from [`Vfs::open_file`]) on stable storage.
    ///
    /// # Errors
    /// [`Errno::Io`].
    pub fn fsync_file(&self, context: &Context<'_>, file: &OpenFile) -> Result<(), Errno> {
        file.location.fs().fsync(context, file.location.node)
    }
}

/// EBADF unless open for reading, EISDIR for a directory.
fn readable(file: &OpenFile) -> Result<(), Errno> {
    if !file.readable {
        return Err(Errno::BadDescriptor);
    }
    if file.kind == NodeKind::Directory {
        return Err(Errno::IsDirectory);
    }
    Ok(())
}

/// EBADF unless open for writing, EROFS on a read-only mount.
fn writable(file: &OpenFile) -> Result<(), Errno> {
    if !file.writable {
        return Err(Errno::BadDescriptor);
    }
    file.location.mount.writable()
}

/// Writes `data` at `offset` unless that passes the largest offset.
fn write_within_limit(
    file: &OpenFile,
    context: &Context<'_>,
    offset: u64,
    data: &[u8],
) -> Result<usize, Errno> {
    if data.is_empty() {
        return Ok(0);
    }
    let end = offset.checked_add(data.len() as u64);
    if end.is_none_or(|end| end > MAX_OFFSET) {
        return Err(Errno::FileTooLarge);
    }
    let node = file.location.node;
    file.location.fs().write_at(context, node, offset, data)
}

pub(crate) fn truncate_location(
    context: &Context<'_>,
    location: &Location,
    size: u64,
) -> Result<(), Errno> {
    if size > MAX_OFFSET {
        return Err(Errno::FileTooLarge);
    }
    let cut = SetAttributes {
        size: Some(size),
        ..SetAttributes::default()
    };
    location.fs().setattr(context, location.node, &cut)?;
    Ok(())
}
