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

use net::wire::Checksum;

/// Header flag and GSO type values (virtio 1.1 §5.1.6).
pub(crate) const NEEDS_CSUM: u8 = 1;
pub(crate) const DATA_VALID: u8 = 2;
pub(crate) const GSO_TCPV4: u8 = 1;

/// TCP flags a segmenting device keeps on the last segment only, and the
/// one it keeps on the first only.
const FIN_PSH: u8 = 0x01 | 0x08;
const CWR: u8 = 0x80;
/// Ethernet header bytes.
const ETHERNET: usize = 14;

/// The fields of a virtio-net header a device reads on transmit.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TransmitHeader {
    pub(crate) flags: u8,
    pub(crate) gso_type: u8,
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
/// other than TCP over IPv4).
pub(crate) fn transmit(header: TransmitHeader, frame: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    if header.gso_type == GSO_TCPV4 {
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

/// The IPv4 and TCP header lengths of `frame`, checked.
fn header_lengths(frame: &[u8]) -> Result<(usize, usize), &'static str> {
    let ip = frame.get(ETHERNET..).ok_or("no IPv4 header")?;
    if frame.get(12..14) != Some(&[0x08, 0x00]) || ip.first().map(|b| b >> 4) != Some(4) {
        return Err("segmentation of something other than IPv4");
    }
    let ip_length = usize::from(ip[0] & 0x0f) * 4;
    if ip.get(9) != Some(&6) {
        return Err("segmentation of something other than TCP");
    }
    let tcp = ip.get(ip_length..).ok_or("no TCP header")?;
    let tcp_length = usize::from(tcp.get(12).ok_or("no TCP header")? >> 4) * 4;
    if tcp.len() < tcp_length {
        return Err("a TCP header longer than the frame");
    }
    Ok((ip_length, tcp_length))
}

/// The reference splitter: `frame` (one TCP/IPv4 segment of any length,
/// its checksum partial) cut into segments of `header.segment_size`
/// payload bytes, each with its own IPv4 length, identification and
/// checksum, sequence number, flags and full TCP checksum.
pub(crate) fn split(header: TransmitHeader, frame: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let (ip_length, tcp_length) = header_lengths(frame)?;
    let tcp_start = ETHERNET + ip_length;
    if header.flags & NEEDS_CSUM == 0 || usize::from(header.checksum_start) != tcp_start {
        return Err("segmentation without a partial checksum at the TCP header");
    }
    if header.segment_size == 0 {
        return Err("segmentation with a segment size of 0");
    }
    let ip = &frame[ETHERNET..tcp_start];
    let (source, destination) = (address(&ip[12..16]), address(&ip[16..20]));
    let mut pseudo = Checksum::new();
    let tcp_total = (frame.len() - tcp_start) as u16;
    pseudo.add_ipv4_pseudo_header(source, destination, 6, tcp_total);
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

fn address(bytes: &[u8]) -> core::net::Ipv4Addr {
    core::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
}

/// Sets an IPv4 header's total length and identification (+ `index`) and
/// recomputes its checksum.
fn fix_ip(ip: &mut [u8], transport: usize, index: usize) {
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
    addresses: (core::net::Ipv4Addr, core::net::Ipv4Addr),
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
        .add_ipv4_pseudo_header(addresses.0, addresses.1, 6, tcp.len() as u16)
        .add(tcp)
        .finish();
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
}
