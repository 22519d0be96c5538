//! The fake device's offloads: checksum completion, the reference splitter.
//!
//! What the fake device does with offloads, written from the virtio spec
//! (§5.1.6.2) and RFC 1071/9293, not from the driver's or the stack's
//! code: completing a partial checksum, and the reference splitter that
//! cuts a TSO frame into the segments a wire would carry.
//!
//! Each function checks what a careful device checks and says what is
//! wrong instead of guessing; the tests assert that nothing was.

use alloc::vec::Vec;
use core::net::IpAddr;

use net::wire::Checksum;

/// Header flag and GSO type values (virtio 1.1 §5.1.6).
pub(crate) const NEEDS_CSUM: u8 = 1;
pub(crate) const DATA_VALID: u8 = 2;
pub(crate) const GSO_TCPV4: u8 = 1;
pub(crate) const GSO_TCPV6: u8 = 4;

/// TCP flags a segmenting device keeps on the last segment only, and the
/// one it keeps on the first only.
const FIN_PSH: u8 = 0x01 | 0x08;
const CWR: u8 = 0x80;
/// Ethernet header bytes.
const ETHERNET: usize = 14;
/// The IPv6 header's bytes (no extension headers before TCP).
const IPV6_HEADER: usize = 40;

/// The fields of a virtio-net header a device reads on transmit.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TransmitHeader {
    pub(crate) flags: u8,
    pub(crate) gso_type: u8,
    pub(crate) header_length: u16,
    pub(crate) segment_size: u16,
    pub(crate) checksum_start: u16,
    pub(crate) checksum_offset: u16,
}

impl TransmitHeader {
    /// Reads the first 10 bytes of `bytes` (little-endian fields).
    pub(crate) fn read(bytes: &[u8]) -> Self {
        let field = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        Self {
            flags: bytes[0],
            gso_type: bytes[1],
            header_length: field(2),
            segment_size: field(4),
            checksum_start: field(6),
            checksum_offset: field(8),
        }
    }
}

/// What a device puts on the wire for `frame` sent with `header`.
///
/// # Errors
/// What the device found wrong (a field outside the frame, a partial
/// checksum that is not the pseudo-header's, segmentation of something
/// other than TCP over the family its GSO type names).
pub(crate) fn transmit(header: TransmitHeader, frame: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    if header.gso_type == GSO_TCPV4 || header.gso_type == GSO_TCPV6 {
        return split(header, frame);
    }
    if header.gso_type != 0 {
        return Err("a segmentation type the device does not offer");
    }
    let mut frame = frame.to_vec();
    if header.flags & NEEDS_CSUM != 0 {
        let start = usize::from(header.checksum_start);
        let field = start + usize::from(header.checksum_offset);
        if field + 2 > frame.len() {
            return Err("a partial checksum field outside the frame");
        }
        let sum = Checksum::new().add(&frame[start..]).finish();
        frame[field..field + 2].copy_from_slice(&sum.to_be_bytes());
    }
    Ok(alloc::vec![frame])
}

/// The IP and TCP header lengths of `frame`, checked against the family
/// `gso_type` names.
fn header_lengths(frame: &[u8], gso_type: u8) -> Result<(usize, usize), &'static str> {
    let ip = frame.get(ETHERNET..).ok_or("no IP header")?;
    let version = ip.first().map(|byte| byte >> 4);
    let (ip_length, protocol) = match (gso_type, frame.get(12..14), version) {
        (GSO_TCPV4, Some([0x08, 0x00]), Some(4)) => (usize::from(ip[0] & 0x0f) * 4, ip.get(9)),
        (GSO_TCPV6, Some([0x86, 0xdd]), Some(6)) => (IPV6_HEADER, ip.get(6)),
        _ => return Err("segmentation of another family than its GSO type's"),
    };
    if protocol != Some(&6) {
        return Err("segmentation of something other than TCP");
    }
    let tcp = ip.get(ip_length..).ok_or("no TCP header")?;
    let tcp_length = usize::from(tcp.get(12).ok_or("no TCP header")? >> 4) * 4;
    if tcp.len() < tcp_length {
        return Err("a TCP header longer than the frame");
    }
    Ok((ip_length, tcp_length))
}

/// The reference splitter: `frame` (one TCP segment over IPv4 or IPv6 of
/// any length, its checksum partial) cut into segments of
/// `header.segment_size` payload bytes, each with its own IP length (and
/// IPv4 identification and checksum), sequence number, flags and full TCP
/// checksum.
pub(crate) fn split(header: TransmitHeader, frame: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let (ip_length, tcp_length) = header_lengths(frame, header.gso_type)?;
    let tcp_start = ETHERNET + ip_length;
    if header.flags & NEEDS_CSUM == 0 || usize::from(header.checksum_start) != tcp_start {
        return Err("segmentation without a partial checksum at the TCP header");
    }
    if header.segment_size == 0 {
        return Err("segmentation with a segment size of 0");
    }
    let ip = &frame[ETHERNET..tcp_start];
    let (source, destination) = addresses(ip);
    let mut pseudo = Checksum::new();
    let tcp_total = (frame.len() - tcp_start) as u32;
    pseudo.add_pseudo_header(source, destination, 6, tcp_total);
    let field = u16::from_be_bytes([frame[tcp_start + 16], frame[tcp_start + 17]]);
    if field != pseudo.fold() {
        return Err("the partial checksum is not the pseudo-header's");
    }
    let headers = &frame[..tcp_start + tcp_length];
    let payload = &frame[tcp_start + tcp_length..];
    let chunks: Vec<&[u8]> = payload.chunks(usize::from(header.segment_size)).collect();
    let count = chunks.len();
    let mut segments = Vec::new();
    for (index, chunk) in chunks.into_iter().enumerate() {
        let offset = index * usize::from(header.segment_size);
        let mut segment = headers.to_vec();
        segment.extend_from_slice(chunk);
        fix_ip(
            &mut segment[ETHERNET..tcp_start],
            tcp_length + chunk.len(),
            index,
        );
        fix_tcp(
            &mut segment[tcp_start..],
            (source, destination),
            offset,
            (index, count),
        );
        segments.push(segment);
    }
    Ok(segments)
}

