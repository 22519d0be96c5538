//! System-call errors of the file calls, as a Rust enum.
//!
//! Only the system-call edge speaks errno; file systems return these too,
//! because the [`crate::FileSystem`] interface is that edge's contract.
//! [`Errno::number`] is Linux's number, so tests can compare our answers
//! with Linux's own.

use core::fmt;

use base::descriptor::DescriptorError;

/// An errno value of the file calls, named as in POSIX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errno {
    /// Not permitted: a hard link to a directory (EPERM).
    NotPermitted,
    /// No such file or directory (ENOENT).
    NotFound,
    /// An I/O error in the file system or its device (EIO).
    Io,
    /// Not an open descriptor, or not open for this access (EBADF).
    BadDescriptor,
    /// Memory refused for a kernel structure (ENOMEM).
    OutOfMemory,
    /// Permission denied (EACCES).
    AccessDenied,
    /// The mount point or file system is in use (EBUSY).
    Busy,
    /// The name exists already (EEXIST).
    Exists,
    /// A rename or link across file systems (EXDEV).
    CrossDevice,
    /// A path component is not a directory (ENOTDIR).
    NotDirectory,
    /// A directory where a file is needed (EISDIR).
    IsDirectory,
    /// An argument is invalid here (EINVAL).
    InvalidArgument,
    /// Too many open descriptors in this process (EMFILE).
    TooManyOpen,
    /// The file would grow past the largest size (EFBIG).
    FileTooLarge,
    /// No space left on the file system (ENOSPC).
    NoSpace,
    /// A seek on something that cannot seek (ESPIPE).
    IllegalSeek,
    /// The file system is mounted read-only (EROFS).
    ReadOnly,
    /// Too many hard links (EMLINK).
    TooManyLinks,
    /// A path or a name in it is too long (ENAMETOOLONG).
    NameTooLong,
    /// The directory is not empty (ENOTEMPTY).
    NotEmpty,
    /// Too many symbolic links on the way (ELOOP).
    Loop,
    /// The operation is not supported here (EOPNOTSUPP).
    NotSupported,
    /// A value does not fit its type (EOVERFLOW).
    Overflow,
    /// The descriptor is not a file of this faction (a socket: ENOTSUP
    /// on Linux for most file calls; ENOTSOCK the other way round).
    NotAFile,
    /// No vfs faction, or nothing mounted at the root (ENXIO).
    NoFileSystem,
}

impl Errno {
    /// Linux's number.
    pub fn number(self) -> i32 {
        match self {
            Self::NotPermitted => 1,
            Self::NotFound => 2,
            Self::Io => 5,
            Self::NoFileSystem => 6,
            Self::BadDescriptor => 9,
            Self::OutOfMemory => 12,
            Self::AccessDenied => 13,
            Self::Busy => 16,
            Self::Exists => 17,
            Self::CrossDevice => 18,
            Self::NotDirectory => 20,
            Self::IsDirectory => 21,
            Self::InvalidArgument => 22,
            Self::TooManyOpen => 24,
            Self::FileTooLarge => 27,
            Self::NoSpace => 28,
            Self::IllegalSeek => 29,
            Self::ReadOnly => 30,
            Self::TooManyLinks => 31,
            Self::NameTooLong => 36,
            Self::NotEmpty => 39,
            Self::Loop => 40,
            Self::Overflow => 75,
            Self::NotSupported | Self::NotAFile => 95,
        }
    }

    /// The symbolic name (`ENOENT`), as `errno(3)` lists it.
    pub fn name(self) -> &'static str {
        match self {
            Self::NotPermitted => "EPERM",
            Self::NotFound => "ENOENT",
            Self::Io => "EIO",
            Self::NoFileSystem => "ENXIO",
            Self::BadDescriptor => "EBADF",
            Self::OutOfMemory => "ENOMEM",
            Self::AccessDenied => "EACCES",
            Self::Busy => "EBUSY",
            Self::Exists => "EEXIST",
            Self::CrossDevice => "EXDEV",
            Self::NotDirectory => "ENOTDIR",
            Self::IsDirectory => "EISDIR",
            Self::InvalidArgument => "EINVAL",
            Self::TooManyOpen => "EMFILE",
            Self::FileTooLarge => "EFBIG",
            Self::NoSpace => "ENOSPC",
            Self::IllegalSeek => "ESPIPE",
            Self::ReadOnly => "EROFS",
            Self::TooManyLinks => "EMLINK",
            Self::NameTooLong => "ENAMETOOLONG",
            Self::NotEmpty => "ENOTEMPTY",
            Self::Loop => "ELOOP",
            Self::NotSupported | Self::NotAFile => "EOPNOTSUPP",
            Self::Overflow => "EOVERFLOW",
        }
    }

    /// What it means, in words (`no such file or directory`).
    pub fn text(self) -> &'static str {
        match self {
            Self::NotPermitted => "operation not permitted",
            Self::NotFound => "no such file or directory",
            Self::Io => "input/output error",
            Self::NoFileSystem => "no file system",
            Self::BadDescriptor => "bad file descriptor",
            Self::OutOfMemory => "cannot allocate memory",
            Self::AccessDenied => "permission denied",
            Self::Busy => "device or resource busy",
            Self::Exists => "file exists",
            Self::CrossDevice => "invalid cross-device link",
            Self::NotDirectory => "not a directory",
            Self::IsDirectory => "is a directory",
            Self::InvalidArgument => "invalid argument",
            Self::TooManyOpen => "too many open files",
            Self::FileTooLarge => "file too large",
            Self::NoSpace => "no space left on device",
            Self::IllegalSeek => "illegal seek",
            Self::ReadOnly => "read-only file system",
            Self::TooManyLinks => "too many links",
            Self::NameTooLong => "file name too long",
            Self::NotEmpty => "directory not empty",
            Self::Loop => "too many levels of symbolic links",
            Self::NotSupported => "operation not supported",
            Self::Overflow => "value too large for defined data type",
            Self::NotAFile => "not a file of the vfs",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (errno {})", self.text(), self.number())
    }
}

impl core::error::Error for Errno {}

impl From<DescriptorError> for Errno {
    fn from(error: DescriptorError) -> Self {
        match error {
            DescriptorError::BadDescriptor => Self::BadDescriptor,
            DescriptorError::WrongKind => Self::NotAFile,
            DescriptorError::TooMany => Self::TooManyOpen,
            DescriptorError::OutOfMemory => Self::OutOfMemory,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_symbols_of_the_numbers() {
        assert_eq!(
            (Errno::NotFound.name(), Errno::NotFound.number()),
            ("ENOENT", 2)
        );
        assert_eq!(
            (Errno::NotEmpty.name(), Errno::NotEmpty.number()),
            ("ENOTEMPTY", 39)
        );
        assert_eq!(
            (Errno::ReadOnly.name(), Errno::ReadOnly.number()),
            ("EROFS", 30)
        );
        assert_eq!(Errno::NotFound.text(), "no such file or directory");
        assert_eq!(
            alloc::format!("{}", Errno::NotEmpty),
            "directory not empty (errno 39)"
        );
    }
}
