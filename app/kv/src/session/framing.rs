//! Cutting the input into command lines and value blocks.
//!
//! A line ends at `\n`, an optional `\r` before it dropped (memcached
//! accepts a bare `\n`). A line longer than its limit is refused whether
//! its end has arrived or not, so the answer does not depend on how the
//! bytes were split.

use super::reply::{self, Next};
use super::request;
use super::{Session, State};
use crate::clock::Clock;
use crate::store::Store;

/// The longest command line memcached reads without closing (2,048).
pub(crate) const LINE_LIMIT: usize = 2048;
/// The longest `get`/`gets` line: memcached lets key lists grow; we cap.
pub(crate) const MULTI_GET_LINE_LIMIT: usize = 64 << 10;

const LINE_TOO_LONG: &[u8] = b"CLIENT_ERROR line too long\r\n";

fn line_limit(line: &[u8]) -> usize {
    if line.starts_with(b"get ") || line.starts_with(b"gets ") {
        MULTI_GET_LINE_LIMIT
    } else {
        LINE_LIMIT
    }
}

impl Session {
    /// Takes one request, value or dropped chunk from the front of `rest`;
    /// returns the bytes taken, or None until more arrive.
    pub(super) fn step(&mut self, rest: &[u8], store: &mut Store, now: Clock) -> Option<usize> {
        match &mut self.state {
            State::Command => self.command(rest, store, now),
            State::Value(pending) => {
                let block = rest.get(..pending.length + 2)?;
                reply::finish_store(&mut self.output, store, now, pending, block);
                self.state = State::Command;
                Some(block.len())
            }
            State::Swallow(remaining) => {
                let dropped = (*remaining).min(rest.len());
                *remaining -= dropped;
                if *remaining == 0 {
                    self.state = State::Command;
                }
                (dropped > 0).then_some(dropped)
            }
            State::Closed => None,
        }
    }

    fn command(&mut self, rest: &[u8], store: &mut Store, now: Clock) -> Option<usize> {
        let unscanned = rest.get(self.scanned..).unwrap_or(&[]);
        let Some(end) = unscanned.iter().position(|&byte| byte == b'\n') else {
            self.scanned = rest.len();
            if rest.len() > line_limit(rest) {
                self.refuse_line();
                return Some(rest.len());
            }
            return None;
        };
        let end = self.scanned + end;
        self.scanned = 0;
        let line = &rest[..end];
        if line.len() > line_limit(line) {
            self.refuse_line();
            return Some(end + 1);
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.run(line, store, now);
        Some(end + 1)
    }

    fn refuse_line(&mut self) {
        self.output.text(LINE_TOO_LONG);
        self.state = State::Closed;
    }

    fn run(&mut self, line: &[u8], store: &mut Store, now: Clock) {
        let command = match request::parse(line) {
            Ok(command) => command,
            Err(rejection) => {
                if !rejection.noreply {
                    self.output.text(rejection.reply);
                }
                return;
            }
        };
        self.state = match reply::execute(command, store, now, &mut self.output) {
            Next::Command => State::Command,
            Next::Value(pending) => State::Value(pending),
            Next::Swallow(length) => State::Swallow(length),
            Next::Close => State::Closed,
        };
    }
}
