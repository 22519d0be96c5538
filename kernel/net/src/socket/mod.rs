//! The system-call API for local clients: BSD sockets as Rust calls.
//!
//! An application holding a [`Context`] calls these on the [`Net`]
//! service: `socket`, `bind`, `listen`, `accept`, `connect`, `read`,
//! `write`, `send_to`, `receive_from`, `shutdown`, `close`, `poll`,
//! `set_option`, `option`, `local_address`, `peer_address`, and watch
//! sets for many sockets at once ([`watch`]). Errors are
//! [`Errno`]s. A call that must wait (no data, no connection, a full send
//! buffer) sleeps on the socket's condition variable, which releases the
//! stack lock and the virtual CPU, unless the socket is non-blocking, when
//! it returns [`Errno::WouldBlock`]. A call that fails for lack of memory
//! ([`Errno::NoBuffers`]) releases the stack lock, waits for one pass of
//! the pagedaemon and tries once more before it fails. Nothing here
//! spins.
//!
//! Addresses are `SocketAddr`s of either family; a socket takes the
//! family of the first address it is given and, as AF_INET6, speaks IPv4
//! too through IPv4-mapped addresses unless IPV6_V6ONLY (`family.rs`).
//! A link-local IPv6 address's scope id names an interface
//! ([`crate::InterfaceIndex::scope_id`]).
//!
//! [`TcpStream`] lends a TCP socket to crates written against the
//! `embedded-io` traits (`Read`, `Write`), e.g. a no_std TLS client.
//! [`Net::resolve`] turns a host name into addresses with the DNS stub
//! resolver ([`resolver`]), on these same sockets.

pub mod errno;
mod family;
mod messages;
mod options;
mod poll;
pub mod resolver;
pub mod stream;
pub mod table;
mod tcp_calls;
pub mod watch;

use core::net::SocketAddr;

use base::Context;

use crate::net::Net;
use crate::stack::Stack;
pub use errno::Errno;
pub use messages::MessageFlags;
pub use options::{OptionName, SocketOption};
pub use poll::{PollEvents, PollFd};
pub use resolver::{ResolveError, ServerSource};
pub use stream::TcpStream;
pub use table::Fd;
use table::Transport;
pub use watch::{Ready, WatchSet};

/// The kinds of socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketType {
    /// TCP.
    Stream,
    /// UDP.
    Datagram,
}

/// Which direction `shutdown` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// No more reading.
    Read,
    /// No more writing (sends FIN).
    Write,
    /// Both.
    Both,
}

/// A call's result, one attempt at a time: [`Errno::WouldBlock`] means
/// "sleep and try again" for blocking sockets.
type Attempt<T> = Result<T, Errno>;

impl Net {
    /// Opens a socket.
    ///
    /// # Errors
    /// [`Errno::TooManySockets`].
    pub fn socket(&self, context: &Context<'_>, kind: SocketType) -> Result<Fd, Errno> {
        self.with_memory_retry(context, |stack| {
            let transport = match kind {
                SocketType::Stream => Transport::Tcp(stack.tcp.open()?),
                SocketType::Datagram => Transport::Udp(stack.udp.open()?),
            };
            let fd = stack.sockets.insert(transport);
            fd.ok_or_else(|| {
                close_transport(stack, transport);
                if stack.sockets.len() >= table::MAX_SOCKETS {
                    Errno::TooManySockets
                } else {
                    Errno::NoBuffers
                }
            })
        })
    }

    /// Binds `fd` to `address` (port 0: an ephemeral port; `0.0.0.0` any
    /// IPv4 address, `::` any IPv6 one and IPv4 ones too unless
    /// IPV6_V6ONLY).
    ///
    /// # Errors
    /// [`Errno::AddressInUse`], [`Errno::AddressNotAvailable`],
    /// [`Errno::BadDescriptor`], [`Errno::InvalidArgument`].
    pub fn bind(
        &self,
        context: &Context<'_>,
        fd: Fd,
        address: impl Into<SocketAddr>,
    ) -> Result<(), Errno> {
        let address = address.into();
        self.with_stack(context, |stack| {
            let address = family::inward(stack, fd, address)?;
            match transport(stack, fd)? {
                Transport::Tcp(handle) => {
                    let local = address.ip();
                    if !local.is_unspecified() && !stack.ip.is_local_ip(local) {
                        return Err(Errno::AddressNotAvailable);
                    }
                    Ok(stack.tcp.bind(handle, address)?)
                }
                Transport::Udp(handle) => {
                    let Stack { ip, udp, ports, .. } = stack;
                    Ok(udp.bind(ip, ports, handle, address)?)
                }
            }
        })
    }

