//! Runs a parsed request against the store and writes memcached's reply.

use alloc::vec::Vec;

use super::request::{Command, Request};
use super::tokens::split;
use crate::clock::Clock;
use crate::key::Key;
use crate::number::{DECIMAL_U64_LENGTH, format_u64};
use crate::output::Output;
use crate::store::{Delta, DeltaError, NewItem, Store, StoreMode, StoreOutcome};

/// The version `version` and `stats` report.
pub const VERSION: &str = "1.6.0-anykernel";

const OBJECT_TOO_LARGE: &[u8] = b"SERVER_ERROR object too large for cache\r\n";
const BAD_DATA_CHUNK: &[u8] = b"CLIENT_ERROR bad data chunk\r\n";

/// What the session reads after a request.
#[derive(Debug)]
pub(crate) enum Next {
    Command,
    /// The value of a storage command: `length` bytes and `\r\n`.
    Value(PendingStore),
    /// A refused value's bytes (and `\r\n`) to read and drop.
    Swallow(usize),
    Close,
}

/// A storage command waiting for its value.
#[derive(Debug)]
pub(crate) struct PendingStore {
    mode: StoreMode,
    /// A copy of the key (the line it came in is gone by then).
    key: Vec<u8>,
    flags: u32,
    exptime: i32,
    pub(crate) length: usize,
    noreply: bool,
}

impl PendingStore {
    fn key(&self) -> Key<'_> {
        // The bytes were a `Key` when copied in.
        Key(&self.key)
    }
}

/// Replies, unless the command said `noreply`.
pub(crate) struct Reply<'o> {
    pub(crate) output: &'o mut Output,
    pub(crate) noreply: bool,
}

impl Reply<'_> {
    pub(crate) fn line(&mut self, text: &[u8]) {
        if !self.noreply {
            self.output.text(text);
        }
    }

    fn number(&mut self, value: u64) {
        let mut buffer = [0; DECIMAL_U64_LENGTH];
        self.line(format_u64(value, &mut buffer));
    }
}

/// Runs `command`; the reply goes to `output`.
pub(crate) fn execute(
    command: Command<'_>,
    store: &mut Store,
    now: Clock,
    output: &mut Output,
) -> Next {
    let mut reply = Reply {
        output,
        noreply: command.noreply,
    };
    match command.request {
        Request::Retrieve {
            keys,
            with_cas,
            touch,
        } => retrieve(&mut reply, store, now, keys, with_cas, touch),
        Request::Store {
            mode,
            key,
            flags,
            exptime,
            length,
        } => {
            let pending = PendingStore {
                mode,
                key: key.as_bytes().to_vec(),
                flags,
                exptime,
                length,
                noreply: command.noreply,
            };
            return begin_store(&mut reply, store, now, pending);
        }
        Request::Delete(key) => match store.delete(key, now) {
            true => reply.line(b"DELETED\r\n"),
            false => reply.line(b"NOT_FOUND\r\n"),
        },
        Request::Arithmetic(key, delta) => arithmetic(&mut reply, store, now, key, delta),
        Request::Touch(key, exptime) => match store.touch(key, exptime.into(), now) {
            true => reply.line(b"TOUCHED\r\n"),
            false => reply.line(b"NOT_FOUND\r\n"),
        },
        Request::FlushAll(delay) => {
            store.flush_all(delay.into(), now);
            reply.line(b"OK\r\n");
        }
        Request::Stats => super::statistics::write(&mut reply, store, now),
        Request::StatsReset => {
            store.reset_counters();
            reply.line(b"RESET\r\n");
        }
        Request::Version => {
            reply.line(b"VERSION ");
            reply.line(VERSION.as_bytes());
            reply.line(b"\r\n");
        }
        Request::Verbosity => reply.line(b"OK\r\n"),
        Request::Quit => return Next::Close,
    }
    Next::Command
}

fn retrieve(
    reply: &mut Reply<'_>,
    store: &mut Store,
    now: Clock,
    keys: &[u8],
    with_cas: bool,
    touch: Option<i32>,
) {
    for key in split(keys) {
        // `parse` checked every key.
        let key = Key(key);
        let hit = match touch {
            Some(exptime) => store.get_and_touch(key, exptime.into(), now),
            None => store.get(key, now),
        };
        let Some(hit) = hit else { continue };
        reply.line(b"VALUE ");
        reply.line(key.as_bytes());
        reply.line(b" ");
        reply.number(hit.flags.into());
        reply.line(b" ");
        reply.number(hit.value.len() as u64);
        if with_cas {
            reply.line(b" ");
            reply.number(hit.cas);
        }
        reply.line(b"\r\n");
        reply.output.value(hit.value);
        reply.line(b"\r\n");
    }
    reply.line(b"END\r\n");
}

fn arithmetic(reply: &mut Reply<'_>, store: &mut Store, now: Clock, key: Key<'_>, delta: Delta) {
    let result = match delta {
        Delta::Increment(amount) => store.increment(key, amount, now),
        Delta::Decrement(amount) => store.decrement(key, amount, now),
    };
    match result {
        Ok(value) => {
            reply.number(value);
            reply.line(b"\r\n");
        }
        Err(DeltaError::NotFound) => reply.line(b"NOT_FOUND\r\n"),
        Err(DeltaError::NonNumeric) => {
            reply.line(b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n")
        }
        Err(DeltaError::OutOfMemory) => reply.line(b"SERVER_ERROR out of memory\r\n"),
    }
}

/// A storage command's line is in: read its value, or refuse it unread.
fn begin_store(
    reply: &mut Reply<'_>,
    store: &mut Store,
    now: Clock,
    pending: PendingStore,
) -> Next {
    if pending.length > store.config().item_size_limit {
        reply.line(OBJECT_TOO_LARGE);
        store.refuse_too_large(pending.mode, pending.key(), now);
        return Next::Swallow(pending.length + 2);
    }
    Next::Value(pending)
}

/// A storage command's value is in: `block` is the value and its `\r\n`.
pub(crate) fn finish_store(
    output: &mut Output,
    store: &mut Store,
    now: Clock,
    pending: &PendingStore,
    block: &[u8],
) {
    let mut reply = Reply {
        output,
        noreply: pending.noreply,
    };
    let (value, end) = block.split_at(pending.length.min(block.len()));
    if end != b"\r\n" {
        reply.line(BAD_DATA_CHUNK);
        return;
    }
    let new = NewItem {
        key: pending.key(),
        flags: pending.flags,
        exptime: pending.exptime.into(),
        value,
    };
    reply.line(match store.store(pending.mode, new, now) {
        StoreOutcome::Stored => b"STORED\r\n",
        StoreOutcome::NotStored => b"NOT_STORED\r\n",
        StoreOutcome::Exists => b"EXISTS\r\n",
        StoreOutcome::NotFound => b"NOT_FOUND\r\n",
        StoreOutcome::TooLarge => OBJECT_TOO_LARGE,
        StoreOutcome::OutOfMemory => b"SERVER_ERROR out of memory storing object\r\n",
    });
}
