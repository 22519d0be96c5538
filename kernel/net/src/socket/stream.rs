//! A TCP socket as an `embedded-io` byte stream, for no_std crates.
//!
//! [`TcpStream`] borrows a connected TCP socket of a [`Net`] together with
//! the caller's [`Context`] and implements `embedded_io`'s [`Read`],
//! [`Write`], [`ReadReady`] and [`WriteReady`], so that crates written
//! against those traits (TLS clients, HTTP clients, protocol codecs) run
//! on our stack unchanged. It is a view, not an owner: dropping it leaves
//! the socket open, and the caller closes the descriptor as before.
//!
//! The traits are blocking by definition (`embedded-io` has no
//! `WouldBlock`), so the socket must be in blocking mode, its default. On
//! a socket set non-blocking a call that would wait fails with
//! [`Errno::WouldBlock`], whose kind is [`ErrorKind::Other`].

use core::fmt;

use base::Context;
use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};
use tcp::State;

use super::table::Transport;
use super::{Errno, Fd};
use crate::net::Net;

/// A borrowed TCP socket as an `embedded-io` stream.
///
/// - `read` is [`Net::read`]: it blocks until at least one byte is there
///   and returns 0 at end of stream (and for an empty buffer);
/// - `write` is [`Net::write`]: it blocks until all of the data is in the
///   send buffer, or returns what went in before an error (at least one
///   byte), or the error;
/// - `flush` does nothing: what `write` accepted is in the socket's send
///   buffer, and TCP delivers it without further calls (as with
///   `std::net::TcpStream`). A caller that must know the peer has it
///   waits for the peer's answer, or closes with a linger time.
///
/// A hosted kernel talking to itself on lo0 through the traits:
///
/// ```
/// use core::net::{Ipv4Addr, SocketAddrV4};
/// use base::{BootConfig, Kernel};
/// use hypercall_posix::{Posix, PosixConfig};
/// use net::embedded_io::{Read, Write};
/// use net::{Net, SocketType, TcpStream};
///
/// let host = Posix::new(PosixConfig::default());
/// let components = &net::components::ALL;
/// let kernel = Kernel::boot(host, BootConfig { components })?;
/// let context = kernel.enter()?;
/// let net = Net::of(&context).expect("the net component is linked");
/// let here = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7);
/// let listener = net.socket(&context, SocketType::Stream)?;
/// net.bind(&context, listener, here)?;
/// net.listen(&context, listener, 1)?;
/// let client = net.socket(&context, SocketType::Stream)?;
/// net.connect(&context, client, here)?;
/// let (server, _) = net.accept(&context, listener)?;
/// TcpStream::new(&net, &context, client)?.write_all(b"hello")?;
/// let mut buffer = [0u8; 5];
/// TcpStream::new(&net, &context, server)?.read_exact(&mut buffer)?;
/// assert_eq!(&buffer, b"hello");
/// # drop(context);
/// # kernel.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TcpStream<'a> {
    net: &'a Net,
    context: &'a Context<'a>,
    fd: Fd,
}

impl<'a> TcpStream<'a> {
    /// A stream over the TCP socket `fd` of `net`, used from `context`.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`] if `fd` is not open,
    /// [`Errno::NotSupported`] if it is not a TCP socket.
    pub fn new(net: &'a Net, context: &'a Context<'a>, fd: Fd) -> Result<Self, Errno> {
        match net.socket_of(context, fd)?.transport {
            Transport::Tcp(_) => Ok(Self { net, context, fd }),
            Transport::Udp(_) => Err(Errno::NotSupported),
        }
    }

    /// The socket this stream reads and writes.
    pub fn fd(&self) -> Fd {
        self.fd
    }

    /// What TCP says of the connection now.
    fn status(&self) -> Result<tcp::SocketStatus, Errno> {
        let socket = self.net.socket_of(self.context, self.fd)?;
        let Transport::Tcp(handle) = socket.transport else {
            return Err(Errno::NotSupported);
        };
        self.net
            .with_stack(self.context, |stack| Ok(stack.tcp.status(handle)?))
    }
}

impl fmt::Debug for TcpStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream").field("fd", &self.fd).finish()
    }
}

impl ErrorType for TcpStream<'_> {
    type Error = Errno;
}

impl Read for TcpStream<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, Errno> {
        self.net.read(self.context, self.fd, buffer)
    }
}

impl Write for TcpStream<'_> {
    fn write(&mut self, data: &[u8]) -> Result<usize, Errno> {
        if data.is_empty() {
            return Ok(0);
        }
        self.net.write(self.context, self.fd, data)
    }

    /// Does nothing: see [`TcpStream`].
    fn flush(&mut self) -> Result<(), Errno> {
        Ok(())
    }
}

impl ReadReady for TcpStream<'_> {
    /// True when `read` would not block: data, end of stream or an error.
    fn read_ready(&mut self) -> Result<bool, Errno> {
        let status = self.status()?;
        Ok(status.readable > 0 || status.end_of_file || status.error.is_some())
    }
}

impl WriteReady for TcpStream<'_> {
    /// True when `write` would not block: room in the send buffer, an
    /// error it would return at once, or a state that takes no data.
    /// (Poll's POLLOUT is not enough: its hangup is also reported when
    /// the peer has closed and our send buffer is full, and then `write`
    /// waits.)
    fn write_ready(&mut self) -> Result<bool, Errno> {
        let status = self.status()?;
        let may_wait = matches!(
            status.state,
            State::SynSent | State::SynReceived | State::Established | State::CloseWait
        );
        Ok(status.writable > 0 || status.error.is_some() || !may_wait)
    }
}

impl embedded_io::Error for Errno {
    /// The nearest kind; errnos without one (`EISCONN`, `ENETUNREACH`,
    /// `EAGAIN`, …) are [`ErrorKind::Other`].
    fn kind(&self) -> ErrorKind {
        match self {
            Self::ConnectionRefused => ErrorKind::ConnectionRefused,
            Self::ConnectionReset => ErrorKind::ConnectionReset,
            Self::ConnectionAborted => ErrorKind::ConnectionAborted,
            Self::NotConnected | Self::DestinationRequired => ErrorKind::NotConnected,
            Self::AddressInUse => ErrorKind::AddrInUse,
            Self::AddressNotAvailable => ErrorKind::AddrNotAvailable,
            Self::BrokenPipe => ErrorKind::BrokenPipe,
            Self::PermissionDenied => ErrorKind::PermissionDenied,
            Self::NotFound => ErrorKind::NotFound,
            Self::TimedOut => ErrorKind::TimedOut,
            Self::NoBuffers => ErrorKind::OutOfMemory,
            Self::BadDescriptor
            | Self::NotSocket
            | Self::InvalidArgument
            | Self::MessageTooLong => ErrorKind::InvalidInput,
            Self::NotSupported
            | Self::NoSuchOption
            | Self::ProtocolNotSupported
            | Self::NoNetwork => ErrorKind::Unsupported,
            Self::WouldBlock
            | Self::AlreadyConnected
            | Self::InProgress
            | Self::Already
            | Self::NetworkUnreachable
            | Self::TooManySockets => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests;
