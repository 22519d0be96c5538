//! Cutting a coalesced TCP segment again, either family, in software.
//!
//! A device that coalesced received TCP segments (a tap's TSO or GRO, a
//! virtio NIC's receive TSO4 or TSO6) hands over one packet of up to
//! 64 KiB with the size of the segments it came as (`offload.rs`). A
//! router passes it on whole to a device that cuts its family again; for
//! any other it cuts it here, as Linux's GSO does, one routine for both
//! families: each piece carries the IP and TCP headers with its own
//! lengths (IPv4's total length, identification and header checksum;
//! IPv6's payload length), sequence number and flags (FIN and PSH on the
//! last piece only, CWR on the first only) and a full TCP checksum over
//! its family's pseudo-header, in a pool buffer of its own. An IPv6 packet
//! is cut only when TCP follows the fixed header (no extension headers,
//! as Linux's GSO for a forwarded packet). Segments too big for the next
//! link even so are not cut: the sender hears "fragmentation needed" (DF,
//! TCP's way) or "packet too big", as for any other packet, and lowers
//! its MSS.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use wire::ipv4::protocol;
use wire::ipv6::{HEADER_LEN as IPV6_HEADER_LEN, next_header};
use wire::{Ipv4Header, Ipv6Header};

use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;
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
    /// The next device cuts TCP of its family itself.
    Device,
    /// Cut here.
    Software,
    /// Its segments are too big for the next link.
    TooBig,
    /// Not TCP right after the IP header, or a malformed TCP header.
    Unfit,
}

/// What a piece's IP header needs from its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// IPv4: the addresses and the first piece's identification.
    V4 {
        source: Ipv4Addr,
        destination: Ipv4Addr,
        identification: u16,
    },
    /// IPv6: the addresses.
    V6 {
        source: Ipv6Addr,
        destination: Ipv6Addr,
    },
}

/// Where a coalesced TCP segment's headers and payload lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout {
    family: Family,
    /// The IP header's length, and the TCP header's.
    ip_len: usize,
    tcp_len: usize,
    /// The IP packet's length (what follows is link padding).
    total: usize,
}

impl Layout {
    /// The layout of TCP/IPv4 `packet` with header `header`; `None` when
    /// it is not TCP, a fragment or malformed.
    pub(super) fn ipv4(header: &Ipv4Header, packet: &[u8]) -> Option<Layout> {
        if header.protocol != protocol::TCP || header.is_fragment() {
            return None;
        }
        let family = Family::V4 {
            source: header.source,
            destination: header.destination,
            identification: header.identification,
        };
        Layout::new(family, header.header_len, header.total_len, packet)
    }

    /// The layout of TCP/IPv6 `packet` with fixed header `header`; `None`
    /// when TCP does not follow the fixed header or is malformed.
    pub(super) fn ipv6(header: &Ipv6Header, packet: &[u8]) -> Option<Layout> {
        if header.next_header != next_header::TCP {
            return None;
        }
        let family = Family::V6 {
            source: header.source,
            destination: header.destination,
        };
        let total = IPV6_HEADER_LEN + header.payload_len;
        Layout::new(family, IPV6_HEADER_LEN, total, packet)
    }

    fn new(family: Family, ip_len: usize, total: usize, packet: &[u8]) -> Option<Layout> {
        let offset = packet.get(ip_len + 12)?;
        let tcp_len = usize::from(offset >> 4) * 4;
        let fits = (20..=60).contains(&tcp_len) && ip_len + tcp_len <= total;
        let layout = Layout {
            family,
            ip_len,
            tcp_len,
            total,
        };
        (fits && total <= packet.len()).then_some(layout)
    }

    /// The IP and TCP headers' length together.
    fn headers(&self) -> usize {
        self.ip_len + self.tcp_len
    }

    /// The IP version, as [`crate::offload::Offloads::segments`] asks.
    fn version(&self) -> u8 {
        match self.family {
            Family::V4 { .. } => 4,
            Family::V6 { .. } => 6,
        }
    }
}

impl IpLayer {
    /// How coalesced `packet` (`total` bytes of IP, laid out as `layout`
    /// when it is TCP) can leave by `interface` with `mtu`.
    pub(super) fn coalesced(
        &self,
        (interface, mtu): (InterfaceIndex, usize),
        total: usize,
        layout: Option<Layout>,
        packet: &PacketBuffer,
    ) -> Coalesced {
        if total <= mtu {
            return Coalesced::Whole;
        }
        let Some(layout) = layout else {
            return Coalesced::Unfit;
        };
        if layout.headers() + usize::from(packet.segment_size()) > mtu {
            return Coalesced::TooBig;
        }
        let offloads = (self.interface(interface))
            .map(|i| i.spec.offloads)
            .unwrap_or_default();
        let device = offloads.segments(layout.version())
            && packet.partial_checksum().is_some()
            && total <= SEGMENTATION_LIMIT;
        match device {
            true => Coalesced::Device,
            false => Coalesced::Software,
        }
    }

