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

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::ops::Deref;

use base::Context;
use base::descriptor::DescriptorError;

use crate::net::Net;
use crate::stack::Stack;
pub use errno::Errno;
pub use messages::MessageFlags;
pub use options::{OptionName, SocketOption};
pub use poll::{PollEvents, PollFd};
pub use resolver::{ResolveError, ServerSource};
pub use stream::TcpStream;
use table::Transport;
pub use table::{Fd, Socket};
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
    /// Opens a socket: the lowest free descriptor of the caller's process.
    ///
    /// # Errors
    /// [`Errno::TooManySockets`], [`Errno::NoBuffers`].
    pub fn socket(&self, context: &Context<'_>, kind: SocketType) -> Result<Fd, Errno> {
        let socket = self.with_memory_retry(context, |stack| {
            let transport = match kind {
                SocketType::Stream => Transport::Tcp(stack.tcp.open()?),
                SocketType::Datagram => Transport::Udp(stack.udp.open()?),
            };
            stack.sockets.open(transport).inspect_err(|_| {
                close_transport(stack, transport);
            })
        })?;
        self.open_descriptor(context, socket)
    }

    /// Puts `socket` in the caller's descriptor table.
    fn open_descriptor(&self, context: &Context<'_>, socket: Arc<Socket>) -> Result<Fd, Errno> {
        let opened = context.process().open_descriptor(socket.clone());
        let held = Held {
            net: self,
            context,
            socket: Some(socket),
        };
        drop(held);
        opened.map_err(descriptor_errno)
    }

    /// The socket `fd` of the caller's process, held for one call.
    pub(crate) fn socket_of<'a>(
        &'a self,
        context: &'a Context<'a>,
        fd: Fd,
    ) -> Result<Held<'a>, Errno> {
        let socket = context.process().descriptor::<Socket>(fd);
        Ok(Held {
            net: self,
            context,
            socket: Some(socket.map_err(descriptor_errno)?),
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
        let socket = self.socket_of(context, fd)?;
        let address = address.into();
        self.with_stack(context, |stack| match socket.transport {
            Transport::Tcp(handle) => {
                let address = family::inward(stack, &socket, address)?;
                let local = address.ip();
                if !local.is_unspecified() && !stack.ip.is_local_ip(local) {
                    return Err(Errno::AddressNotAvailable);
                }
                Ok(stack.tcp.bind(handle, address)?)
            }
            Transport::Udp(handle) => {
                let address = family::inward(stack, &socket, address)?;
                let Stack { ip, udp, ports, .. } = stack;
                Ok(udp.bind(ip, ports, handle, address)?)
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
        let socket = self.socket_of(context, fd)?;
        let mut stack = self.lock(context);
        let address = family::inward(&stack, &socket, address.into());
        let result = match (socket.transport, address) {
            (Transport::Tcp(handle), Ok(address)) => {
                return self.tcp_connect(context, stack, fd, &socket, handle, address);
            }
            (_, Err(error)) => Err(error),
            (Transport::Udp(handle), Ok(address)) => {
                family::bind_datagram_wildcard(&mut stack, &socket).and_then(|()| {
                    let Stack { ip, udp, ports, .. } = &mut *stack;
                    udp.connect(ip, ports, handle, address).map_err(Errno::from)
                })
            }
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
        let socket = self.socket_of(context, fd)?;
        if buffer.is_empty() {
            return Ok(0);
        }
        self.blocking(context, fd, &socket, |stack| {
            messages::read_once(stack, &socket, buffer)
        })
    }

    /// Writes all of `data` (blocking sockets) or as much as fits now
    /// (non-blocking ones, at least one byte or [`Errno::WouldBlock`]).
    /// Datagram sockets send one datagram to their connected peer.
    ///
    /// # Errors
    /// [`Errno::BrokenPipe`], [`Errno::ConnectionReset`],
    /// [`Errno::NotConnected`], [`Errno::WouldBlock`].
    pub fn write(&self, context: &Context<'_>, fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        let socket = self.socket_of(context, fd)?;
        let datagram = matches!(socket.transport, Transport::Udp(_));
        let mut written = 0;
        loop {
            let rest = &data[written..];
            let result = self.blocking(context, fd, &socket, |stack| {
                write_once(stack, &socket, rest)
            });
            match result {
                Ok(count) => written += count,
                Err(error) if written == 0 => return Err(error),
                Err(_) => return Ok(written),
            }
            if written >= data.len() || datagram || socket.is_nonblocking() {
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
        let socket = self.socket_of(context, fd)?;
        let Transport::Udp(handle) = socket.transport else {
            return Err(Errno::NotSupported);
        };
        let destination = destination.into();
        self.with_memory_retry(context, |stack| {
            let destination = family::inward(stack, &socket, destination)?;
            family::bind_datagram_wildcard(stack, &socket)?;
            let Stack { ip, udp, ports, .. } = stack;
            Ok(udp.send_to(ip, ports, handle, data, Some(destination))?)
        })
    }

    /// Receives one datagram and says who sent it ([`Net::receive_from_with`]
    /// without flags).
    ///
    /// # Errors
    /// [`Errno::WouldBlock`], [`Errno::NotSupported`] on stream sockets.
    pub fn receive_from(
        &self,
        context: &Context<'_>,
        fd: Fd,
        buffer: &mut [u8],
    ) -> Result<(usize, SocketAddr), Errno> {
        self.receive_from_with(context, fd, buffer, MessageFlags::NONE)
    }

    /// Closes `fd`, a socket or any other descriptor of the caller's
    /// process. A TCP connection goes on to close in order in the
    /// background (or is reset, per its linger option) once no other
    /// descriptor or call holds it; calls waiting on `fd` fail.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`].
    pub fn close(&self, context: &Context<'_>, fd: Fd) -> Result<(), Errno> {
        let process = context.process();
        let socket = match process.take_descriptor::<Socket>(fd) {
            Ok(socket) => socket,
            Err(DescriptorError::WrongKind) => {
                return process.close_descriptor(fd).map_err(descriptor_errno);
            }
            Err(error) => return Err(descriptor_errno(error)),
        };
        let mut stack = self.lock(context);
        socket.wait.notify_all(context);
        if stack.sockets.pollers > 0 {
            // A poll on this descriptor now reports it invalid.
            self.poll_wait.notify_all(context);
        }
        self.finish(context, &mut stack);
        drop(stack);
        drop(Held {
            net: self,
            context,
            socket: Some(socket),
        });
        Ok(())
    }

    /// The address `fd` is bound to.
    ///
    /// # Errors
    /// [`Errno::BadDescriptor`].
    pub fn local_address(&self, context: &Context<'_>, fd: Fd) -> Result<SocketAddr, Errno> {
        let socket = self.socket_of(context, fd)?;
        let local = self.with_stack(context, |stack| match socket.transport {
            Transport::Tcp(handle) => Ok(stack.tcp.local_address(handle)?),
            Transport::Udp(handle) => stack.udp.local_address(handle).ok_or(Errno::BadDescriptor),
        })?;
        Ok(family::outward(&socket, local))
    }

    /// The address of `fd`'s peer.
    ///
    /// # Errors
    /// [`Errno::NotConnected`], [`Errno::BadDescriptor`].
    pub fn peer_address(&self, context: &Context<'_>, fd: Fd) -> Result<SocketAddr, Errno> {
        let socket = self.socket_of(context, fd)?;
        let peer = self.with_stack(context, |stack| match socket.transport {
            Transport::Tcp(handle) => Ok(stack.tcp.peer_address(handle)?),
            Transport::Udp(handle) => stack.udp.peer_address(handle).ok_or(Errno::NotConnected),
        })?;
        Ok(family::outward(&socket, peer))
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
        socket: &Socket,
        attempt: impl FnMut(&mut Stack) -> Attempt<T>,
    ) -> Result<T, Errno> {
        self.attempt_or_wait(context, fd, socket, true, attempt)
    }

    /// As [`Net::blocking`], but with `may_wait` false the call tries once
    /// whatever the socket's mode (MSG_DONTWAIT). A wait ends in
    /// [`Errno::BadDescriptor`] when `fd` was closed meanwhile.
    fn attempt_or_wait<T>(
        &self,
        context: &Context<'_>,
        fd: Fd,
        socket: &Socket,
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
            if socket.is_nonblocking() || !may_wait {
                return Err(Errno::WouldBlock);
            }
            stack = socket.wait.wait(stack);
            stack.set_now(context.now_ns());
            if !still_open(context, fd, socket) {
                return Err(Errno::BadDescriptor);
            }
        }
    }
}

/// A socket held by one call. Its `Drop` lets go; when that was the last
/// hold (the descriptor closed meanwhile), the stack closes the transport
/// at once rather than at its next lock.
pub(crate) struct Held<'a> {
    net: &'a Net,
    context: &'a Context<'a>,
    socket: Option<Arc<Socket>>,
}

impl Deref for Held<'_> {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        self.socket.as_deref().expect("held until dropped")
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let socket = self.socket.take().and_then(Arc::into_inner);
        if socket.is_some() {
            drop(socket);
            self.net.with_stack(self.context, |_| ());
        }
    }
}

/// Whether `fd` of the caller's process still stands for `socket`.
fn still_open(context: &Context<'_>, fd: Fd, socket: &Socket) -> bool {
    let current = context.process().descriptor::<Socket>(fd);
    current.is_ok_and(|current| core::ptr::eq(&*current, socket))
}

/// The errno of a descriptor table's refusal.
fn descriptor_errno(error: DescriptorError) -> Errno {
    match error {
        DescriptorError::BadDescriptor => Errno::BadDescriptor,
        DescriptorError::WrongKind => Errno::NotSocket,
        DescriptorError::TooMany => Errno::TooManySockets,
        DescriptorError::OutOfMemory => Errno::NoBuffers,
    }
}

pub(super) fn write_once(stack: &mut Stack, socket: &Socket, data: &[u8]) -> Attempt<usize> {
    match socket.transport {
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

/// Closes the transports of sockets gone since the last lock.
pub(crate) fn close_orphans(stack: &mut Stack) {
    let mut orphaned = core::mem::take(&mut stack.sockets.orphaned);
    stack.sockets.orphans.take(&mut orphaned);
    for transport in orphaned.drain(..) {
        stack.sockets.forget(transport);
        close_transport(stack, transport);
    }
    stack.sockets.orphaned = orphaned;
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
