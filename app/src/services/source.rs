//! TCP source: the chargen pattern (RFC 864) until the peer closes.
//!
//! The stream is 72-character lines of printable ASCII, each starting one
//! character further along, then CR LF: byte `n` of the stream is
//! [`chargen_byte`]`(n)`, so a client can check every byte it receives.

use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::net::Fd;

use super::Services;

const LINE: u64 = 74;
const CHARACTERS: u64 = 95;
const CHUNK: usize = 16 * 1024;

/// Byte `offset` of the source stream.
pub fn chargen_byte(offset: u64) -> u8 {
    let line = offset / LINE;
    match offset % LINE {
        72 => b'\r',
        73 => b'\n',
        column => b' ' + ((line + column) % CHARACTERS) as u8,
    }
}

pub(super) fn serve(context: &Context<'_>, services: &Services, connection: Fd) {
    let net = services.net();
    let mut buffer = alloc::vec![0u8; CHUNK];
    let mut offset = 0u64;
    loop {
        for (index, byte) in buffer.iter_mut().enumerate() {
            *byte = chargen_byte(offset + index as u64);
        }
        let Ok(count) = net.write(context, connection, &buffer) else {
            return;
        };
        offset += count as u64;
        services
            .stats()
            .source_bytes
            .fetch_add(count as u64, Relaxed);
    }
}
