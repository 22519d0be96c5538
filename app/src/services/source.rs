//! TCP source: the chargen pattern (RFC 864) until the peer closes.
//!
//! The stream is 72-character lines of printable ASCII, each starting one
//! character further along, then CR LF: byte `n` of the stream is
//! [`chargen_byte`]`(n)`, so a client can check every byte it receives.

use alloc::sync::Arc;
use core::sync::atomic::Ordering::Relaxed;

use serve::{Io, Protocol, Want};

use super::Services;

const LINE: u64 = 74;
const CHARACTERS: u64 = 95;
/// Writes one connection may make per turn (each fills the loop's scratch
/// buffer).
const WRITES_PER_TURN: usize = 4;

/// Byte `offset` of the source stream.
pub fn chargen_byte(offset: u64) -> u8 {
    let line = offset / LINE;
    match offset % LINE {
        72 => b'\r',
        73 => b'\n',
        column => b' ' + ((line + column) % CHARACTERS) as u8,
    }
}

/// The source service; a connection's state is its offset in the stream.
pub(super) struct Source(pub(super) Arc<Services>);

impl Protocol for Source {
    type Session = u64;

    fn open(&self, _io: &mut Io<'_, '_>) -> (u64, Want) {
        (0, Want::Resume)
    }

    fn advance(&self, offset: &mut u64, _input: &[u8], io: &mut Io<'_, '_>) -> Want {
        for _ in 0..WRITES_PER_TURN {
            let start = *offset;
            let count = io.write_with(|buffer| {
                for (index, byte) in buffer.iter_mut().enumerate() {
                    *byte = chargen_byte(start + index as u64);
                }
                buffer.len()
            });
            *offset += count as u64;
            let stats = self.0.stats();
            stats.source_bytes.fetch_add(count as u64, Relaxed);
            if io.blocked() {
                break;
            }
        }
        Want::Resume
    }
}
