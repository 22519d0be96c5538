//! Cutting a coalesced TCP/IPv4 segment again, for a device that cannot.
//!
//! A device that coalesced received TCP segments (a tap's TSO, a virtio
//! NIC's receive TSO) hands over one packet of up to 64 KiB with the size
//! of the segments it came as (`offload.rs`). A router passes it on whole
//! to a device that cuts it again; for any other it cuts it here, as
//! Linux's GSO does: each piece carries the IP and TCP headers with its
//! own lengths, identification, sequence number and flags (FIN and PSH on
//! the last piece only, CWR on the first only) and a full checksum, in a
//! pool buffer of its own. Segments too big for the next link even so
//! are not cut: with DF set (TCP's way) the sender hears "fragmentation
//! needed", as for any other packet, and lowers its MSS.

use wire::Ipv4Header;
use wire::ipv4::protocol;

use crate::buffer::PacketBuffer;
use crate::ipv4::{IpLayer, NextHop};
use crate::offload::SEGMENTATION_LIMIT;

/// TCP flags cleared on all but one piece.
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
const CWR: u8 = 0x80;

/// How a coalesced packet can leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coalesced {
    /// It fits the next link as one segment.
    Whole,
    /// The next device cuts TCP/IPv4 itself.
    Device,
    /// Cut here.
    Software,
    /// Its segments are too big for the next link.
    TooBig,
    /// Not TCP/IPv4, or a malformed TCP header.
    Unfit,
}

impl IpLayer {
    /// How `packet` (coalesced; header `header`) can leave by `hop`.
    pub(super) fn coalesced(
        &self,
        hop: &NextHop,
        header: &Ipv4Header,
        packet: &PacketBuffer,
    ) -> Coalesced {
        if header.total_len <= hop.mtu {
            return Coalesced::Whole;
        }
        let Some(tcp_len) = tcp_header_len(header, packet.data()) else {
            return Coalesced::Unfit;
        };
        if header.header_len + tcp_len + usize::from(packet.segment_size()) > hop.mtu {
            return Coalesced::TooBig;
        }
        let offloads = (self.interface(hop.interface))
            .map(|i| i.spec.offloads)
            .unwrap_or_default();
        let device = offloads.segments(4)
            && packet.partial_checksum().is_some()
            && header.total_len <= SEGMENTATION_LIMIT;
        match device {
            true => Coalesced::Device,
            false => Coalesced::Software,
        }
    }

    /// Sends `packet` (TTL already lowered) along `hop` in segments of its
    /// marked size; false when one could not go.
    pub(super) fn forward_segments(
        &mut self,
        hop: NextHop,
        header: &Ipv4Header,
        packet: &PacketBuffer,
    ) -> bool {
        let bytes = packet.data();
        let Some(tcp_len) = tcp_header_len(header, bytes) else {
            return false;
        };
        let headers = &bytes[..header.header_len + tcp_len];
        let payload = &bytes[headers.len()..header.total_len];
        let size = usize::from(packet.segment_size()).max(1);
        let count = payload.len().div_ceil(size);
        for (index, chunk) in payload.chunks(size).enumerate() {
            let piece = Piece {
                index,
                last: index + 1 == count,
                offset: index * size,
            };
            if !self.send_piece(hop, header, (headers, chunk), piece) {
                return false;
            }
        }
        true
    }

    fn send_piece(
        &mut self,
        hop: NextHop,
        header: &Ipv4Header,
        (headers, chunk): (&[u8], &[u8]),
        piece: Piece,
    ) -> bool {
        let length = headers.len() + chunk.len();
        let Ok(mut segment) = self.pool.allocate_large(length) else {
            self.stats.no_buffer += 1;
            return false;
        };
        let Ok(bytes) = segment.append(length) else {
            return false;
        };
        bytes[..headers.len()].copy_from_slice(headers);
        bytes[headers.len()..].copy_from_slice(chunk);
        let (ip, tcp) = bytes.split_at_mut(header.header_len);
        let identification = header.identification.wrapping_add(piece.index as u16);
        ip[2..4].copy_from_slice(&(length as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&identification.to_be_bytes());
        ip[10..12].fill(0);
        let sum = wire::checksum(ip);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        fix_tcp(header, tcp, piece);
        self.link_output(hop.interface, hop.neighbour, segment)
            .is_ok()
    }
}

/// Where one piece sits among the pieces.
#[derive(Debug, Clone, Copy)]
struct Piece {
    index: usize,
    last: bool,
    /// Payload bytes before it.
    offset: usize,
}

/// The piece's sequence number, flags and full checksum.
fn fix_tcp(header: &Ipv4Header, tcp: &mut [u8], piece: Piece) {
    let sequence = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
    let sequence = sequence.wrapping_add(piece.offset as u32);
    tcp[4..8].copy_from_slice(&sequence.to_be_bytes());
    if !piece.last {
        tcp[13] &= !(FIN | PSH);
    }
    if piece.index > 0 {
        tcp[13] &= !CWR;
    }
    tcp[16..18].fill(0);
    let length = u16::try_from(tcp.len()).unwrap_or(u16::MAX);
    let sum = wire::Checksum::new()
        .add_ipv4_pseudo_header(header.source, header.destination, protocol::TCP, length)
        .add(tcp)
        .finish();
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
}

/// The TCP header's length in a TCP/IPv4 packet, if it is one and sane.
fn tcp_header_len(header: &Ipv4Header, packet: &[u8]) -> Option<usize> {
    if header.protocol != protocol::TCP || header.is_fragment() {
        return None;
    }
    let offset = packet.get(header.header_len + 12)?;
    let length = usize::from(offset >> 4) * 4;
    let fits = (20..=60).contains(&length) && header.header_len + length <= header.total_len;
    fits.then_some(length)
}
