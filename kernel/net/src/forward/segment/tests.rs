//! The software cut, both families: lengths, sequence numbers, flags, sums.

extern crate std;

use std::vec::Vec;

use super::*;

const SOURCE4: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
const DESTINATION4: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 1);
const SOURCE6: Ipv6Addr = Ipv6Addr::new(0xfd01, 0, 0, 0, 0, 0, 0, 1);
const DESTINATION6: Ipv6Addr = Ipv6Addr::new(0xfd02, 0, 0, 0, 0, 0, 0, 1);
const SEQUENCE: u32 = 0xffff_f000;
const ACK: u8 = 0x10;
/// A TCP header with timestamps: 32 bytes.
const TCP_LEN: usize = 32;

/// A TCP header (sequence [`SEQUENCE`], `flags`, timestamps) and payload.
fn tcp(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut segment = std::vec![0u8; TCP_LEN];
    segment[0..2].copy_from_slice(&40_000u16.to_be_bytes());
    segment[2..4].copy_from_slice(&80u16.to_be_bytes());
    segment[4..8].copy_from_slice(&SEQUENCE.to_be_bytes());
    segment[12] = ((TCP_LEN / 4) as u8) << 4;
    segment[13] = flags;
    segment[14..16].copy_from_slice(&1024u16.to_be_bytes());
    segment[20..32].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9]);
    segment.extend_from_slice(payload);
    segment
}

fn payload(length: usize) -> Vec<u8> {
    (0..length).map(|i| (i * 7 % 251) as u8).collect()
}

fn coalesced4(flags: u8, payload: &[u8]) -> Vec<u8> {
    let segment = tcp(flags, payload);
    let mut header = Ipv4Header::new(SOURCE4, DESTINATION4, protocol::TCP, segment.len());
    header.identification = 0xfffe;
    let mut packet = std::vec![0u8; 20];
    header.write(&mut packet);
    packet.extend_from_slice(&segment);
    packet
}

fn coalesced6(flags: u8, payload: &[u8]) -> Vec<u8> {
    let segment = tcp(flags, payload);
    let header = Ipv6Header::new(SOURCE6, DESTINATION6, next_header::TCP, segment.len());
    let mut packet = std::vec![0u8; IPV6_HEADER_LEN];
    header.write(&mut packet);
    packet.extend_from_slice(&segment);
    packet
}

/// Every piece of `packet` (laid out as `layout`) cut to `size`.
fn cut(layout: Layout, packet: &[u8], size: usize) -> Vec<Vec<u8>> {
    let pieces = Pieces::new(layout, size);
    (0..pieces.count)
        .map(|index| {
            let mut out = std::vec![0u8; pieces.length(index)];
            pieces.write(packet, index, &mut out);
            out
        })
        .collect()
}

/// Checks each piece's TCP part: sequence, flags, checksum; the payload
/// put together again.
fn check_tcp(pieces: &[&[u8]], family: Family, flags: u8, size: usize) -> Vec<u8> {
    let mut data = Vec::new();
    for (index, tcp) in pieces.iter().enumerate() {
        let sequence = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
        assert_eq!(sequence, SEQUENCE.wrapping_add((index * size) as u32));
        let mut expected = flags;
        if index + 1 < pieces.len() {
            expected &= !(FIN | PSH);
        }
        if index > 0 {
            expected &= !CWR;
        }
        assert_eq!(tcp[13], expected, "flags of piece {index}");
        let mut sum = wire::Checksum::new();
        match family {
            Family::V4 { .. } => {
                sum.add_ipv4_pseudo_header(SOURCE4, DESTINATION4, protocol::TCP, tcp.len() as u16)
            }
            Family::V6 { .. } => {
                sum.add_ipv6_pseudo_header(SOURCE6, DESTINATION6, 6, tcp.len() as u32)
            }
        };
        assert_eq!(sum.add(tcp).finish(), 0, "TCP checksum of piece {index}");
        assert_eq!(&tcp[20..TCP_LEN], &pieces[0][20..TCP_LEN], "options kept");
        data.extend_from_slice(&tcp[TCP_LEN..]);
    }
    data
}

