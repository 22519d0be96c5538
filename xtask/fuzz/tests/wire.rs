//! Fuzz targets for the wire formats: Ethernet, ARP, IPv4, ICMP, UDP, the
//! TCP header and options, and the Internet checksum.
//!
//! Properties: no input makes a parser panic or allocate; whatever parses
//! writes back to bytes that parse to the same value (byte for byte where
//! the writer keeps every field: Ethernet and ARP); a written checksum
//! verifies.

use std::net::Ipv4Addr;

use bolero::check;
use fuzz::{CountingAllocator, measure};
use tcp::header::{HEADER_LENGTH, Segment};
use tcp::options::Options;
use wire::{ArpPacket, EthernetHeader, IcmpMessage, Ipv4Header, UdpHeader, checksum};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `parse` and asserts that it allocated nothing.
fn without_allocating<R>(parse: impl FnOnce() -> R) -> R {
    let (result, usage) = measure(parse);
    assert_eq!(usage.allocations, 0, "a parser allocated");
    result
}

#[test]
fn ethernet_headers_write_back_byte_for_byte() {
    check!().for_each(|bytes: &[u8]| {
        let Ok(header) = without_allocating(|| EthernetHeader::parse(bytes)) else {
            return;
        };
        let mut written = [0u8; wire::ethernet::HEADER_LEN];
        header.write(&mut written);
        assert_eq!(written[..], bytes[..written.len()]);
    });
}

#[test]
fn arp_packets_write_back_byte_for_byte() {
    check!().for_each(|bytes: &[u8]| {
        let Ok(packet) = without_allocating(|| ArpPacket::parse(bytes)) else {
            return;
        };
        let mut written = [0u8; wire::arp::PACKET_LEN];
        packet.write(&mut written);
        assert_eq!(written[..], bytes[..written.len()]);
    });
}

/// Random bytes seldom carry a valid checksum: with `fix`, make the
/// 16-bit word at `at` the checksum of `bytes[..length]` (clamped), so
/// that the checks after it are reached too.
fn fix_checksum(bytes: &mut [u8], fix: bool, at: usize, length: usize) {
    let length = length.min(bytes.len());
    if !fix || length < at + 2 {
        return;
    }
    bytes[at..at + 2].fill(0);
    let sum = checksum(&bytes[..length]);
    bytes[at..at + 2].copy_from_slice(&sum.to_be_bytes());
}

#[test]
fn ipv4_headers_rewritten_without_options_parse_the_same() {
    check!()
        .with_type::<(bool, Vec<u8>)>()
        .for_each(|(fix, bytes)| {
            let mut bytes = bytes.clone();
            if *fix && !bytes.is_empty() {
                bytes[0] = 0x40 | (bytes[0] & 0x0f);
            }
            let header_length = usize::from(bytes.first().map_or(0, |byte| byte & 0x0f)) * 4;
            fix_checksum(&mut bytes, *fix, 10, header_length);
            let quoted = without_allocating(|| Ipv4Header::parse_quoted(&bytes));
            let Ok(header) = without_allocating(|| Ipv4Header::parse(&bytes)) else {
                return;
            };
            assert_eq!(quoted, Some(header), "a quote parses like the packet");
            assert!(header.total_len <= bytes.len());
            let payload = &bytes[header.header_len..header.total_len];
            let options = header.header_len - wire::ipv4::HEADER_LEN;
            let plain = Ipv4Header {
                header_len: wire::ipv4::HEADER_LEN,
                total_len: header.total_len - options,
                ..header
            };
            let mut packet = vec![0u8; wire::ipv4::HEADER_LEN];
            plain.write(&mut packet);
            packet.extend_from_slice(payload);
            assert_eq!(Ipv4Header::parse(&packet), Ok(plain));
        });
}