/// The source and destination of an IPv4 or IPv6 header.
fn addresses(ip: &[u8]) -> (IpAddr, IpAddr) {
    if ip[0] >> 4 == 6 {
        let address = |at: usize| -> IpAddr {
            let octets: [u8; 16] = ip[at..at + 16].try_into().unwrap_or([0; 16]);
            core::net::Ipv6Addr::from(octets).into()
        };
        return (address(8), address(24));
    }
    let address = |at: usize| -> IpAddr {
        core::net::Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]).into()
    };
    (address(12), address(16))
}

/// Sets an IPv4 header's total length and identification (+ `index`) and
/// recomputes its checksum; an IPv6 header's payload length.
fn fix_ip(ip: &mut [u8], transport: usize, index: usize) {
    if ip[0] >> 4 == 6 {
        ip[4..6].copy_from_slice(&(transport as u16).to_be_bytes());
        return;
    }
    let total = (ip.len() + transport) as u16;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    let identification = u16::from_be_bytes([ip[4], ip[5]]).wrapping_add(index as u16);
    ip[4..6].copy_from_slice(&identification.to_be_bytes());
    ip[10..12].fill(0);
    let sum = net::wire::checksum(ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// Advances a TCP segment's sequence number by `offset`, keeps FIN and
/// PSH on the last of `count` and CWR on the first, and sums it whole.
fn fix_tcp(
    tcp: &mut [u8],
    addresses: (IpAddr, IpAddr),
    offset: usize,
    (index, count): (usize, usize),
) {
    let sequence = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
    tcp[4..8].copy_from_slice(&sequence.wrapping_add(offset as u32).to_be_bytes());
    if index + 1 < count {
        tcp[13] &= !FIN_PSH;
    }
    if index > 0 {
        tcp[13] &= !CWR;
    }
    tcp[16..18].fill(0);
    let sum = Checksum::new()
        .add_pseudo_header(addresses.0, addresses.1, 6, tcp.len() as u32)
        .add(tcp)
        .finish();
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TCP/IPv6 burst of `payload` bytes in an Ethernet frame, its
    /// checksum partial (the pseudo-header's sum).
    fn ipv6_burst(payload: usize) -> Vec<u8> {
        let mut frame = alloc::vec![0u8; ETHERNET + IPV6_HEADER + 20 + payload];
        frame[12..14].copy_from_slice(&[0x86, 0xdd]);
        let ip = &mut frame[ETHERNET..];
        ip[0] = 0x60;
        ip[4..6].copy_from_slice(&((20 + payload) as u16).to_be_bytes());
        ip[6] = 6;
        ip[8..24].copy_from_slice(&"fd00::1".parse::<core::net::Ipv6Addr>().unwrap().octets());
        ip[24..40].copy_from_slice(&"fd00::2".parse::<core::net::Ipv6Addr>().unwrap().octets());
        let tcp = &mut ip[IPV6_HEADER..];
        tcp[12] = 5 << 4;
        tcp[13] = 0x10 | FIN_PSH;
        for (index, byte) in tcp[20..].iter_mut().enumerate() {
            *byte = index as u8;
        }
        let (source, destination) = addresses(&frame[ETHERNET..]);
        let mut pseudo = Checksum::new();
        pseudo.add_pseudo_header(source, destination, 6, (20 + payload) as u32);
        let field = ETHERNET + IPV6_HEADER + 16;
        frame[field..field + 2].copy_from_slice(&pseudo.fold().to_be_bytes());
        frame
    }

    fn header(gso_type: u8) -> TransmitHeader {
        TransmitHeader {
            flags: NEEDS_CSUM,
            gso_type,
            header_length: (ETHERNET + IPV6_HEADER + 20) as u16,
            segment_size: 1000,
            checksum_start: (ETHERNET + IPV6_HEADER) as u16,
            checksum_offset: 16,
        }
    }

    #[test]
    fn an_ipv6_burst_is_cut_into_segments_that_sum() {
        let pieces = transmit(header(GSO_TCPV6), &ipv6_burst(2500)).expect("cut");
        let lengths: Vec<usize> = pieces.iter().map(|piece| piece.len()).collect();
        assert_eq!(lengths, [1074, 1074, 574]);
        for (index, piece) in pieces.iter().enumerate() {
            let ip = &piece[ETHERNET..];
            let tcp = &ip[IPV6_HEADER..];
            let payload_length = u16::from_be_bytes([ip[4], ip[5]]);
            assert_eq!(usize::from(payload_length), tcp.len(), "piece {index}");
            let (source, destination) = addresses(ip);
            let mut sum = Checksum::new();
            sum.add_pseudo_header(source, destination, 6, tcp.len() as u32)
                .add(tcp);
            assert_eq!(sum.finish(), 0, "piece {index} sums");
            let sequence = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
            assert_eq!(sequence, index as u32 * 1000);
            assert_eq!(tcp[13] & FIN_PSH != 0, index == 2, "FIN and PSH last");
        }
    }

    #[test]
    fn a_burst_under_the_other_family_s_gso_type_is_refused() {
        assert!(transmit(header(GSO_TCPV4), &ipv6_burst(2500)).is_err());
    }
}
