//! What a remote call fails with, and its `std::io::Error` form.

use std::fmt;
use std::io;

use sysproxy_proto::Errno;
use sysproxy_proto::Refusal;
use sysproxy_proto::handshake::HandshakeRefusal;

/// Why a remote call or a connection failed.
#[derive(Debug)]
pub enum Error {
    /// The call ran in the kernel and failed.
    Errno(Errno),
    /// The server did not run the call.
    Refused(Refusal),
    /// The server refused the connection in the handshake.
    Handshake(HandshakeRefusal),
    /// The server answered something that does not decode.
    Protocol(&'static str),
    /// The address is not `unix:PATH`.
    Address(String),
    /// The connection to the server failed or is gone.
    Io(io::Error),
}

impl From<Errno> for Error {
    fn from(errno: Errno) -> Self {
        Self::Errno(errno)
    }
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Errno(errno) => write!(f, "remote call failed: {errno}"),
            Self::Refused(why) => write!(f, "the server refused the call: {why:?}"),
            Self::Handshake(why) => write!(f, "the server refused the connection: {why:?}"),
            Self::Protocol(what) => write!(f, "protocol error: {what}"),
            Self::Address(text) => write!(f, "bad server address `{text}`: expected unix:PATH"),
            Self::Io(error) => write!(f, "connection to the server: {error}"),
        }
    }
}

impl std::error::Error for Error {}

/// The `io::ErrorKind` nearest to `errno`.
pub fn kind_of(errno: Errno) -> io::ErrorKind {
    use io::ErrorKind as K;
    match errno {
        Errno::WouldBlock | Errno::InProgress | Errno::Already => K::WouldBlock,
        Errno::ConnectionRefused => K::ConnectionRefused,
        Errno::ConnectionReset => K::ConnectionReset,
        Errno::ConnectionAborted => K::ConnectionAborted,
        Errno::NotConnected | Errno::DestinationRequired => K::NotConnected,
        Errno::AddressInUse => K::AddrInUse,
        Errno::AddressNotAvailable => K::AddrNotAvailable,
        Errno::BrokenPipe => K::BrokenPipe,
        Errno::PermissionDenied => K::PermissionDenied,
        Errno::NotFound => K::NotFound,
        Errno::TimedOut => K::TimedOut,
        Errno::NoBuffers => K::OutOfMemory,
        Errno::Exists => K::AlreadyExists,
        Errno::NetworkUnreachable => K::NetworkUnreachable,
        Errno::BadDescriptor
        | Errno::NotSocket
        | Errno::InvalidArgument
        | Errno::MessageTooLong => K::InvalidInput,
        Errno::NotSupported
        | Errno::NoSuchOption
        | Errno::ProtocolNotSupported
        | Errno::NoNetwork
        | Errno::NotImplemented => K::Unsupported,
        Errno::NotDirectory => K::NotADirectory,
        Errno::IsDirectory => K::IsADirectory,
        Errno::NoSpace => K::StorageFull,
        Errno::ReadOnly => K::ReadOnlyFilesystem,
        Errno::FileTooLarge => K::FileTooLarge,
        Errno::Busy => K::ResourceBusy,
        Errno::NameTooLong => K::InvalidFilename,
        Errno::AlreadyConnected | Errno::TooManySockets | Errno::Io | Errno::Loop => K::Other,
    }
}

impl From<Error> for io::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Io(error) => error,
            Error::Errno(errno) => io::Error::new(kind_of(errno), Error::Errno(errno)),
            Error::Address(_) => io::Error::new(io::ErrorKind::InvalidInput, error),
            other => io::Error::other(other),
        }
    }
}
