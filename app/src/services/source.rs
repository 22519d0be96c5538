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
/// The stream repeats after this many bytes (95 lines).
const PERIOD: usize = (LINE * CHARACTERS) as usize;
/// One period of the stream, built at compile time: writing copies from
/// it instead of computing each byte (two divisions a byte are most of
/// the sender's time under emulation).
static PATTERN: [u8; PERIOD] = pattern();

const fn pattern() -> [u8; PERIOD] {
    let mut bytes = [0u8; PERIOD];
    let mut offset = 0;
    while offset < PERIOD {
        bytes[offset] = chargen_byte(offset as u64);
        offset += 1;
    }
    bytes
}

/// Fills `buffer` with the stream from `start` on.
fn fill(buffer: &mut [u8], start: u64) {
    let mut at = (start % PERIOD as u64) as usize;
    for chunk in buffer.chunks_mut(PERIOD) {
        let first = chunk.len().min(PERIOD - at);
        chunk[..first].copy_from_slice(&PATTERN[at..at + first]);
        let rest = chunk.len() - first;
        chunk[first..].copy_from_slice(&PATTERN[..rest]);
        at = (at + chunk.len()) % PERIOD;
    }
}
/// Writes one connection may make per turn (each fills the loop's scratch
/// buffer).
const WRITES_PER_TURN: usize = 4;

/// Byte `offset` of the source stream.
pub const fn chargen_byte(offset: u64) -> u8 {
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
                fill(buffer, start);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copied_pattern_is_the_computed_stream() {
        for start in [0u64, 1, 73, 7029, 7030, 1 << 40] {
            let mut buffer = [0u8; 20_000];
            fill(&mut buffer, start);
            for (index, &byte) in buffer.iter().enumerate() {
                assert_eq!(
                    byte,
                    chargen_byte(start + index as u64),
                    "{start} + {index}"
                );
            }
        }
    }
}