#[test]
fn icmp_messages_rewritten_parse_the_same() {
    check!()
        .with_type::<(bool, Vec<u8>)>()
        .for_each(|(fix, bytes)| {
            let mut bytes = bytes.clone();
            fix_checksum(&mut bytes, *fix, 2, usize::MAX);
            let Ok(message) = without_allocating(|| IcmpMessage::parse(&bytes)) else {
                return;
            };
            let mut written = bytes.clone();
            message.write(&mut written);
            assert_eq!(IcmpMessage::parse(&written), Ok(message));
        });
}

#[test]
fn udp_headers_rewritten_parse_the_same() {
    check!()
        .with_type::<([u8; 4], [u8; 4], bool, Vec<u8>)>()
        .for_each(|(source, destination, fix, datagram)| {
            let (source, destination) = (Ipv4Addr::from(*source), Ipv4Addr::from(*destination));
            let mut datagram = datagram.clone();
            if *fix && datagram.len() >= wire::udp::HEADER_LEN {
                let length = u16::try_from(datagram.len()).unwrap_or(u16::MAX);
                datagram[4..6].copy_from_slice(&length.to_be_bytes());
                datagram[6..8].fill(0);
            }
            let parsed = without_allocating(|| UdpHeader::parse(&datagram, source, destination));
            let Ok(header) = parsed else { return };
            let mut written = datagram[..header.length].to_vec();
            let ports = (header.source_port, header.destination_port);
            UdpHeader::write(ports.0, ports.1, &mut written, source, destination);
            assert_eq!(UdpHeader::parse(&written, source, destination), Ok(header));
        });
}

#[test]
fn a_written_checksum_verifies_and_sums_split_at_even_offsets_agree() {
    check!()
        .with_type::<(Vec<u8>, usize)>()
        .for_each(|(bytes, split)| {
            let mut even = bytes.clone();
            even.truncate(bytes.len() & !1);
            let sum = without_allocating(|| checksum(&even));
            let mut with_sum = even.clone();
            with_sum.extend_from_slice(&sum.to_be_bytes());
            assert_eq!(checksum(&with_sum), 0);
            let split = (split % (even.len() + 1)) & !1;
            let mut parts = wire::Checksum::new();
            parts.add(&even[..split]).add(&even[split..]);
            assert_eq!(parts.finish(), sum);
        });
}

#[test]
fn tcp_segments_parse_within_bounds_and_options_write_back() {
    check!().for_each(|bytes: &[u8]| {
        let Ok(segment) = without_allocating(|| Segment::parse(bytes)) else {
            return;
        };
        let header_length = usize::from(bytes[12] >> 4) * 4;
        assert!(header_length >= HEADER_LENGTH);
        assert_eq!(segment.payload, &bytes[header_length..]);
        assert_eq!(segment.options, Options::parse(&bytes[20..header_length]));
        let mut written = vec![0u8; segment.options.written_length()];
        let length = segment.options.write(&mut written);
        assert_eq!(length, written.len());
        assert_eq!(length % 4, 0, "options are laid out in 32-bit words");
        assert_eq!(
            meaning(&Options::parse(&written)),
            meaning(&segment.options)
        );
    });
}

/// What options mean: the fields and the valid SACK blocks (the derived
/// equality also compares the unused block slots, which a later SACK
/// option of fewer blocks leaves holding the earlier values).
fn meaning(options: &Options) -> impl PartialEq + std::fmt::Debug {
    (
        options.maximum_segment_size,
        options.window_scale,
        options.sack_permitted,
        options.timestamp,
        options.sack().to_vec(),
    )
}

/// Found by libFuzzer: a SACK block, then a SACK option of no blocks.
#[test]
fn a_later_empty_sack_option_writes_back_to_the_same_meaning() {
    let mut segment = [0u8; 36];
    segment[12] = 0x90;
    segment[20..24].copy_from_slice(&[2, 2, 5, 10]);
    segment[31] = 1;
    segment[32..34].copy_from_slice(&[5, 2]);
    let options = Segment::parse(&segment).expect("parses").options;
    assert!(options.sack().is_empty(), "{options:?}");
    let mut written = vec![0u8; options.written_length()];
    options.write(&mut written);
    assert_eq!(meaning(&Options::parse(&written)), meaning(&options));
}
