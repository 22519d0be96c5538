//! The errno values a remote call can fail with, as they cross the wire.
//!
//! The same names as the kernel's `net::Errno` (the server converts with
//! an exhaustive match, so a new kernel errno is a build error there until
//! it is added here) plus the numbers of POSIX as NetBSD numbers them.

use core::fmt;

use serde::{Deserialize, Serialize};

/// An errno value of a remote call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Errno {
    /// EAGAIN: the call would block on a non-blocking socket.
    WouldBlock,
    /// EBADF: not an open descriptor of this client.
    BadDescriptor,
    /// EINVAL.
    InvalidArgument,
    /// EADDRINUSE.
    AddressInUse,
    /// EADDRNOTAVAIL.
    AddressNotAvailable,
    /// ECONNREFUSED.
    ConnectionRefused,
    /// ECONNRESET.
    ConnectionReset,
    /// ECONNABORTED.
    ConnectionAborted,
    /// ETIMEDOUT.
    TimedOut,
    /// ENOTCONN.
    NotConnected,
    /// EISCONN.
    AlreadyConnected,
    /// EINPROGRESS.
    InProgress,
    /// EALREADY.
    Already,
    /// EPIPE.
    BrokenPipe,
    /// ENOBUFS.
    NoBuffers,
    /// EMSGSIZE.
    MessageTooLong,
    /// ENETUNREACH.
    NetworkUnreachable,
    /// EOPNOTSUPP.
    NotSupported,
    /// ENOPROTOOPT.
    NoSuchOption,
    /// EPROTONOSUPPORT.
    ProtocolNotSupported,
    /// EDESTADDRREQ.
    DestinationRequired,
    /// EMFILE: this client holds as many descriptors as it may.
    TooManySockets,
    /// ENXIO: the kernel has no network faction.
    NoNetwork,
    /// EACCES.
    PermissionDenied,
    /// ENOENT: no such name (an interface, a host).
    NotFound,
    /// ENOSYS: the kernel serves no such call.
    NotImplemented,
    /// EEXIST: there is one already (a route).
    Exists,
    /// ENOTSOCK: the descriptor is open but not a socket (a file).
    NotSocket,
    /// EIO: the disk failed.
    Io,
    /// ENOTDIR: a name on the path is not a directory.
    NotDirectory,
    /// EISDIR: a directory where a file is needed.
    IsDirectory,
    /// ENOSPC: the file system is full.
    NoSpace,
    /// EROFS: the file system is mounted read-only.
    ReadOnly,
    /// ENAMETOOLONG.
    NameTooLong,
    /// ELOOP: too many symbolic links.
    Loop,
    /// EFBIG.
    FileTooLarge,
    /// EBUSY.
    Busy,
}

impl Errno {
    /// The conventional number (NetBSD's).
    pub fn number(self) -> i32 {
        match self {
            Self::WouldBlock => 35,
            Self::BadDescriptor => 9,
            Self::InvalidArgument => 22,
            Self::AddressInUse => 48,
            Self::AddressNotAvailable => 49,
            Self::ConnectionRefused => 61,
            Self::ConnectionReset => 54,
            Self::ConnectionAborted => 53,
            Self::TimedOut => 60,
            Self::NotConnected => 57,
            Self::AlreadyConnected => 56,
            Self::InProgress => 36,
            Self::Already => 37,
            Self::BrokenPipe => 32,
            Self::NoBuffers => 55,
            Self::MessageTooLong => 40,
            Self::NetworkUnreachable => 51,
            Self::NotSupported => 45,
            Self::NoSuchOption => 42,
            Self::ProtocolNotSupported => 43,
            Self::DestinationRequired => 39,
            Self::TooManySockets => 24,
            Self::NoNetwork => 6,
            Self::PermissionDenied => 13,
            Self::NotFound => 2,
            Self::NotImplemented => 78,
            Self::Exists => 17,
            Self::NotSocket => 38,
            Self::Io => 5,
            Self::NotDirectory => 20,
            Self::IsDirectory => 21,
            Self::NoSpace => 28,
            Self::ReadOnly => 30,
            Self::NameTooLong => 63,
            Self::Loop => 62,
            Self::FileTooLarge => 27,
            Self::Busy => 16,
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?} (errno {})", self.number())
    }
}

impl core::error::Error for Errno {}
