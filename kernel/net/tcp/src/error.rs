//! The error enum of the TCP engine: one small `Copy` value per failure a
//! socket call or a connection can report.

use core::fmt;

/// Why a TCP call failed or a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpError {
    /// Nothing to do now: no data, no buffer space, no connection to
    /// accept, or the connection is still being set up.
    WouldBlock,
    /// The handle does not name a live socket (closed, or stale).
    InvalidHandle,
    /// The call does not fit the socket's state (listen after connect, …).
    InvalidState,
    /// An argument is out of range.
    InvalidArgument,
    /// The local address and port are taken.
    AddressInUse,
    /// No ephemeral port is free, or the address is not usable.
    AddressNotAvailable,
    /// The IP layer has no route to the destination.
    NoRoute,
    /// The peer answered the SYN with a reset.
    ConnectionRefused,
    /// The peer reset an established connection.
    ConnectionReset,
    /// The connection was aborted locally or while being set up.
    ConnectionAborted,
    /// Retransmissions or keepalive probes went unanswered.
    TimedOut,
    /// The socket is not connected.
    NotConnected,
    /// The socket is already connected or connecting.
    AlreadyConnected,
    /// The direction was shut down (send after shutdown(Write)).
    Shutdown,
    /// No memory for another socket.
    NoBuffers,
    /// An ICMP message said the host or network cannot be reached.
    HostUnreachable,
}

impl fmt::Display for TcpError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::WouldBlock => "operation would block",
            Self::InvalidHandle => "invalid socket handle",
            Self::InvalidState => "operation not valid in this socket state",
            Self::InvalidArgument => "invalid argument",
            Self::AddressInUse => "address in use",
            Self::AddressNotAvailable => "address not available",
            Self::NoRoute => "no route to host",
            Self::ConnectionRefused => "connection refused",
            Self::ConnectionReset => "connection reset by peer",
            Self::ConnectionAborted => "connection aborted",
            Self::TimedOut => "connection timed out",
            Self::NotConnected => "socket not connected",
            Self::AlreadyConnected => "socket already connected",
            Self::Shutdown => "socket shut down for writing",
            Self::NoBuffers => "no buffer space",
            Self::HostUnreachable => "host unreachable",
        };
        formatter.write_str(text)
    }
}

impl core::error::Error for TcpError {}

/// What an ICMP destination-unreachable message reported (RFC 1122
/// 4.2.3.9, RFC 5927): hard errors abort a connection being opened, every
/// kind is a soft error for an established one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// Network unreachable (code 0).
    Network,
    /// Host unreachable (code 1).
    Host,
    /// Protocol unreachable (code 2): a hard error.
    Protocol,
    /// Port unreachable (code 3): a hard error.
    Port,
    /// Any other code.
    Other,
}
