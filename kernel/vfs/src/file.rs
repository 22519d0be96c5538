//! Open files: what a file descriptor of the vfs stands for.
//!
//! An [`OpenFile`] is POSIX's open file description: the node, the access
//! mode, O_APPEND and the offset, shared by duplicated descriptors. It
//! holds its mount (which is then busy) and tells the file system when it
//! goes ([`crate::FileSystem::released`]), which may be outside the
//! kernel, when a process ends.

use alloc::sync::Arc;
use core::fmt;

use base::descriptor::Descriptor;
use base::sync::Mutex;

use crate::filesystem::{Attributes, NodeId, NodeKind};
use crate::mount::{Location, Mount};

/// `open`'s flags, with Linux's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFlags(pub u32);

impl OpenFlags {
    /// Open for reading only.
    pub const READ_ONLY: Self = Self(0);
    /// Open for writing only.
    pub const WRITE_ONLY: Self = Self(0o1);
    /// Open for reading and writing.
    pub const READ_WRITE: Self = Self(0o2);
    /// Create the file if it does not exist.
    pub const CREATE: Self = Self(0o100);
    /// With CREATE: fail if it exists (EEXIST).
    pub const EXCLUSIVE: Self = Self(0o200);
    /// Cut a regular file opened for writing to length 0.
    pub const TRUNCATE: Self = Self(0o1000);
    /// Every write goes to the end.
    pub const APPEND: Self = Self(0o2000);
    /// Fail unless it is a directory (ENOTDIR).
    pub const DIRECTORY: Self = Self(0o200000);
    /// Fail if the last name is a symbolic link (ELOOP).
    pub const NO_FOLLOW: Self = Self(0o400000);

    const ACCESS: u32 = 0o3;

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn access(self) -> u32 {
        self.0 & Self::ACCESS
    }
}

impl core::ops::BitOr for OpenFlags {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// Where `lseek` counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whence {
    /// From the start (SEEK_SET).
    Start,
    /// From the current offset (SEEK_CUR).
    Current,
    /// From the end (SEEK_END).
    End,
}

/// `stat`'s answer: the node's attributes and the mount it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// The mount's number (`st_dev`).
    pub device: u32,
    /// Everything else.
    pub attributes: Attributes,
}

/// An open file description.
pub struct OpenFile {
    pub(crate) location: Location,
    pub(crate) kind: NodeKind,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    pub(crate) append: bool,
    /// The offset (for a directory: the listing's cookie). A sleep lock:
    /// a read holds it across the file system's I/O, so reads and writes
    /// through one description do not interleave their offsets.
    pub(crate) offset: Mutex<u64>,
}

impl OpenFile {
    /// Tells the file system and makes the description.
    pub(crate) fn open(location: Location, kind: NodeKind, flags: OpenFlags) -> Arc<Self> {
        location.fs().opened(location.node);
        let access = flags.access();
        Arc::new(Self {
            location,
            kind,
            readable: access != OpenFlags::WRITE_ONLY.0,
            writable: access != OpenFlags::READ_ONLY.0,
            append: flags.contains(OpenFlags::APPEND),
            offset: Mutex::new(0),
        })
    }

    /// The node's number.
    pub fn node(&self) -> NodeId {
        self.location.node
    }

    /// The mount it is on.
    pub fn mount(&self) -> &Arc<Mount> {
        &self.location.mount
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        self.location.fs().released(self.location.node);
    }
}

impl Descriptor for OpenFile {
    fn kind(&self) -> &'static str {
        "file"
    }
}

impl fmt::Debug for OpenFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenFile")
            .field("mount", &self.location.mount.id())
            .field("node", &self.location.node)
            .field("kind", &self.kind)
            .field("readable", &self.readable)
            .field("writable", &self.writable)
            .field("append", &self.append)
            .finish_non_exhaustive()
    }
}
