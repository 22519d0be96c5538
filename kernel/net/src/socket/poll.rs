//! poll(2): readiness of many sockets, waiting with a deadline.
//!
//! A poller checks every descriptor under the stack lock; if none is
//! ready it sleeps: on the socket's own condition variable when it polls
//! one descriptor (the common case, e.g. a read with an idle timeout), or
//! on the faction's poll condition variable, which the stack notifies
//! whenever any socket's readiness changes while somebody polls several.
//! Spurious wakeups only cost a rescan.
//!
//! Descriptors are the caller's process's: a socket reports its
//! transport's readiness; a descriptor of another faction (a file) never
//! blocks, so it is always readable and writable, as POSIX has regular
//! files; a number not open reports INVALID.

use core::ops::{BitAnd, BitOr, BitOrAssign};

use base::Context;
use base::Process;
use base::descriptor::DescriptorError;

use super::Errno;
use super::table::{Fd, Socket, Transport};
use crate::net::Net;
use crate::stack::Stack;

/// A set of readiness conditions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollEvents(u8);

impl PollEvents {
    /// No condition.
    pub const NONE: Self = Self(0);
    /// Data (or a connection, or end of stream) to read (POLLIN).
    pub const READABLE: Self = Self(1);
    /// Room to write (POLLOUT).
    pub const WRITABLE: Self = Self(2);
    /// The peer is gone (POLLHUP); always reported.
    pub const HANGUP: Self = Self(4);
    /// An error is pending (POLLERR); always reported.
    pub const ERROR: Self = Self(8);
    /// Not an open descriptor (POLLNVAL); always reported.
    pub const INVALID: Self = Self(16);

    /// Whether every condition of `other` is in `self`.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no condition is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for PollEvents {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl BitOrAssign for PollEvents {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

impl BitAnd for PollEvents {
    type Output = Self;
    fn bitand(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }
}

/// One descriptor of a poll call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollFd {
    /// The socket.
    pub fd: Fd,
    /// What the caller waits for.
    pub events: PollEvents,
    /// What is true now (set by `poll`).
    pub returned: PollEvents,
}

impl PollFd {
    /// Waits for `events` on `fd`.
    pub fn new(fd: Fd, events: PollEvents) -> Self {
        Self {
            fd,
            events,
            returned: PollEvents::NONE,
        }
    }
}

impl Net {
    /// Waits until at least one of `fds` is ready or `timeout_ns` passes
    /// (`None`: no timeout; `Some(0)`: just look). Returns how many are
    /// ready; each `returned` says what.
    ///
    /// # Errors
    /// None today; the `Result` leaves room for interrupted waits.
    pub fn poll(
        &self,
        context: &Context<'_>,
        fds: &mut [PollFd],
        timeout_ns: Option<u64>,
    ) -> Result<usize, Errno> {
        let deadline = timeout_ns.map(|t| context.now_ns().saturating_add(t));
        let process = context.process();
        let mut stack = self.lock(context);
        loop {
            let ready = scan(&stack, process, fds);
            let expired = deadline.is_some_and(|d| context.now_ns() >= d);
            if ready > 0 || expired {
                return Ok(ready);
            }
            // One descriptor: sleep on its own condition variable, which
            // every change of that socket (and its close) notifies, so
            // that many single-socket pollers do not all wake for each
            // other's events. Several: the shared poll condition variable.
            let own = match fds {
                [only] => process
                    .descriptor::<Socket>(only.fd)
                    .ok()
                    .map(|socket| socket.wait.clone()),
                _ => None,
            };
            let shared = own.is_none();
            let wait = own.as_deref().unwrap_or(&self.poll_wait);
            if shared {
                stack.sockets.pollers += 1;
            }
            stack = match deadline {
                Some(deadline) => wait.wait_until(stack, deadline).0,
                None => wait.wait(stack),
            };
            if shared {
                stack.sockets.pollers -= 1;
            }
            stack.set_now(context.now_ns());
        }
    }
}

fn scan(stack: &Stack, process: &Process, fds: &mut [PollFd]) -> usize {
    let always = PollEvents::HANGUP | PollEvents::ERROR | PollEvents::INVALID;
    let mut ready = 0;
    for poll in fds.iter_mut() {
        poll.returned = readiness(stack, process, poll.fd) & (poll.events | always);
        if !poll.returned.is_empty() {
            ready += 1;
        }
    }
    ready
}

/// What is true of `process`'s descriptor `fd` now.
pub(crate) fn readiness(stack: &Stack, process: &Process, fd: Fd) -> PollEvents {
    let socket = match process.descriptor::<Socket>(fd) {
        Ok(socket) => socket,
        Err(DescriptorError::WrongKind) => return PollEvents::READABLE | PollEvents::WRITABLE,
        Err(_) => return PollEvents::INVALID,
    };
    transport_readiness(stack, socket.transport)
}

/// What is true of the socket of `transport` now.
pub(crate) fn transport_readiness(stack: &Stack, transport: Transport) -> PollEvents {
    match transport {
        Transport::Udp(handle) => {
            let readable = stack.udp.readable(handle);
            PollEvents::WRITABLE
                | if readable {
                    PollEvents::READABLE
                } else {
                    PollEvents::NONE
                }
        }
        Transport::Tcp(handle) => tcp_readiness(stack, handle),
    }
}

fn tcp_readiness(stack: &Stack, handle: tcp::SocketHandle) -> PollEvents {
    let Ok(status) = stack.tcp.status(handle) else {
        return PollEvents::INVALID;
    };
    let mut events = PollEvents::NONE;
    if status.readable > 0 || status.end_of_file || status.acceptable || status.error.is_some() {
        events |= PollEvents::READABLE;
    }
    if status.connected && status.writable > 0 {
        events |= PollEvents::WRITABLE;
    }
    if status.error.is_some() {
        events |= PollEvents::ERROR;
    }
    let gone = status.connected && status.state == tcp::State::Closed;
    if gone || (status.end_of_file && status.writable == 0 && status.connected) {
        events |= PollEvents::HANGUP;
    }
    events
}
