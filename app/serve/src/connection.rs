//! One connection of the event loop and its turn: flush what waits, read,
//! advance the protocol, and say what to wait for next.
//!
//! A turn never blocks (the socket is non-blocking) and does a bounded
//! amount of work ([`ROUNDS`] reads or resumptions), so one busy
//! connection cannot keep the loop from the others. Its result is the
//! readiness to watch for next, or that the connection is done, or that it
//! must be parked: it was woken by a hang-up it cannot act on (the peer
//! closed its side while our send buffer is full), which a watch set
//! keeps reporting; watching it would spin.

use kernel::Context;
use kernel::base::memory::Account;
use kernel::net::{Errno, Fd, Net, PollEvents};

use crate::buffer::Buffer;
use crate::protocol::{Io, Protocol, Want};

/// Reads or resumptions one connection may have per turn.
const ROUNDS: usize = 4;

/// One open connection.
#[derive(Debug)]
pub(crate) struct Connection<S> {
    pub(crate) fd: Fd,
    pub(crate) want: Want,
    /// When it last received bytes or began waiting for them: the idle
    /// clock, which only runs while it waits for input.
    pub(crate) idle_since: u64,
    /// Out of the watch set, retried on a timer (see [`Next::Park`]).
    pub(crate) parked: bool,
    /// What the watch set watches it for.
    pub(crate) watching: PollEvents,
    /// Output the socket has not taken yet.
    outbox: Buffer,
    session: S,
}

/// What a turn leaves a connection waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Watch for these.
    Poll(PollEvents),
    /// Retry later without watching (a hang-up that cannot be acted on).
    Park,
    /// Close it.
    Close,
}

/// What every turn of one loop uses: the loop's buffers and handles.
pub(crate) struct Turns<'a, 'k, P> {
    pub(crate) context: &'a Context<'k>,
    pub(crate) net: &'a Net,
    pub(crate) protocol: &'a P,
    pub(crate) account: &'a Account,
    /// Where reads land.
    pub(crate) input: &'a mut [u8],
    /// Where [`Io::write_with`] fills.
    pub(crate) scratch: &'a mut [u8],
    pub(crate) now: u64,
}

impl<S> Connection<S> {
    /// A connection on `fd` opened by `protocol` (which may already send).
    pub(crate) fn open<P: Protocol<Session = S>>(fd: Fd, turns: &mut Turns<'_, '_, P>) -> Self {
        let mut outbox = Buffer::new();
        let mut io = Io::new(
            turns.context,
            turns.net,
            fd,
            &mut outbox,
            turns.scratch,
            turns.account,
        );
        let (session, want) = turns.protocol.open(&mut io);
        let want = if io.broken() { Want::Close } else { want };
        Self {
            fd,
            want,
            idle_since: turns.now,
            parked: false,
            watching: PollEvents::NONE,
            outbox,
            session,
        }
    }

    /// Whether it has output waiting.
    pub(crate) fn has_output(&self) -> bool {
        !self.outbox.is_empty()
    }
}

impl<S: Send + 'static> Connection<S> {
    /// Acts on `returned` (what the watch set said, or a retry's guess).
    pub(crate) fn turn<P: Protocol<Session = S>>(
        &mut self,
        returned: PollEvents,
        turns: &mut Turns<'_, '_, P>,
    ) -> Next {
        let mut progress = match self.flush(turns) {
            Ok(count) => count > 0,
            Err(_) => return Next::Close,
        };
        if self.outbox.is_empty() {
            match self.advance(returned, turns) {
                Ok(advanced) => progress |= advanced,
                Err(_) => return Next::Close,
            }
        }
        self.next(returned, progress, turns.now)
    }

    /// What to wait for after a turn that did (or did not) make progress.
    fn next(&mut self, returned: PollEvents, progress: bool, now: u64) -> Next {
        if !progress && returned.contains(PollEvents::HANGUP) {
            return Next::Park;
        }
        if !self.outbox.is_empty() {
            return Next::Poll(PollEvents::WRITABLE);
        }
        match self.want {
            Want::Close => Next::Close,
            Want::Resume => Next::Poll(PollEvents::WRITABLE),
            Want::Input => {
                if progress {
                    self.idle_since = now;
                }
                Next::Poll(PollEvents::READABLE)
            }
        }
    }

    /// Writes what waits in the outbox; how many bytes went.
    fn flush<P>(&mut self, turns: &mut Turns<'_, '_, P>) -> Result<usize, Errno> {
        let mut sent = 0;
        while !self.outbox.is_empty() {
            let count = match turns
                .net
                .write(turns.context, self.fd, self.outbox.as_slice())
            {
                Ok(count) => count,
                Err(Errno::WouldBlock) => break,
                Err(error) => return Err(error),
            };
            self.outbox.consume(count);
            sent += count;
        }
        Ok(sent)
    }

    /// Reads and advances the protocol, a few rounds at most; whether
    /// anything moved. `Err` when the connection is over (end of stream,
    /// an error, the protocol broke it).
    fn advance<P: Protocol<Session = S>>(
        &mut self,
        returned: PollEvents,
        turns: &mut Turns<'_, '_, P>,
    ) -> Result<bool, ()> {
        let mut progress = false;
        let input_or_end = PollEvents::READABLE | PollEvents::HANGUP | PollEvents::ERROR;
        let mut may_read = !(returned & input_or_end).is_empty();
        for _ in 0..ROUNDS {
            let received = match self.want {
                Want::Close => return Ok(progress),
                Want::Resume => 0,
                Want::Input if !may_read => return Ok(progress),
                Want::Input => match turns.net.read(turns.context, self.fd, turns.input) {
                    Ok(0) => return Err(()),
                    Ok(count) => count,
                    Err(Errno::WouldBlock) => return Ok(progress),
                    Err(_) => return Err(()),
                },
            };
            // A read that did not fill the buffer most likely emptied the
            // socket: wait for readiness before reading again.
            may_read = received == turns.input.len();
            let mut io = Io::new(
                turns.context,
                turns.net,
                self.fd,
                &mut self.outbox,
                turns.scratch,
                turns.account,
            );
            self.want =
                turns
                    .protocol
                    .advance(&mut self.session, &turns.input[..received], &mut io);
            let (broken, blocked, wrote) = (io.broken(), io.blocked(), io.wrote());
            if broken {
                return Err(());
            }
            progress |= received > 0 || wrote;
            if blocked || !self.outbox.is_empty() {
                return Ok(progress);
            }
        }
        Ok(progress)
    }
}