#[test]
fn tcp_over_ipv6_is_cut_with_its_own_lengths_sequences_flags_and_sums() {
    let flags = FIN | PSH | CWR | ACK;
    let data = payload(2_500);
    let packet = coalesced6(flags, &data);
    let header = Ipv6Header::parse(&packet).expect("valid");
    let layout = Layout::ipv6(&header, &packet).expect("TCP after the fixed header");
    let pieces = cut(layout, &packet, 1_000);
    let lengths: Vec<usize> = pieces.iter().map(Vec::len).collect();
    assert_eq!(lengths, [1_072, 1_072, 572]);
    for piece in &pieces {
        let parsed = Ipv6Header::parse(piece).expect("a valid IPv6 header");
        assert_eq!(parsed.payload_len, piece.len() - IPV6_HEADER_LEN);
        assert_eq!(&piece[..4], &packet[..4], "class and flow label kept");
    }
    let tcp: Vec<&[u8]> = pieces.iter().map(|p| &p[IPV6_HEADER_LEN..]).collect();
    assert_eq!(check_tcp(&tcp, layout.family, flags, 1_000), data);
}

#[test]
fn tcp_over_ipv4_is_cut_by_the_same_routine() {
    let flags = PSH | CWR | ACK;
    let data = payload(3_000);
    let packet = coalesced4(flags, &data);
    let header = Ipv4Header::parse(&packet).expect("valid");
    let layout = Layout::ipv4(&header, &packet).expect("TCP/IPv4");
    let pieces = cut(layout, &packet, 1_448);
    assert_eq!(pieces.len(), 3);
    for (index, piece) in pieces.iter().enumerate() {
        let parsed = Ipv4Header::parse(piece).expect("a valid header and sum");
        assert_eq!(parsed.total_len, piece.len());
        let identification = 0xfffeu16.wrapping_add(index as u16);
        assert_eq!(parsed.identification, identification);
    }
    let tcp: Vec<&[u8]> = pieces.iter().map(|p| &p[20..]).collect();
    assert_eq!(check_tcp(&tcp, layout.family, flags, 1_448), data);
}

#[test]
fn a_payload_of_whole_pieces_leaves_no_empty_one_and_none_leaves_one() {
    let packet = coalesced6(ACK, &payload(2_000));
    let header = Ipv6Header::parse(&packet).expect("valid");
    let layout = Layout::ipv6(&header, &packet).expect("TCP");
    assert_eq!(cut(layout, &packet, 1_000).len(), 2);
    let bare = coalesced6(FIN | ACK, &[]);
    let header = Ipv6Header::parse(&bare).expect("valid");
    let layout = Layout::ipv6(&header, &bare).expect("TCP");
    let mut pieces = cut(layout, &bare, 1_000);
    assert_eq!(pieces.len(), 1);
    let tcp: Vec<&[u8]> = pieces.iter().map(|p| &p[IPV6_HEADER_LEN..]).collect();
    check_tcp(&tcp, layout.family, FIN | ACK, 1_000);
    pieces[0][IPV6_HEADER_LEN + 16..IPV6_HEADER_LEN + 18].fill(0);
    assert_eq!(pieces[0], bare, "itself, with its sum");
}

#[test]
fn what_is_not_plain_tcp_has_no_layout() {
    let mut packet = coalesced6(ACK, &payload(100));
    packet[6] = 0; // a Hop-by-Hop header first
    let header = Ipv6Header::parse(&packet).expect("valid");
    assert_eq!(Layout::ipv6(&header, &packet), None);
    let mut packet = coalesced6(ACK, &payload(100));
    packet[IPV6_HEADER_LEN + 12] = 0x40; // a 16-byte TCP header
    let header = Ipv6Header::parse(&packet).expect("valid");
    assert_eq!(Layout::ipv6(&header, &packet), None);
    let mut packet = coalesced4(ACK, &payload(100));
    packet[6] = 0x20; // more fragments
    packet[10..12].fill(0);
    let sum = wire::checksum(&packet[..20]);
    packet[10..12].copy_from_slice(&sum.to_be_bytes());
    let header = Ipv4Header::parse(&packet).expect("valid");
    assert_eq!(Layout::ipv4(&header, &packet), None);
    let short = coalesced6(ACK, &[]);
    let header = Ipv6Header::parse(&short).expect("valid");
    assert_eq!(Layout::ipv6(&header, &short[..50]), None, "cut short");
}
