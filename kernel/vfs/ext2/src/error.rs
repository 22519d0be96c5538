//! The file system's errors and the errno each stands for.
//!
//! Numbers follow the kernel's `Errno` (NetBSD's numbering, as the rump
//! kernels use); [`Error::errno_name`] gives the symbolic name for logs.

use core::fmt;

use crate::features::FeatureNames;

/// Why an operation failed. Damage found on disk is [`Error::Corrupt`]
/// with what was wrong; it never panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// No such file or directory (ENOENT).
    NotFound,
    /// The name exists already (EEXIST).
    Exists,
    /// A directory was needed (ENOTDIR).
    NotDirectory,
    /// The operation does not apply to a directory (EISDIR).
    IsDirectory,
    /// The directory is not empty (ENOTEMPTY).
    NotEmpty,
    /// No free block or inode left (ENOSPC).
    NoSpace,
    /// The device failed (EIO).
    Io,
    /// The file system is mounted read-only (EROFS).
    ReadOnly,
    /// A name longer than 255 bytes, or a symlink target too long (ENAMETOOLONG).
    NameTooLong,
    /// Past the largest file size this file system can map (EFBIG).
    FileTooBig,
    /// An argument is not valid here (EINVAL).
    InvalidArgument,
    /// The link count would pass the ext2 limit of 32000 (EMLINK).
    TooManyLinks,
    /// Not allowed, e.g. a hard link to a directory (EPERM).
    NotPermitted,
    /// Walking up the tree did not end (ELOOP).
    Loop,
    /// The image is damaged: what was found (EIO).
    Corrupt(&'static str),
    /// Not an ext2 file system this driver can mount: why (EINVAL).
    BadSuperblock(&'static str),
    /// Incompatible features this driver does not know (EINVAL).
    UnsupportedFeatures(u32),
}

/// Short form of `Result<T, Error>`.
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// The errno number (NetBSD's numbering, as the kernel's `Errno`).
    pub fn errno(self) -> i32 {
        match self {
            Self::NotPermitted => 1,
            Self::NotFound => 2,
            Self::Io | Self::Corrupt(_) => 5,
            Self::Exists => 17,
            Self::NotDirectory => 20,
            Self::IsDirectory => 21,
            Self::InvalidArgument | Self::BadSuperblock(_) | Self::UnsupportedFeatures(_) => 22,
            Self::FileTooBig => 27,
            Self::NoSpace => 28,
            Self::ReadOnly => 30,
            Self::TooManyLinks => 31,
            Self::Loop => 62,
            Self::NameTooLong => 63,
            Self::NotEmpty => 66,
        }
    }

    /// The symbolic errno name, e.g. `"ENOSPC"`.
    pub fn errno_name(self) -> &'static str {
        match self {
            Self::NotPermitted => "EPERM",
            Self::NotFound => "ENOENT",
            Self::Io | Self::Corrupt(_) => "EIO",
            Self::Exists => "EEXIST",
            Self::NotDirectory => "ENOTDIR",
            Self::IsDirectory => "EISDIR",
            Self::InvalidArgument | Self::BadSuperblock(_) | Self::UnsupportedFeatures(_) => {
                "EINVAL"
            }
            Self::FileTooBig => "EFBIG",
            Self::NoSpace => "ENOSPC",
            Self::ReadOnly => "EROFS",
            Self::TooManyLinks => "EMLINK",
            Self::Loop => "ELOOP",
            Self::NameTooLong => "ENAMETOOLONG",
            Self::NotEmpty => "ENOTEMPTY",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::NotPermitted => "operation not permitted",
            Self::NotFound => "no such file or directory",
            Self::Io => "input/output error",
            Self::Exists => "file exists",
            Self::NotDirectory => "not a directory",
            Self::IsDirectory => "is a directory",
            Self::InvalidArgument => "invalid argument",
            Self::FileTooBig => "file too large",
            Self::NoSpace => "no space left on device",
            Self::ReadOnly => "read-only file system",
            Self::TooManyLinks => "too many links",
            Self::Loop => "too many levels of directories",
            Self::NameTooLong => "file name too long",
            Self::NotEmpty => "directory not empty",
            Self::Corrupt(_) => "corrupt ext2 file system",
            Self::BadSuperblock(_) => "not a usable ext2 file system",
            Self::UnsupportedFeatures(_) => "unsupported ext2 features",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.text())?;
        match self {
            Self::Corrupt(what) | Self::BadSuperblock(what) => write!(f, ": {what}")?,
            Self::UnsupportedFeatures(bits) => {
                write!(f, " (incompatible: {})", FeatureNames::incompatible(*bits))?
            }
            _ => {}
        }
        write!(f, " ({})", self.errno_name())
    }
}

impl core::error::Error for Error {}

/// The device's own failure, as a [`crate::BlockDevice`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoError;

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("block device I/O error")
    }
}

impl core::error::Error for IoError {}

impl From<IoError> for Error {
    fn from(_: IoError) -> Self {
        Self::Io
    }
}
