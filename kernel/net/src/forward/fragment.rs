//! Fragmenting a forwarded IPv4 packet for a smaller next link (RFC 791).
//!
//! Unlike the host's own output (always a 20-byte header), a forwarded
//! packet may carry options and may be a fragment already. The first
//! fragment keeps the whole header; the others keep the fixed part and
//! the options whose copy flag is set (RFC 791 3.1), padded to a word.
//! Offsets count from the original datagram's start, and "more
//! fragments" stays set on every piece of a piece that had it. Each
//! fragment is a fresh pool buffer; the partial checksum of the packet,
//! if any, is completed first (no device sums a fragment).

use wire::Ipv4Header;
use wire::ipv4::HEADER_LEN;

use crate::buffer::PacketBuffer;
use crate::ipv4::{IpLayer, NextHop};

/// The most option bytes a header holds.
const OPTIONS_MAX: usize = 40;

/// A header for the fragments after the first: the fixed part and the
/// copied options.
struct LaterHeader {
    bytes: [u8; HEADER_LEN + OPTIONS_MAX],
    length: usize,
}

impl IpLayer {
    /// Sends `packet` (header `header`, TTL already lowered) along `hop` in
    /// fragments that fit its MTU; false when none could go.
    pub(super) fn forward_fragments(
        &mut self,
        hop: NextHop,
        header: &Ipv4Header,
        mut packet: PacketBuffer,
    ) -> bool {
        if !packet.complete_checksum() {
            return false;
        }
        let bytes = packet.data();
        let first = &bytes[..header.header_len];
        let later = later_header(first);
        let payload = &bytes[header.header_len..header.total_len];
        let mut offset = 0;
        while offset < payload.len() {
            let head = match offset {
                0 => first,
                _ => &later.bytes[..later.length],
            };
            let room = (hop.mtu.saturating_sub(head.len()) / 8) * 8;
            if room == 0 {
                return false;
            }
            let end = payload.len().min(offset + room);
            let last = end == payload.len() && !header.more_fragments;
            let piece = (head, &payload[offset..end], header.fragment_offset + offset);
            if !self.send_fragment(hop, piece, last) {
                return false;
            }
            offset = end;
        }
        true
    }

    /// Sends one fragment: `head` (a header to adjust), `data`, at
    /// `offset` in the original datagram.
    fn send_fragment(
        &mut self,
        hop: NextHop,
        (head, data, offset): (&[u8], &[u8], usize),
        last: bool,
    ) -> bool {
        let length = head.len() + data.len();
        let Ok(mut fragment) = self.pool.allocate_large(length) else {
            self.stats.no_buffer += 1;
            return false;
        };
        let Ok(bytes) = fragment.append(length) else {
            return false;
        };
        bytes[..head.len()].copy_from_slice(head);
        bytes[head.len()..].copy_from_slice(data);
        let total = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        let mut flags_offset = u16::try_from(offset / 8).unwrap_or(0) & 0x1fff;
        if !last {
            flags_offset |= 0x2000;
        }
        bytes[0] = 0x40 | (head.len() / 4) as u8;
        bytes[2..4].copy_from_slice(&total.to_be_bytes());
        bytes[6..8].copy_from_slice(&flags_offset.to_be_bytes());
        bytes[10..12].fill(0);
        let sum = wire::checksum(&bytes[..head.len()]);
        bytes[10..12].copy_from_slice(&sum.to_be_bytes());
        self.stats.fragments_sent += 1;
        self.link_output(hop.interface, hop.neighbour, fragment)
            .is_ok()
    }
}

/// The fixed part of `first` and its options whose copy flag is set.
fn later_header(first: &[u8]) -> LaterHeader {
    let mut later = LaterHeader {
        bytes: [0; HEADER_LEN + OPTIONS_MAX],
        length: HEADER_LEN,
    };
    later.bytes[..HEADER_LEN].copy_from_slice(&first[..HEADER_LEN]);
    let options = &first[HEADER_LEN..];
    let mut at = 0;
    while let Some(&kind) = options.get(at) {
        let length = match kind {
            0 => break,
            1 => 1,
            _ => usize::from(options.get(at + 1).copied().unwrap_or(0)).max(2),
        };
        let Some(option) = options.get(at..at + length) else {
            break;
        };
        if kind & 0x80 != 0 {
            later.bytes[later.length..later.length + length].copy_from_slice(option);
            later.length += length;
        }
        at += length;
    }
    later.length = later.length.div_ceil(4) * 4;
    later
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_fragments_keep_only_the_copied_options_padded() {
        let mut first = [0u8; 32];
        first[0] = 0x48;
        // Record route (7, not copied), then a copied option (0x82, 4 bytes).
        first[20..32].copy_from_slice(&[7, 7, 4, 0, 0, 0, 0, 0x82, 4, 9, 9, 1]);
        let later = later_header(&first);
        assert_eq!(later.length, 24);
        assert_eq!(&later.bytes[20..24], &[0x82, 4, 9, 9]);
        let plain = later_header(&first[..20]);
        assert_eq!(plain.length, 20);
    }
}
