//! One client connection's protocol state, sans-IO.
//!
//! The socket glue feeds received bytes to [`Session::input`], sends what
//! [`Session::output`] shows and reports it sent with
//! [`Session::consume_output`]. Requests may be split at any byte and
//! pipelined any number per read; the replies are the same either way.
//!
//! ```
//! use kv::{Clock, Config, Session, Status, Store};
//!
//! let now = Clock::new(0, 1_700_000_000_000_000_000);
//! let mut store = Store::new(Config::default(), [7; 16], now);
//! let mut session = Session::new();
//! let mut sent = Vec::new();
//! for received in [&b"set greeting 0 0 5\r\nhel"[..], b"lo\r\nget greeting\r\n"] {
//!     // A real loop reads the socket only when `wants_input()`, and
//!     // otherwise calls `input(&[], ..)` once the output has drained.
//!     let status = session.input(received, &mut store, now);
//!     while !session.output().is_empty() {
//!         let written = session.output().len(); // socket.write(..)
//!         sent.extend_from_slice(session.output());
//!         session.consume_output(written);
//!     }
//!     assert_eq!(status, Status::Open);
//! }
//! assert_eq!(sent, b"STORED\r\nVALUE greeting 0 5\r\nhello\r\nEND\r\n");
//! ```
//!
//! Buffering is bounded: a command line may hold 2,048 bytes (64 KiB for
//! `get` and `gets`, whose key lists memcached lets grow), a value the
//! store's item size limit; a refused value is dropped as it arrives. While
//! 256 KiB of replies wait to be sent the session stops taking requests
//! from its buffer ([`Session::wants_input`] turns false), so a client
//! that pipelines gets but never reads cannot make it grow without bound,
//! provided the glue stops reading the socket meanwhile.

pub(crate) mod framing;
mod reply;
mod request;
mod statistics;
mod tokens;

use alloc::vec::Vec;

pub use reply::VERSION;

use crate::clock::Clock;
use crate::output::Output;
use crate::store::Store;
use reply::PendingStore;

/// Replies beyond this stop the session taking requests.
const OUTPUT_HIGH_WATER: usize = 256 << 10;

/// Whether the connection lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Keep reading.
    Open,
    /// Send what [`Session::output`] holds, then close (after `quit` or a
    /// line too long).
    Close,
}

/// What the session expects next from its input.
#[derive(Debug)]
enum State {
    Command,
    Value(PendingStore),
    /// Bytes of a refused value still to drop.
    Swallow(usize),
    Closed,
}

/// One connection's state: its unparsed input and its unsent replies.
#[derive(Debug)]
pub struct Session {
    /// Received bytes not yet taken by a request.
    inbox: Vec<u8>,
    /// Bytes at the front of `inbox` known to hold no line end.
    scanned: usize,
    state: State,
    output: Output,
    /// Requests wait in `inbox` for the output to drain.
    stalled: bool,
}

impl Default for Session {
    fn default() -> Session {
        Session::new()
    }
}

impl Session {
    /// A session at the start of a connection.
    pub fn new() -> Session {
        Session {
            inbox: Vec::new(),
            scanned: 0,
            state: State::Command,
            output: Output::default(),
            stalled: false,
        }
    }

    /// Takes received bytes (or none, to resume a stalled session), runs
    /// every complete request and queues the replies.
    pub fn input(&mut self, bytes: &[u8], store: &mut Store, now: Clock) -> Status {
        store.counters_mut().bytes_read += bytes.len() as u64;
        let bytes = self.swallow_directly(bytes);
        if !matches!(self.state, State::Closed) {
            self.inbox.extend_from_slice(bytes);
        }
        let before = self.output.pending();
        self.process(store, now);
        let written = self.output.pending().saturating_sub(before);
        store.counters_mut().bytes_written += written as u64;
        self.status()
    }

    /// Drops the bytes of a refused value without buffering them.
    fn swallow_directly<'b>(&mut self, bytes: &'b [u8]) -> &'b [u8] {
        let State::Swallow(remaining) = &mut self.state else {
            return bytes;
        };
        if !self.inbox.is_empty() {
            return bytes;
        }
        let dropped = (*remaining).min(bytes.len());
        *remaining -= dropped;
        if *remaining == 0 {
            self.state = State::Command;
        }
        &bytes[dropped..]
    }

    /// Runs the requests in `inbox` until it runs dry or replies pile up.
    fn process(&mut self, store: &mut Store, now: Clock) {
        let mut inbox = core::mem::take(&mut self.inbox);
        let mut cursor = 0;
        self.stalled = false;
        loop {
            if self.output.pending() >= OUTPUT_HIGH_WATER {
                self.stalled = cursor < inbox.len();
                break;
            }
            let rest = &inbox[cursor..];
            match self.step(rest, store, now) {
                Some(taken) => cursor += taken,
                None => break,
            }
        }
        inbox.drain(..cursor);
        if matches!(self.state, State::Closed) {
            inbox = Vec::new();
        }
        self.inbox = inbox;
    }

    /// Whether the connection should close once the output is sent.
    pub fn status(&self) -> Status {
        match self.state {
            State::Closed => Status::Close,
            _ => Status::Open,
        }
    }

    /// Whether to read the socket: false while replies wait to drain
    /// (then call `input(&[], ..)` after sending) or after the close.
    pub fn wants_input(&self) -> bool {
        !self.stalled && self.status() == Status::Open
    }

    /// The next reply bytes to send; empty when all are sent.
    pub fn output(&self) -> &[u8] {
        self.output.front()
    }

    /// Marks `count` bytes of [`Session::output`] as sent.
    pub fn consume_output(&mut self, count: usize) {
        self.output.consume(count);
    }

    /// Reply bytes not yet sent, over all pieces.
    pub fn pending_output(&self) -> usize {
        self.output.pending()
    }

    /// Received bytes held while waiting for the rest of a request.
    pub fn buffered_input(&self) -> usize {
        self.inbox.len()
    }

    /// Every unsent reply byte, copied (tests and simple callers).
    pub fn take_output(&mut self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.output.pending());
        self.output.copy_into(&mut bytes);
        self.output.consume(usize::MAX);
        bytes
    }
}
