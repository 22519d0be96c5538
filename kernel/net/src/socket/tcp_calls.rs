//! The socket calls that are mostly stream sockets': listen, accept,
//! connect's wait for the handshake, shutdown (datagram sockets too).

use core::net::SocketAddr;

use base::Context;
use base::sync::MutexGuard;

use super::table::{Fd, Socket, Transport};
use super::{Errno, Shutdown, family};
use crate::net::Net;
use crate::stack::Stack;

impl Net {
    /// Makes `fd` a listener with room for `backlog` unaccepted
    /// connections.
    ///
    /// # Errors
    /// [`Errno::NotSupported`] on datagram sockets,
    /// [`Errno::InvalidArgument`] when connected.
    pub fn listen(&self, context: &Context<'_>, fd: Fd, backlog: usize) -> Result<(), Errno> {
        let socket = self.socket_of(context, fd)?;
        let handle = tcp_handle(&socket)?;
        self.with_memory_retry(context, |stack| {
            Ok(stack.tcp.listen(handle, backlog.max(1))?)
        })
    }

    /// Takes the next connection from listener `fd`, waiting for one
    /// unless `fd` is non-blocking. The new socket is blocking.
    ///
    /// # Errors
    /// [`Errno::WouldBlock`], [`Errno::InvalidArgument`] (not
    /// listening), [`Errno::TooManySockets`].
    pub fn accept(&self, context: &Context<'_>, fd: Fd) -> Result<(Fd, SocketAddr), Errno> {
        let listener = self.socket_of(context, fd)?;
        let handle = tcp_handle(&listener)?;
        let (socket, peer) = self.blocking(context, fd, &listener, |stack| {
            let connection = stack.tcp.accept(handle)?;
            let peer = stack.tcp.peer_address(connection)?;
            let peer = family::outward(&listener, peer);
            match stack.sockets.open(Transport::Tcp(connection)) {
                Ok(new) => {
                    if listener.is_inet6() {
                        new.make_inet6();
                    }
                    Ok((new, peer))
                }
                Err(_) => {
                    let now = stack.now_ns();
                    let Stack { ip, tcp, .. } = stack;
                    tcp.abort(now, connection, ip);
                    Err(Errno::TooManySockets)
                }
            }
        })?;
        Ok((self.open_descriptor(context, socket)?, peer))
    }

    /// Sends the SYN and, for blocking sockets, waits for the outcome.
    pub(super) fn tcp_connect<'a>(
        &'a self,
        context: &'a Context<'_>,
        mut stack: MutexGuard<'a, Stack>,
        fd: Fd,
        socket: &Socket,
        handle: tcp::SocketHandle,
        address: SocketAddr,
    ) -> Result<(), Errno> {
        let now = stack.now_ns();
        let connecting = stack
            .tcp
            .status(handle)
            .is_ok_and(|status| status.state == tcp::State::SynSent);
        if connecting {
            return Err(Errno::Already);
        }
        let started = {
            let Stack { ip, tcp, .. } = &mut *stack;
            tcp.connect(now, handle, address, ip)
        };
        self.finish(context, &mut stack);
        started?;
        drop(stack);
        if socket.is_nonblocking() {
            return Err(Errno::InProgress);
        }
        self.blocking(context, fd, socket, |stack| connect_outcome(stack, handle))
    }

    /// Ends reading, writing or both on `fd`. On a datagram socket
    /// (connected or not, as NetBSD allows), reading ends at once: queued
    /// datagrams are dropped, later ones too, and readers wake to end of
    /// file; writing ends in sends failing with [`Errno::BrokenPipe`].
    ///
    /// # Errors
    /// [`Errno::NotConnected`], [`Errno::BadDescriptor`].
    pub fn shutdown(&self, context: &Context<'_>, fd: Fd, how: Shutdown) -> Result<(), Errno> {
        let socket = self.socket_of(context, fd)?;
        self.with_stack(context, |stack| {
            let handle = match socket.transport {
                Transport::Tcp(handle) => handle,
                Transport::Udp(handle) => {
                    let read = matches!(how, Shutdown::Read | Shutdown::Both);
                    let write = matches!(how, Shutdown::Write | Shutdown::Both);
                    return Ok(stack.udp.shutdown(handle, read, write)?);
                }
            };
            let how = match how {
                Shutdown::Read => tcp::Shutdown::Read,
                Shutdown::Write => tcp::Shutdown::Write,
                Shutdown::Both => tcp::Shutdown::Both,
            };
            let now = stack.now_ns();
            let Stack { ip, tcp, .. } = stack;
            Ok(tcp.shutdown(now, handle, how, ip)?)
        })
    }
}

/// Whether a connect finished: `Ok` once established, the error when it
/// failed, [`Errno::WouldBlock`] while the handshake runs.
fn connect_outcome(stack: &mut Stack, handle: tcp::SocketHandle) -> Result<(), Errno> {
    if let Some(error) = stack.tcp.take_error(handle) {
        return Err(error.into());
    }
    let status = stack.tcp.status(handle)?;
    if status.connected {
        Ok(())
    } else if status.state == tcp::State::Closed {
        Err(Errno::ConnectionRefused)
    } else {
        Err(Errno::WouldBlock)
    }
}

fn tcp_handle(socket: &Socket) -> Result<tcp::SocketHandle, Errno> {
    match socket.transport {
        Transport::Tcp(handle) => Ok(handle),
        Transport::Udp(_) => Err(Errno::NotSupported),
    }
}
