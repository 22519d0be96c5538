//! System-call errors: the errno values of the socket API, as a Rust enum.
//!
//! Only the system-call edge speaks errno; each layer below has its own
//! error type, converted here.

use core::fmt;

use crate::ipv4::OutputError;
use crate::udp::UdpError;

/// An errno value, named as in POSIX, numbered as on NetBSD and Linux
/// where they agree (the number is for display only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errno {
    /// The call would block on a non-blocking socket (EAGAIN).
    WouldBlock,
    /// Not an open socket (EBADF).
    BadDescriptor,
    /// An argument is invalid here (EINVAL).
    InvalidArgument,
    /// The address is bound already (EADDRINUSE).
    AddressInUse,
    /// The address is not one of this host's (EADDRNOTAVAIL).
    AddressNotAvailable,
    /// Nothing listens there (ECONNREFUSED).
    ConnectionRefused,
    /// The peer reset the connection (ECONNRESET).
    ConnectionReset,
    /// The connection was aborted locally (ECONNABORTED).
    ConnectionAborted,
    /// The peer stopped answering (ETIMEDOUT).
    TimedOut,
    /// The socket is not connected (ENOTCONN).
    NotConnected,
    /// The socket is connected already (EISCONN).
    AlreadyConnected,
    /// A non-blocking connect is under way (EINPROGRESS).
    InProgress,
    /// A connect is already under way (EALREADY).
    Already,
    /// Writing after shutdown or after the peer went away (EPIPE).
    BrokenPipe,
    /// No buffer space (ENOBUFS).
    NoBuffers,
    /// Too big for one datagram (EMSGSIZE).
    MessageTooLong,
    /// No route to the network (ENETUNREACH).
    NetworkUnreachable,
    /// The operation is not supported by this socket type (EOPNOTSUPP).
    NotSupported,
    /// The option is not known (ENOPROTOOPT).
    NoSuchOption,
    /// The protocol or socket type is not supported (EPROTONOSUPPORT).
    ProtocolNotSupported,
    /// No destination address (EDESTADDRREQ).
    DestinationRequired,
    /// Too many open sockets (EMFILE).
    TooManySockets,
    /// The network faction is not linked into this kernel (ENXIO).
    NoNetwork,
    /// Not allowed: a broadcast without SO_BROADCAST (EACCES).
    PermissionDenied,
    /// The name does not exist or has no address (ENOENT).
    NotFound,
}

impl Errno {
    /// The conventional number.
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
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::WouldBlock => "resource temporarily unavailable",
            Self::BadDescriptor => "bad socket descriptor",
            Self::InvalidArgument => "invalid argument",
            Self::AddressInUse => "address already in use",
            Self::AddressNotAvailable => "cannot assign requested address",
            Self::ConnectionRefused => "connection refused",
            Self::ConnectionReset => "connection reset by peer",
            Self::ConnectionAborted => "connection aborted",
            Self::TimedOut => "connection timed out",
            Self::NotConnected => "socket is not connected",
            Self::AlreadyConnected => "socket is already connected",
            Self::InProgress => "operation now in progress",
            Self::Already => "operation already in progress",
            Self::BrokenPipe => "broken pipe",
            Self::NoBuffers => "no buffer space available",
            Self::MessageTooLong => "message too long",
            Self::NetworkUnreachable => "network is unreachable",
            Self::NotSupported => "operation not supported",
            Self::NoSuchOption => "protocol not available",
            Self::ProtocolNotSupported => "protocol not supported",
            Self::DestinationRequired => "destination address required",
            Self::TooManySockets => "too many open sockets",
            Self::NoNetwork => "no network faction in this kernel",
            Self::PermissionDenied => "permission denied",
            Self::NotFound => "no such name",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (errno {})", self.text(), self.number())
    }
}

impl core::error::Error for Errno {}

impl From<OutputError> for Errno {
    fn from(error: OutputError) -> Self {
        match error {
            OutputError::NoRoute => Self::NetworkUnreachable,
            OutputError::NoBuffer | OutputError::QueueFull => Self::NoBuffers,
            OutputError::TooBig => Self::MessageTooLong,
        }
    }
}

impl From<UdpError> for Errno {
    fn from(error: UdpError) -> Self {
        match error {
            UdpError::InvalidHandle => Self::BadDescriptor,
            UdpError::AddressInUse => Self::AddressInUse,
            UdpError::AlreadyBound | UdpError::InvalidDestination => Self::InvalidArgument,
            UdpError::AddressNotAvailable => Self::AddressNotAvailable,
            UdpError::WouldBlock => Self::WouldBlock,
            UdpError::NotConnected => Self::DestinationRequired,
            UdpError::TooLong => Self::MessageTooLong,
            UdpError::NoSpace => Self::TooManySockets,
            UdpError::Output(error) => error.into(),
            UdpError::Refused => Self::ConnectionRefused,
            UdpError::BroadcastDenied => Self::PermissionDenied,
            UdpError::Shutdown => Self::BrokenPipe,
            UdpError::WrongFamily => Self::NetworkUnreachable,
        }
    }
}

impl From<tcp::TcpError> for Errno {
    fn from(error: tcp::TcpError) -> Self {
        use tcp::TcpError as E;
        match error {
            E::WouldBlock => Self::WouldBlock,
            E::InvalidHandle => Self::BadDescriptor,
            E::InvalidState | E::InvalidArgument => Self::InvalidArgument,
            E::AddressInUse => Self::AddressInUse,
            E::AddressNotAvailable => Self::AddressNotAvailable,
            E::NoRoute | E::HostUnreachable => Self::NetworkUnreachable,
            E::ConnectionRefused => Self::ConnectionRefused,
            E::ConnectionReset => Self::ConnectionReset,
            E::ConnectionAborted => Self::ConnectionAborted,
            E::TimedOut => Self::TimedOut,
            E::NotConnected => Self::NotConnected,
            E::AlreadyConnected => Self::AlreadyConnected,
            E::Shutdown => Self::BrokenPipe,
            E::NoBuffers => Self::NoBuffers,
        }
    }
}