    /// Sends `packet` (TTL or hop limit already lowered) to `neighbour` on
    /// `interface` in segments of its marked size; false when one could
    /// not go.
    pub(super) fn forward_segments(
        &mut self,
        (interface, neighbour): (InterfaceIndex, IpAddr),
        layout: Layout,
        packet: &PacketBuffer,
    ) -> bool {
        let size = usize::from(packet.segment_size()).max(1);
        let pieces = Pieces::new(layout, size);
        (0..pieces.count).all(|index| {
            let Some(piece) = self.cut(&pieces, packet.data(), index) else {
                return false;
            };
            let sent = match neighbour {
                IpAddr::V4(neighbour) => self.link_output(interface, neighbour, piece),
                IpAddr::V6(neighbour) => self.link_output6(interface, neighbour, piece),
            };
            sent.is_ok()
        })
    }

    /// Piece `index` of `bytes` in a buffer of its own.
    fn cut(&mut self, pieces: &Pieces, bytes: &[u8], index: usize) -> Option<PacketBuffer> {
        let length = pieces.length(index);
        let Ok(mut buffer) = self.pool.allocate_large(length) else {
            match pieces.layout.family {
                Family::V4 { .. } => self.stats.no_buffer += 1,
                Family::V6 { .. } => self.v6.stats.no_buffer += 1,
            }
            return None;
        };
        pieces.write(bytes, index, buffer.append(length).ok()?);
        Some(buffer)
    }
}

/// How a coalesced segment is cut: its layout, the payload bytes per
/// piece and the number of pieces.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pieces {
    layout: Layout,
    size: usize,
    count: usize,
}

impl Pieces {
    /// The pieces of `layout`'s payload, `size` bytes each (the last
    /// maybe fewer; one piece when there is no payload).
    pub(super) fn new(layout: Layout, size: usize) -> Pieces {
        let payload = layout.total - layout.headers();
        let count = payload.div_ceil(size.max(1)).max(1);
        Pieces {
            layout,
            size: size.max(1),
            count,
        }
    }

    /// Piece `index`'s payload range in the packet.
    fn payload(&self, index: usize) -> core::ops::Range<usize> {
        let start = self.layout.headers() + index * self.size;
        start..(start + self.size).min(self.layout.total)
    }

    /// Piece `index`'s length: headers and payload.
    pub(super) fn length(&self, index: usize) -> usize {
        self.layout.headers() + self.payload(index).len()
    }

    /// Writes piece `index` of coalesced `bytes` into `out` (of
    /// [`Pieces::length`] bytes): headers, payload, lengths and sums.
    pub(super) fn write(&self, bytes: &[u8], index: usize, out: &mut [u8]) {
        let headers = self.layout.headers();
        out[..headers].copy_from_slice(&bytes[..headers]);
        out[headers..].copy_from_slice(&bytes[self.payload(index)]);
        let (ip, tcp) = out.split_at_mut(self.layout.ip_len);
        let at = Position {
            first: index == 0,
            last: index + 1 == self.count,
            offset: index * self.size,
        };
        fix_ip(self.layout.family, ip, tcp.len(), index);
        fix_tcp(self.layout.family, tcp, at);
    }
}

/// Where one piece sits among the pieces.
#[derive(Debug, Clone, Copy)]
struct Position {
    first: bool,
    last: bool,
    /// Payload bytes before it.
    offset: usize,
}

/// The piece's IP lengths (and IPv4's identification and header sum).
fn fix_ip(family: Family, ip: &mut [u8], tcp_len: usize, index: usize) {
    let Family::V4 { identification, .. } = family else {
        ip[4..6].copy_from_slice(&(tcp_len as u16).to_be_bytes());
        return;
    };
    let identification = identification.wrapping_add(index as u16);
    let total = (ip.len() + tcp_len) as u16;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[4..6].copy_from_slice(&identification.to_be_bytes());
    ip[10..12].fill(0);
    let sum = wire::checksum(ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// The piece's sequence number, flags and full checksum.
fn fix_tcp(family: Family, tcp: &mut [u8], at: Position) {
    let sequence = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
    let sequence = sequence.wrapping_add(at.offset as u32);
    tcp[4..8].copy_from_slice(&sequence.to_be_bytes());
    if !at.last {
        tcp[13] &= !(FIN | PSH);
    }
    if !at.first {
        tcp[13] &= !CWR;
    }
    tcp[16..18].fill(0);
    let mut sum = wire::Checksum::new();
    match family {
        Family::V4 {
            source,
            destination,
            ..
        } => {
            let length = u16::try_from(tcp.len()).unwrap_or(u16::MAX);
            sum.add_ipv4_pseudo_header(source, destination, protocol::TCP, length)
        }
        Family::V6 {
            source,
            destination,
        } => sum.add_ipv6_pseudo_header(source, destination, next_header::TCP, tcp.len() as u32),
    };
    let sum = sum.add(tcp).finish();
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
}

#[cfg(test)]
mod tests;
