//! Stream endpoint hypercalls: a listening byte-stream endpoint of the
//! host, for serving remote clients (since 2.1).
//!
//! The kernel's sysproxy server speaks its protocol over byte streams.
//! On bare metal the stream is a device (a virtio-console port, driven
//! by a dev-faction component); a hosted kernel has no such device, so
//! the host offers numbered listening endpoints instead (unit 0, 1, …),
//! each bound to something of its own choosing: `hypercall-posix` binds
//! a Unix socket for `--server unix:PATH`. The kernel accepts
//! connections and moves bytes; framing, the handshake and every limit
//! are the kernel's, so a host only carries bytes, as a virtual NIC only
//! carries frames.
//!
//! Reached through [`crate::Hypercalls::stream_endpoints`]; hosts
//! without endpoints return `None` there.

use alloc::boxed::Box;
use core::fmt;

/// Why a stream call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamError {
    /// No endpoint with this unit number is configured.
    NoDevice,
    /// The endpoint could not be opened (a path in use, no permission);
    /// the host logged the reason.
    Unavailable,
    /// `close` was called on this listener or connection.
    Closed,
    /// The peer went away (reset, broken pipe).
    Disconnected,
    /// The host failed in a way it could not recover from.
    Io,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoDevice => "no stream endpoint with this unit number",
            Self::Unavailable => "the stream endpoint could not be opened",
            Self::Closed => "the stream is closed",
            Self::Disconnected => "the peer went away",
            Self::Io => "the stream's host side failed",
        })
    }
}

impl core::error::Error for StreamError {}

/// One accepted connection: a byte stream both ways. Dropping it closes
/// the host's side.
///
/// One thread reads at a time; any thread may write, and whole writes
/// never interleave.
pub trait StreamConnection: Send + Sync {
    /// Reads at least one byte into `buffer` and returns the count, or 0
    /// when the peer has closed its side (and for an empty `buffer`).
    /// *May block* until bytes arrive, the peer goes or
    /// [`StreamConnection::close`] is called.
    ///
    /// # Errors
    /// [`StreamError::Closed`] after `close`, at once and for every later
    /// call; [`StreamError::Disconnected`]; [`StreamError::Io`].
    fn read(&self, buffer: &mut [u8]) -> Result<usize, StreamError>;

    /// Writes all of `data`. *May block* while the peer does not read.
    /// Concurrent writes on one connection do not interleave: each is
    /// whole on the stream, before or after the other.
    ///
    /// # Errors
    /// [`StreamError::Closed`], [`StreamError::Disconnected`] (some of
    /// `data` may have gone), [`StreamError::Io`].
    fn write_all(&self, data: &[u8]) -> Result<(), StreamError>;

    /// Ends the connection both ways: a blocked `read` or `write_all`
    /// returns [`StreamError::Closed`] (or the read 0), as does every
    /// later call. Never blocks; callable from any thread.
    fn close(&self);
}

/// A listening endpoint.
pub trait StreamListener: Send + Sync {
    /// The next connection. *May block* until a peer connects or
    /// [`StreamListener::close`] is called.
    ///
    /// # Errors
    /// [`StreamError::Closed`] after `close`, at once and for every later
    /// call; [`StreamError::Io`] (the kernel may try again).
    fn accept(&self) -> Result<Box<dyn StreamConnection>, StreamError>;

    /// Stops listening: a blocked `accept` returns
    /// [`StreamError::Closed`]. Connections already accepted are not
    /// affected. Never blocks; callable from any thread.
    fn close(&self);
}

/// The stream endpoints a host offers.
pub trait StreamEndpoints: Send + Sync {
    /// Opens endpoint `unit` (numbered from 0 without gaps) and starts
    /// listening. Never blocks for long.
    ///
    /// # Errors
    /// [`StreamError::NoDevice`] past the last configured unit,
    /// [`StreamError::Unavailable`] when it cannot be opened.
    fn stream_listen(&self, unit: u32) -> Result<Box<dyn StreamListener>, StreamError>;
}
