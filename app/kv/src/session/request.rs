//! A command line parsed into a request, with memcached 1.6's own errors.
//!
//! Tokens are separated by spaces only (tabs belong to tokens, as in
//! memcached). Counting mistakes answer `ERROR`; a bad key or number
//! answers the `CLIENT_ERROR` memcached's `proto_text.c` gives for that
//! command. `noreply` is recognised, as memcached does, as the last token
//! of any command that takes it, and silences every reply of the command
//! after the token count was found right, errors included.

use super::tokens::{Tokens, after_tokens, split};
use crate::key::{Key, KeyError};
use crate::number::{parse_i32, parse_u32, parse_u64};
use crate::store::{Delta, StoreMode};

/// A request, checked and ready to run.
#[derive(Debug)]
pub(crate) enum Request<'a> {
    /// get, gets, gat, gats: `keys` is the rest of the line, all valid.
    Retrieve {
        keys: &'a [u8],
        with_cas: bool,
        touch: Option<i32>,
    },
    /// The storage commands; their value follows the line.
    Store {
        mode: StoreMode,
        key: Key<'a>,
        flags: u32,
        exptime: i32,
        length: usize,
    },
    Delete(Key<'a>),
    Arithmetic(Key<'a>, Delta),
    Touch(Key<'a>, i32),
    FlushAll(i32),
    Stats,
    StatsReset,
    Version,
    Verbosity,
    Quit,
}

/// A request and whether the client asked for no reply.
#[derive(Debug)]
pub(crate) struct Command<'a> {
    pub(crate) request: Request<'a>,
    pub(crate) noreply: bool,
}

/// A line that is no request: the reply, unless `noreply` silenced it.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub(crate) reply: &'static [u8],
    pub(crate) noreply: bool,
}

pub(crate) const ERROR: &[u8] = b"ERROR\r\n";
const BAD_FORMAT: &[u8] = b"CLIENT_ERROR bad command line format\r\n";
const BAD_EXPTIME: &[u8] = b"CLIENT_ERROR invalid exptime argument\r\n";
const BAD_DELTA: &[u8] = b"CLIENT_ERROR invalid numeric delta argument\r\n";
const BAD_DELETE: &[u8] =
    b"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n";

/// Parses one command line (without its line end).
pub(crate) fn parse(line: &[u8]) -> Result<Command<'_>, Rejection> {
    let tokens = Tokens::of(line);
    let name = tokens.get(0);
    if name.len() < 2 {
        return Err(reject(ERROR, false));
    }
    // memcached honours `noreply` only on commands that change something.
    let takes_noreply = !matches!(
        name,
        b"get" | b"gets" | b"gat" | b"gats" | b"stats" | b"version" | b"quit"
    );
    let noreply = takes_noreply && tokens.noreply();
    let request = match name {
        b"get" | b"gets" | b"gat" | b"gats" => retrieve(line, &tokens),
        b"set" | b"add" | b"replace" | b"append" | b"prepend" | b"cas" => storage(&tokens),
        b"delete" => delete(&tokens),
        b"incr" | b"decr" => arithmetic(&tokens),
        b"touch" => touch(&tokens),
        b"flush_all" => flush_all(&tokens),
        b"stats" => stats(&tokens),
        b"version" => Ok(Request::Version),
        b"quit" => Ok(Request::Quit),
        b"verbosity" => verbosity(&tokens),
        _ => Err(ERROR),
    };
    match request {
        Ok(request) => Ok(Command { request, noreply }),
        // A count error is found before memcached looks for noreply.
        Err(ERROR) => Err(reject(ERROR, false)),
        Err(reply) => Err(reject(reply, noreply)),
    }
}

fn reject(reply: &'static [u8], noreply: bool) -> Rejection {
    Rejection { reply, noreply }
}

/// The key in token 1, or memcached's format error.
fn key<'a>(tokens: &Tokens<'a>) -> Result<Key<'a>, &'static [u8]> {
    Key::new(tokens.get(1)).map_err(|_: KeyError| BAD_FORMAT)
}

fn count_in(
    tokens: &Tokens<'_>,
    range: core::ops::RangeInclusive<usize>,
) -> Result<(), &'static [u8]> {
    if range.contains(&tokens.count) {
        Ok(())
    } else {
        Err(ERROR)
    }
}

