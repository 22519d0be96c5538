//! The socket calls that are mostly stream sockets': listen, accept,
//! connect's wait for the handshake, shutdown (datagram sockets too).

use core::net::SocketAddr;

use base::Context;
use base::sync::MutexGuard;

use super::table::{Fd, Transport};
use super::{Errno, Shutdown, family, transport};
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
        self.with_memory_retry(context, |stack| {
            let handle = tcp_handle(stack, fd)?;
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
        self.blocking(context, fd, |stack| {
            let listener = tcp_handle(stack, fd)?;
            let connection = stack.tcp.accept(listener)?;
            let peer = stack.tcp.peer_address(connection)?;
            let peer = family::outward(stack, fd, peer);
            let inet6 = family::is_inet6(stack, fd);
            match stack.sockets.insert(Transport::Tcp(connection)) {
                Some(new) => {
                    if inet6 {
                        family::make_inet6(stack, new);
                    }
                    Ok((new, peer))
                }
                None => {
                    let now = stack.now_ns();
                    let Stack { ip, tcp, .. } = stack;
                    tcp.abort(now, connection, ip);
                    Err(Errno::TooManySockets)
                }
            }
        })
    }

    /// Sends the SYN and, for blocking sockets, waits for the outcome.
    pub(super) fn tcp_connect<'a>(
        &'a self,
        context: &'a Context<'_>,
        mut stack: MutexGuard<'a, Stack>,
        fd: Fd,
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
        let nonblocking = stack.sockets.get(fd).is_some_and(|e| e.nonblocking);
        drop(stack);
        if nonblocking {
            return Err(Errno::InProgress);
        }
        self.blocking(context, fd, |stack| connect_outcome(stack, handle))
    }

    /// Ends reading, writing or both on `fd`. On a datagram socket
    /// (connected or not, as NetBSD allows), reading ends at once: queued
    /// datagrams are dropped, later ones too, and readers wake to end of
    /// file; writing ends in sends failing with [`Errno::BrokenPipe`].
    ///
    /// # Errors
    /// [`Errno::NotConnected`], [`Errno::BadDescriptor`].
    pub fn shutdown(&self, context: &Context<'_>, fd: Fd, how: Shutdown) -> Result<(), Errno> {
        self.with_stack(context, |stack| {
            let handle = match transport(stack, fd)? {
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

fn tcp_handle(stack: &Stack, fd: Fd) -> Result<tcp::SocketHandle, Errno> {
    match transport(stack, fd)? {
        Transport::Tcp(handle) => Ok(handle),
        Transport::Udp(_) => Err(Errno::NotSupported),
    }
}
