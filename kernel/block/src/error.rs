//! The block layer's errors, each one errno a system call would return.

use core::fmt;

use base::hypercall::MemoryError;

/// Why a block operation failed. Device failures are values, never panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockError {
    /// The device failed the request, or gave no answer in time (EIO).
    Io,
    /// A write or flush on a read-only disk or volume (EROFS).
    ReadOnly,
    /// A block or sector past the end of the disk (ENXIO).
    OutOfRange,
    /// A malformed request: a length or block size the disk cannot take
    /// (EINVAL).
    Invalid,
    /// No disk of that name, or the block layer is not linked (ENODEV).
    NoDevice,
    /// No memory for a buffer, even after the cache gave back what it
    /// could (ENOMEM).
    NoMemory,
}

impl BlockError {
    /// The conventional errno number (for display only).
    pub fn number(self) -> i32 {
        match self {
            Self::Io => 5,
            Self::ReadOnly => 30,
            Self::OutOfRange => 6,
            Self::Invalid => 22,
            Self::NoDevice => 19,
            Self::NoMemory => 12,
        }
    }

    /// The errno's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Io => "EIO",
            Self::ReadOnly => "EROFS",
            Self::OutOfRange => "ENXIO",
            Self::Invalid => "EINVAL",
            Self::NoDevice => "ENODEV",
            Self::NoMemory => "ENOMEM",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Self::Io => "input/output error",
            Self::ReadOnly => "read-only disk",
            Self::OutOfRange => "past the end of the disk",
            Self::Invalid => "invalid block request",
            Self::NoDevice => "no such disk",
            Self::NoMemory => "no memory for a buffer",
        }
    }
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.explanation(), self.name())
    }
}

impl core::error::Error for BlockError {}

impl From<MemoryError> for BlockError {
    fn from(_: MemoryError) -> Self {
        Self::NoMemory
    }
}

impl From<base::hypercall::BlockError> for BlockError {
    /// A host's refusal or failure, as the kernel reports it.
    fn from(error: base::hypercall::BlockError) -> Self {
        use base::hypercall::BlockError as Host;
        match error {
            Host::NoDevice | Host::Unavailable => Self::NoDevice,
            Host::Invalid => Self::Invalid,
            Host::ReadOnly => Self::ReadOnly,
            Host::Busy | Host::Closed | Host::Io => Self::Io,
        }
    }
}
