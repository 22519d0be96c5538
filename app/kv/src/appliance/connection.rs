//! One client connection: bytes from the socket into the session, its
//! replies back out, as a state machine of the service's event loop.
//!
//! The glue honours the session's back-pressure: replies go straight from
//! the session's output to the socket ([`serve::Io::write`], nothing is
//! copied), and while some wait the loop neither reads the socket nor
//! feeds the session; while [`kv::Session::wants_input`] is false (too
//! many replies waiting) the connection asks to be resumed once they are
//! sent, and the session is then fed no new bytes. So a client that
//! pipelines requests but never reads cannot make the appliance buffer
//! without bound. A client that vanishes mid-value leaves the store as it
//! was: the half value is dropped with the session. What the session
//! holds is charged to the `serve` memory account.

use alloc::sync::Arc;

use kernel::base::memory::Account;
use kernel::net::SocketOption;
use kv::{Session, Status};
use serve::{Io, Protocol, Want};

use super::{Shared, clock};

/// Resumptions of a stalled session per advance, at most (the loop then
/// serves other connections before this one's next turn).
const RESUMES: usize = 4;

/// The memcached service.
pub(crate) struct Memcached(pub(crate) Arc<Shared>);

/// One client's session and what it is charged for.
pub(crate) struct Client {
    session: Session,
    account: Account,
    /// Bytes charged for the session's buffers now.
    charged: usize,
}

impl Protocol for Memcached {
    type Session = Client;

    fn open(&self, io: &mut Io<'_, '_>) -> (Client, Want) {
        // A reply may leave in pieces (line, value, END): with Nagle the
        // last waits for the client's delayed ACK, 25 ms a get. memcached
        // sets it too.
        let _ = io
            .net()
            .set_option(io.context(), io.fd(), SocketOption::NoDelay(true));
        let client = Client {
            session: Session::new(),
            account: io.account().clone(),
            charged: 0,
        };
        (client, Want::Input)
    }

    fn advance(&self, client: &mut Client, input: &[u8], io: &mut Io<'_, '_>) -> Want {
        if !input.is_empty() {
            self.feed(&mut client.session, input, io);
        }
        let want = self.drain(&mut client.session, io);
        if client.charge().is_err() {
            return Want::Close;
        }
        want
    }
}

impl Memcached {
    /// Runs the requests in `input` (none: resume a stalled session).
    fn feed(&self, session: &mut Session, input: &[u8], io: &Io<'_, '_>) {
        let context = io.context();
        let mut store = self.0.store.lock(context);
        session.input(input, &mut store, clock(context));
    }

    /// Sends what the session has queued, resuming it while it is stalled
    /// and the socket takes everything; what to wait for then.
    fn drain(&self, session: &mut Session, io: &mut Io<'_, '_>) -> Want {
        for _ in 0..RESUMES {
            while !session.output().is_empty() {
                let written = io.write(session.output());
                session.consume_output(written);
                if written == 0 {
                    break;
                }
            }
            if io.broken() {
                return Want::Close;
            }
            if !session.output().is_empty() {
                return Want::Resume;
            }
            if session.status() == Status::Close {
                return Want::Close;
            }
            if session.wants_input() {
                return Want::Input;
            }
            self.feed(session, &[], io);
        }
        Want::Resume
    }
}

impl Client {
    /// Brings the charge up to what the session buffers now (its unparsed
    /// input and its unsent replies: an upper bound, since large values
    /// are shared with the store rather than copied).
    fn charge(&mut self) -> Result<(), ()> {
        let held = self.session.buffered_input() + self.session.pending_output();
        if held > self.charged {
            self.account.charge(held - self.charged).map_err(|_| ())?;
        } else {
            self.account.release(self.charged - held);
        }
        self.charged = held;
        Ok(())
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.account.release(self.charged);
    }
}