    /// Connects `fd` to `address`; for TCP, waits for the handshake unless
    /// the socket is non-blocking ([`Errno::InProgress`]).
    ///
    /// # Errors
    /// [`Errno::ConnectionRefused`], [`Errno::TimedOut`],
    /// [`Errno::NetworkUnreachable`], [`Errno::AlreadyConnected`], …
    pub fn connect(
        &self,
        context: &Context<'_>,
        fd: Fd,
        address: impl Into<SocketAddr>,
    ) -> Result<(), Errno> {
        let mut stack = self.lock(context);
        let address = family::inward(&mut stack, fd, address.into())?;
        let result = match transport(&stack, fd) {
            Ok(Transport::Udp(handle)) => {
                family::bind_datagram_wildcard(&mut stack, fd).and_then(|()| {
                    let Stack { ip, udp, ports, .. } = &mut *stack;
                    udp.connect(ip, ports, handle, address).map_err(Errno::from)
                })
            }
            Ok(Transport::Tcp(handle)) => {
                return self.tcp_connect(context, stack, fd, handle, address);
            }
            Err(error) => Err(error),
        };
        self.finish(context, &mut stack);
        result
    }

    /// Reads into `buffer`: at least one byte, or 0 at end of stream.
    /// Datagram sockets read one datagram.
    ///
    /// # Errors
    /// [`Errno::WouldBlock`] (non-blocking), [`Errno::ConnectionReset`],
    /// [`Errno::NotConnected`], [`Errno::BadDescriptor`].
    pub fn read(&self, context: &Context<'_>, fd: Fd, buffer: &mut [u8]) -> Result<usize, Errno> {
        if buffer.is_empty() {
            return self.transport_of(context, fd).map(|_| 0);
        }
        self.blocking(context, fd, |stack| messages::read_once(stack, fd, buffer))
    }

    /// Writes all of `data` (blocking sockets) or as much as fits now
    /// (non-blocking ones, at least one byte or [`Errno::WouldBlock`]).
    /// Datagram sockets send one datagram to their connected peer.
    ///
    /// # Errors
    /// [`Errno::BrokenPipe`], [`Errno::ConnectionReset`],
    /// [`Errno::NotConnected`], [`Errno::WouldBlock`].
    pub fn write(&self, context: &Context<'_>, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        let mut written = 0;
        loop {
            let rest = &data[written..];
            let result = self.blocking(context, fd, |stack| write_once(stack, fd, rest));
            match result {
                Ok(count) => written += count,
                Err(error) if written == 0 => return Err(error),
                Err(_) => return Ok(written),
            }
            let datagram = matches!(self.transport_of(context, fd), Ok(Transport::Udp(_)));
            if written >= data.len() || datagram || self.is_nonblocking(context, fd) {
                return Ok(written);
            }
        }
    }

    /// Sends one datagram to `destination`.
    ///
    /// # Errors
    /// [`Errno::MessageTooLong`], [`Errno::NetworkUnreachable`],
    /// [`Errno::NotSupported`] on stream sockets.
    pub fn send_to(
        &self,
        context: &Context<'_>,
        fd: Fd,
        data: &[u8],
        destination: impl Into<SocketAddr>,
    ) -> Result<usize, Errno> {
        let destination = destination.into();
        self.with_memory_retry(context, |stack| match transport(stack, fd)? {
            Transport::Udp(handle) => {
                let destination = family::inward(stack, fd, destination)?;
                family::bind_datagram_wildcard(stack, fd)?;
                let Stack { ip, udp, ports, .. } = stack;
                Ok(udp.send_to(ip, ports, handle, data, Some(destination))?)
            }
            Transport::Tcp(_) => Err(Errno::NotSupported),
        })
    }

    /// Receives one datagram and says who sent it.
    ///
    /// # Errors
    /// [`Errno::WouldBlock`], [`Errno::NotSupported`] on stream sockets.
    pub fn receive_from(
        &self,
        context: &Context<'_>,
        fd: Fd,
        buffer: &mut [u8],
    ) -> Result<(usize, SocketAddr), Errno> {
        self.blocking(context, fd, |stack| match transport(stack, fd)? {
            Transport::Udp(handle) => {
                let (count, sender) = stack.udp.receive_from(handle, buffer)?;
                Ok((count, family::outward(stack, fd, sender)))
            }
            Transport::Tcp(_) => Err(Errno::NotSupported),
        })
    }

