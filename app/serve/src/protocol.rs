//! What a service is to the event loop: a state machine per connection,
//! fed the bytes that arrive, answering through an [`Io`].
//!
//! The loop calls [`Protocol::advance`] with the bytes it read, or with
//! none when the connection asked to be resumed ([`Want::Resume`]). The
//! protocol answers with [`Io::send`] (what the socket does not take now
//! waits in the connection's outbox, charged) or [`Io::write_with`] (only
//! what fits, nothing kept: a generator such as chargen). While the
//! outbox holds bytes the loop neither reads the connection nor advances
//! it: that is the back-pressure that bounds a connection's memory, so a
//! protocol that answers each input with a bounded amount of output is
//! bounded itself.

use kernel::Context;
use kernel::base::memory::Account;
use kernel::net::{Errno, Fd, Net};

use crate::buffer::Buffer;

/// What a connection waits for after an advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Bytes from the peer (once its output has been sent).
    Input,
    /// To be advanced again, with no bytes, once its output has been sent
    /// and the socket has room: it has more to say (a generator, or a
    /// session holding requests until its replies drain).
    Resume,
    /// To be closed once its output has been sent.
    Close,
}

/// A TCP service's protocol: one [`Protocol::Session`] per connection.
pub trait Protocol: Send + Sync + 'static {
    /// One connection's state. Kept small: ten thousand idle ones are
    /// ten thousand of these.
    type Session: Send + 'static;

    /// The state of a connection just accepted (socket options may be set
    /// through `io`) and what it waits for first: [`Want::Input`] for a
    /// service that answers, [`Want::Resume`] for one that speaks first.
    fn open(&self, io: &mut Io<'_, '_>) -> (Self::Session, Want);

    /// Takes `input` (empty when resumed) and answers through `io`.
    fn advance(&self, session: &mut Self::Session, input: &[u8], io: &mut Io<'_, '_>) -> Want;
}

/// One connection's socket as a protocol sees it during a call.
pub struct Io<'a, 'k> {
    context: &'a Context<'k>,
    net: &'a Net,
    fd: Fd,
    outbox: &'a mut Buffer,
    scratch: &'a mut [u8],
    account: &'a Account,
    /// Whether a write found the socket full (or failed).
    blocked: bool,
    /// Whether any bytes were sent or queued.
    wrote: bool,
    /// The connection failed (a write error, memory refused).
    broken: bool,
}

impl core::fmt::Debug for Io<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Io")
            .field("fd", &self.fd)
            .field("pending", &self.outbox.len())
            .field("blocked", &self.blocked)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl<'a, 'k> Io<'a, 'k> {
    pub(crate) fn new(
        context: &'a Context<'k>,
        net: &'a Net,
        fd: Fd,
        outbox: &'a mut Buffer,
        scratch: &'a mut [u8],
        account: &'a Account,
    ) -> Self {
        Self {
            context,
            net,
            fd,
            outbox,
            scratch,
            account,
            blocked: false,
            wrote: false,
            broken: false,
        }
    }

    /// The calling thread's kernel context.
    pub fn context(&self) -> &'a Context<'k> {
        self.context
    }

    /// The net faction (for socket options on [`Io::fd`]).
    pub fn net(&self) -> &'a Net {
        self.net
    }

    /// The connection's socket.
    pub fn fd(&self) -> Fd {
        self.fd
    }

    /// The account per-connection state is charged to.
    pub fn account(&self) -> &'a Account {
        self.account
    }

    /// Sends `bytes`: what the socket does not take now waits in the
    /// outbox and goes out, in order, before anything else happens on
    /// this connection. A write error or a refused charge breaks the
    /// connection (the loop closes it).
    pub fn send(&mut self, bytes: &[u8]) {
        if self.broken || bytes.is_empty() {
            return;
        }
        let written = self.write(bytes);
        if written < bytes.len() && self.outbox.extend(self.account, &bytes[written..]).is_err() {
            self.broken = true;
        }
        self.wrote = true;
    }

    /// Lets `fill` write into a scratch buffer and sends as much of what
    /// it filled as the socket takes now, keeping nothing: returns how
    /// many bytes went (0 while output waits or the socket is full).
    pub fn write_with(&mut self, fill: impl FnOnce(&mut [u8]) -> usize) -> usize {
        if self.broken || self.blocked || !self.outbox.is_empty() {
            return 0;
        }
        let filled = fill(self.scratch).min(self.scratch.len());
        match self
            .net
            .write(self.context, self.fd, &self.scratch[..filled])
        {
            Ok(count) => {
                self.blocked = count < filled;
                self.wrote |= count > 0;
                count
            }
            Err(error) => {
                self.note(error);
                0
            }
        }
    }

    /// Bytes waiting in the outbox.
    pub fn pending(&self) -> usize {
        self.outbox.len()
    }

    /// Whether the socket was found full during this call.
    pub fn blocked(&self) -> bool {
        self.blocked
    }

    /// Whether any bytes were sent or queued during this call.
    pub(crate) fn wrote(&self) -> bool {
        self.wrote
    }

    /// Whether the connection has failed.
    pub fn broken(&self) -> bool {
        self.broken
    }

    /// Sends as much of `bytes` as the socket takes now, keeping nothing
    /// (for a session that holds its own output): how many bytes went, 0
    /// while the outbox holds bytes or the socket is full.
    pub fn write(&mut self, bytes: &[u8]) -> usize {
        if self.broken || self.blocked || !self.outbox.is_empty() || bytes.is_empty() {
            return 0;
        }
        match self.net.write(self.context, self.fd, bytes) {
            Ok(count) => {
                self.blocked = count < bytes.len();
                self.wrote |= count > 0;
                count
            }
            Err(error) => {
                self.note(error);
                0
            }
        }
    }

    fn note(&mut self, error: Errno) {
        self.blocked = true;
        if error != Errno::WouldBlock {
            self.broken = true;
        }
    }
}