fn retrieve<'a>(line: &'a [u8], tokens: &Tokens<'a>) -> Result<Request<'a>, &'static [u8]> {
    count_in(tokens, 2..=usize::MAX)?;
    let name = tokens.get(0);
    let touch = match name.starts_with(b"gat") {
        true => Some(parse_i32(tokens.get(1)).ok_or(BAD_EXPTIME)?),
        false => None,
    };
    let keys = after_tokens(line, 1 + usize::from(touch.is_some()));
    if split(keys).any(|key| Key::new(key).is_err()) {
        return Err(BAD_FORMAT);
    }
    let with_cas = name.ends_with(b"s");
    Ok(Request::Retrieve {
        keys,
        with_cas,
        touch,
    })
}

fn storage<'a>(tokens: &Tokens<'a>) -> Result<Request<'a>, &'static [u8]> {
    let is_cas = tokens.get(0) == b"cas";
    let fields = if is_cas { 6 } else { 5 };
    count_in(tokens, fields..=fields + 1)?;
    let key = key(tokens)?;
    let flags = parse_u32(tokens.get(2)).ok_or(BAD_FORMAT)?;
    let exptime = parse_i32(tokens.get(3)).ok_or(BAD_FORMAT)?;
    let length = parse_i32(tokens.get(4)).ok_or(BAD_FORMAT)?;
    let length = usize::try_from(length)
        .ok()
        .filter(|&l| l <= i32::MAX as usize - 2);
    let length = length.ok_or(BAD_FORMAT)?;
    let mode = match tokens.get(0) {
        b"set" => StoreMode::Set,
        b"add" => StoreMode::Add,
        b"replace" => StoreMode::Replace,
        b"append" => StoreMode::Append,
        b"prepend" => StoreMode::Prepend,
        _ => StoreMode::Cas(parse_u64(tokens.get(5)).ok_or(BAD_FORMAT)?),
    };
    Ok(Request::Store {
        mode,
        key,
        flags,
        exptime,
        length,
    })
}

fn delete<'a>(tokens: &Tokens<'a>) -> Result<Request<'a>, &'static [u8]> {
    count_in(tokens, 2..=4)?;
    let hold_is_zero = tokens.get(2) == b"0";
    let noreply = tokens.noreply();
    let valid = match tokens.count {
        3 => hold_is_zero || noreply,
        4 => hold_is_zero && noreply,
        _ => true,
    };
    if !valid {
        return Err(BAD_DELETE);
    }
    Ok(Request::Delete(key(tokens)?))
}

fn arithmetic<'a>(tokens: &Tokens<'a>) -> Result<Request<'a>, &'static [u8]> {
    count_in(tokens, 3..=4)?;
    let key = key(tokens)?;
    let amount = parse_u64(tokens.get(2)).ok_or(BAD_DELTA)?;
    let delta = match tokens.get(0) {
        b"incr" => Delta::Increment(amount),
        _ => Delta::Decrement(amount),
    };
    Ok(Request::Arithmetic(key, delta))
}

fn touch<'a>(tokens: &Tokens<'a>) -> Result<Request<'a>, &'static [u8]> {
    count_in(tokens, 3..=4)?;
    let key = key(tokens)?;
    Ok(Request::Touch(
        key,
        parse_i32(tokens.get(2)).ok_or(BAD_EXPTIME)?,
    ))
}

fn flush_all<'a>(tokens: &Tokens<'a>) -> Result<Request<'a>, &'static [u8]> {
    count_in(tokens, 1..=3)?;
    let bare = if tokens.noreply() { 2 } else { 1 };
    if tokens.count == bare {
        return Ok(Request::FlushAll(0));
    }
    Ok(Request::FlushAll(
        parse_i32(tokens.get(1)).ok_or(BAD_EXPTIME)?,
    ))
}

fn stats<'a>(tokens: &Tokens<'a>) -> Result<Request<'a>, &'static [u8]> {
    match (tokens.count, tokens.get(1)) {
        (1, _) => Ok(Request::Stats),
        (_, b"reset") => Ok(Request::StatsReset),
        _ => Err(ERROR),
    }
}

fn verbosity<'a>(tokens: &Tokens<'a>) -> Result<Request<'a>, &'static [u8]> {
    count_in(tokens, 2..=3)?;
    parse_u32(tokens.get(1)).ok_or(BAD_FORMAT)?;
    Ok(Request::Verbosity)
}