    /// Closes `fd`. A TCP connection goes on to close in order in the
    /// background (or is reset, per its linger option).
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`].
    pub fn close(&self, context: &Context<'_>, fd: Fd) -> Result<(), Errno> {
        self.with_stack(context, |stack| {
            let entry = stack.sockets.remove(fd).ok_or(Errno::BadDescriptor)?;
            entry.wait.notify_all(context);
            if stack.sockets.pollers > 0 {
                // A poll on this descriptor now reports it invalid.
                self.poll_wait.notify_all(context);
            }
            close_transport(stack, entry.transport);
            Ok(())
        })
    }

    /// The address `fd` is bound to.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`].
    pub fn local_address(&self, context: &Context<'_>, fd: Fd) -> Result<SocketAddr, Errno> {
        self.with_stack(context, |stack| {
            let local = match transport(stack, fd)? {
                Transport::Tcp(handle) => stack.tcp.local_address(handle)?,
                Transport::Udp(handle) => stack
                    .udp
                    .local_address(handle)
                    .ok_or(Errno::BadDescriptor)?,
            };
            Ok(family::outward(stack, fd, local))
        })
    }

    /// The address of `fd`'s peer.
    ///
    /// # Errors
    /// [`Errno::NotConnected`], [`Errno::BadDescriptor`].
    pub fn peer_address(&self, context: &Context<'_>, fd: Fd) -> Result<SocketAddr, Errno> {
        self.with_stack(context, |stack| {
            let peer = match transport(stack, fd)? {
                Transport::Tcp(handle) => stack.tcp.peer_address(handle)?,
                Transport::Udp(handle) => {
                    stack.udp.peer_address(handle).ok_or(Errno::NotConnected)?
                }
            };
            Ok(family::outward(stack, fd, peer))
        })
    }

    fn transport_of(&self, context: &Context<'_>, fd: Fd) -> Result<Transport, Errno> {
        transport(&self.lock(context), fd)
    }

    fn is_nonblocking(&self, context: &Context<'_>, fd: Fd) -> bool {
        let stack = self.lock(context);
        stack.sockets.get(fd).is_some_and(|entry| entry.nonblocking)
    }

    /// Runs `call` on the stack; if it fails with [`Errno::NoBuffers`],
    /// waits for a pagedaemon pass with the stack lock released and runs
    /// it once more.
    fn with_memory_retry<T>(
        &self,
        context: &Context<'_>,
        mut call: impl FnMut(&mut Stack) -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        let result = self.with_stack(context, &mut call);
        if !matches!(result, Err(Errno::NoBuffers)) {
            return result;
        }
        if !context.kernel().memory().wait_for_reclaim(context) {
            return result;
        }
        self.with_stack(context, call)
    }

    /// Runs `attempt` until it does not say [`Errno::WouldBlock`], sleeping
    /// on the socket between tries; non-blocking sockets try once. A first
    /// [`Errno::NoBuffers`] waits for a pagedaemon pass and tries again.
    fn blocking<T>(
        &self,
        context: &Context<'_>,
        fd: Fd,
        attempt: impl FnMut(&mut Stack) -> Attempt<T>,
    ) -> Result<T, Errno> {
        self.attempt_or_wait(context, fd, true, attempt)
    }

    /// As [`Net::blocking`], but with `may_wait` false the call tries once
    /// whatever the socket's mode (MSG_DONTWAIT).
    fn attempt_or_wait<T>(
        &self,
        context: &Context<'_>,
        fd: Fd,
        may_wait: bool,
        mut attempt: impl FnMut(&mut Stack) -> Attempt<T>,
    ) -> Result<T, Errno> {
        let mut stack = self.lock(context);
        let mut retried = false;
        loop {
            let result = attempt(&mut stack);
            self.finish(context, &mut stack);
            if matches!(result, Err(Errno::NoBuffers)) && !retried {
                retried = true;
                drop(stack);
                let ran = context.kernel().memory().wait_for_reclaim(context);
                stack = self.lock(context);
                if ran {
                    continue;
                }
            }
            let Err(Errno::WouldBlock) = result else {
                return result;
            };
            let entry = stack.sockets.get(fd).ok_or(Errno::BadDescriptor)?;
            if entry.nonblocking || !may_wait {
                return Err(Errno::WouldBlock);
            }
            let wait = entry.wait.clone();
            stack = wait.wait(stack);
            let now = context.now_ns();
            stack.set_now(now);
        }
    }
}

fn transport(stack: &Stack, fd: Fd) -> Result<Transport, Errno> {
    stack
        .sockets
        .get(fd)
        .map(|entry| entry.transport)
        .ok_or(Errno::BadDescriptor)
}

pub(super) fn write_once(stack: &mut Stack, fd: Fd, data: &[u8]) -> Attempt<usize> {
    match transport(stack, fd)? {
        Transport::Tcp(handle) => {
            let now = stack.now_ns();
            let Stack { ip, tcp, .. } = stack;
            Ok(tcp.send(now, handle, data, ip)?)
        }
        Transport::Udp(handle) => {
            let Stack { ip, udp, ports, .. } = stack;
            Ok(udp.send_to(ip, ports, handle, data, None)?)
        }
    }
}

fn close_transport(stack: &mut Stack, transport: Transport) {
    match transport {
        Transport::Tcp(handle) => {
            let now = stack.now_ns();
            let Stack { ip, tcp, .. } = stack;
            tcp.close(now, handle, ip);
        }
        Transport::Udp(handle) => stack.udp.close(handle),
    }
}
