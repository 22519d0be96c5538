//! send(2), recv(2) and recvfrom(2) with their flags: MSG_DONTWAIT,
//! MSG_WAITALL and MSG_PEEK.

use base::Context;

use core::net::SocketAddr;

use super::table::{Fd, Socket, Transport};
use super::{Errno, family, write_once};
use crate::net::Net;
use crate::stack::Stack;

/// Flags of one send or receive call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageFlags(u8);

impl MessageFlags {
    /// No flags: the socket's own mode decides.
    pub const NONE: Self = Self(0);
    /// MSG_DONTWAIT: this call does not block, whatever the socket's mode.
    pub const DONT_WAIT: Self = Self(1);
    /// MSG_WAITALL: a stream receive waits until the buffer is full (or
    /// end of stream, or an error).
    pub const WAIT_ALL: Self = Self(2);
    /// MSG_PEEK: what a receive would return, left to be received again
    /// (with WAIT_ALL, one peek of what is there).
    pub const PEEK: Self = Self(4);

    /// Both sets of flags.
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl Net {
    /// Sends `data` on a connected socket. Without [`MessageFlags::DONT_WAIT`]
    /// this is [`Net::write`]; with it, one attempt that takes what fits.
    ///
    /// # Errors
    /// As [`Net::write`]; [`Errno::WouldBlock`] when nothing fits now.
    pub fn send(
        &self,
        context: &Context<'_>,
        fd: Fd,
        data: &[u8],
        flags: MessageFlags,
    ) -> Result<usize, Errno> {
        if !flags.contains(MessageFlags::DONT_WAIT) {
            return self.write(context, fd, data);
        }
        let socket = self.socket_of(context, fd)?;
        self.attempt_or_wait(context, fd, &socket, false, |stack| {
            write_once(stack, &socket, data)
        })
    }

    /// Receives into `buffer`. [`MessageFlags::DONT_WAIT`] tries once;
    /// [`MessageFlags::WAIT_ALL`] keeps reading a stream until `buffer` is
    /// full or the stream ends (a datagram is one datagram either way).
    ///
    /// # Errors
    /// As [`Net::read`]. With WAIT_ALL, an error after some bytes returns
    /// the bytes; the error comes with the next call.
    pub fn recv(
        &self,
        context: &Context<'_>,
        fd: Fd,
        buffer: &mut [u8],
        flags: MessageFlags,
    ) -> Result<usize, Errno> {
        let socket = self.socket_of(context, fd)?;
        let stream = matches!(socket.transport, Transport::Tcp(_));
        let may_wait = !flags.contains(MessageFlags::DONT_WAIT);
        if flags.contains(MessageFlags::PEEK) {
            return self.attempt_or_wait(context, fd, &socket, may_wait, |stack| {
                peek_once(stack, &socket, buffer)
            });
        }
        let mut filled = 0;
        loop {
            let rest = &mut buffer[filled..];
            let result = self.attempt_or_wait(context, fd, &socket, may_wait, |stack| {
                read_once(stack, &socket, rest)
            });
            match result {
                Ok(0) => return Ok(filled),
                Ok(count) => filled += count,
                Err(error) if filled == 0 => return Err(error),
                Err(_) => return Ok(filled),
            }
            if !flags.contains(MessageFlags::WAIT_ALL) || !stream || filled == buffer.len() {
                return Ok(filled);
            }
        }
    }

    /// Receives one datagram and says who sent it, with
    /// [`MessageFlags::DONT_WAIT`] and [`MessageFlags::PEEK`] as for
    /// [`Net::recv`].
    ///
    /// # Errors
    /// [`Errno::WouldBlock`], [`Errno::NotSupported`] on stream sockets.
    pub fn receive_from_with(
        &self,
        context: &Context<'_>,
        fd: Fd,
        buffer: &mut [u8],
        flags: MessageFlags,
    ) -> Result<(usize, SocketAddr), Errno> {
        let socket = self.socket_of(context, fd)?;
        let Transport::Udp(handle) = socket.transport else {
            return Err(Errno::NotSupported);
        };
        let may_wait = !flags.contains(MessageFlags::DONT_WAIT);
        let peek = flags.contains(MessageFlags::PEEK);
        self.attempt_or_wait(context, fd, &socket, may_wait, |stack| {
            let (count, sender) = match peek {
                true => stack.udp.peek_from(handle, buffer)?,
                false => stack.udp.receive_from(handle, buffer)?,
            };
            Ok((count, family::outward(&socket, sender)))
        })
    }
}

/// One receive that leaves the data where it is (MSG_PEEK).
fn peek_once(stack: &mut Stack, socket: &Socket, buffer: &mut [u8]) -> Result<usize, Errno> {
    match socket.transport {
        Transport::Tcp(handle) => {
            let now = stack.now_ns();
            Ok(stack.tcp.peek(now, handle, buffer)?)
        }
        Transport::Udp(handle) => Ok(stack.udp.peek_from(handle, buffer)?.0),
    }
}

pub(super) fn read_once(
    stack: &mut Stack,
    socket: &Socket,
    buffer: &mut [u8],
) -> Result<usize, Errno> {
    if buffer.is_empty() {
        return Ok(0);
    }
    match socket.transport {
        Transport::Tcp(handle) => {
            let now = stack.now_ns();
            let Stack { ip, tcp, .. } = stack;
            Ok(tcp.recv(now, handle, buffer, ip)?)
        }
        Transport::Udp(handle) => Ok(stack.udp.receive_from(handle, buffer)?.0),
    }
}
