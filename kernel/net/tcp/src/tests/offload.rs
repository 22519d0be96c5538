//! Offloads seen from the engine: partial checksums and TSO bursts.
//!
//! Offloads seen from the engine: partial checksums a "device" completes
//! and bursts it cuts (TSO), checked by a reference splitter written from
//! the rules (RFC 9293 headers, RFC 1071 sums, the pseudo-headers of RFC
//! 9293 3.1 and RFC 8200 8.1), not from the engine's code. The "device"
//! cuts bursts of TCP over IPv4 and, when it offers TSO6, over IPv6.

use std::vec;
use std::vec::Vec;

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::network::{Impairment, Network, SECOND, config};
use super::transfer::transfer;
use crate::Offload;

/// TCP flags a segmenting device keeps on the last piece only.
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
/// ... and on the first only.
const CWR: u8 = 0x80;

fn sum(source: IpAddr, destination: IpAddr, bytes: &[u8]) -> wire::Checksum {
    let mut sum = wire::Checksum::new();
    sum.add(&pseudo_header(source, destination, bytes.len()))
        .add(bytes);
    sum
}

/// The pseudo-header of `source` and `destination`'s family for a TCP
/// segment of `length` bytes, written out field by field.
fn pseudo_header(source: IpAddr, destination: IpAddr, length: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    match (source, destination) {
        (IpAddr::V4(source), IpAddr::V4(destination)) => {
            bytes.extend_from_slice(&source.octets());
            bytes.extend_from_slice(&destination.octets());
            bytes.extend_from_slice(&[0, 6]);
            bytes.extend_from_slice(&(length as u16).to_be_bytes());
        }
        (IpAddr::V6(source), IpAddr::V6(destination)) => {
            bytes.extend_from_slice(&source.octets());
            bytes.extend_from_slice(&destination.octets());
            bytes.extend_from_slice(&(length as u32).to_be_bytes());
            bytes.extend_from_slice(&[0, 0, 0, 6]);
        }
        _ => panic!("a segment between families"),
    }
    bytes
}

/// Cuts `segment` (its checksum partial) into pieces of `size` payload
/// bytes (0: one piece), each with its sequence number, flags and full
/// checksum, as a device does. Panics when the partial checksum is not the
/// folded pseudo-header sum over the whole length.
pub fn split(source: IpAddr, destination: IpAddr, segment: &[u8], size: u16) -> Vec<Vec<u8>> {
    let field = u16::from_be_bytes([segment[16], segment[17]]);
    let mut pseudo = wire::Checksum::new();
    pseudo.add(&pseudo_header(source, destination, segment.len()));
    assert_eq!(
        field,
        pseudo.fold(),
        "the partial checksum is the pseudo-header's"
    );
    let header_length = usize::from(segment[12] >> 4) * 4;
    let (header, payload) = segment.split_at(header_length);
    let size = if size == 0 {
        payload.len().max(1)
    } else {
        usize::from(size)
    };
    let sequence = u32::from_be_bytes(header[4..8].try_into().unwrap());
    let chunks: Vec<&[u8]> = match payload.is_empty() {
        true => vec![&[][..]],
        false => payload.chunks(size).collect(),
    };
    let count = chunks.len();
    let mut pieces = Vec::new();
    for (index, chunk) in chunks.into_iter().enumerate() {
        let mut piece = header.to_vec();
        piece.extend_from_slice(chunk);
        let offset = (index * size) as u32;
        piece[4..8].copy_from_slice(&sequence.wrapping_add(offset).to_be_bytes());
        if index + 1 < count {
            piece[13] &= !(FIN | PSH);
        }
        if index > 0 {
            piece[13] &= !CWR;
        }
        piece[16..18].fill(0);
        let checksum = sum(source, destination, &piece).finish();
        piece[16..18].copy_from_slice(&checksum.to_be_bytes());
        pieces.push(piece);
    }
    pieces
}

#[test]
fn the_reference_splitter_cuts_a_burst_into_valid_segments() {
    let four = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    splits_valid(IpAddr::V4(four.0), IpAddr::V4(four.1));
    let six: (Ipv6Addr, Ipv6Addr) = ("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap());
    splits_valid(IpAddr::V6(six.0), IpAddr::V6(six.1));
}

/// A 2,500-byte burst from `source` to `destination` cut into valid pieces.
fn splits_valid(source: IpAddr, destination: IpAddr) {
    let mut segment = vec![0u8; 20 + 2500];
    segment[12] = 5 << 4;
    segment[13] = 0x10 | PSH | FIN;
    segment[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    for (index, byte) in segment[20..].iter_mut().enumerate() {
        *byte = index as u8;
    }
    let mut pseudo = wire::Checksum::new();
    pseudo.add(&pseudo_header(source, destination, segment.len()));
    segment[16..18].copy_from_slice(&pseudo.fold().to_be_bytes());
    let pieces = split(source, destination, &segment, 1000);
    let lengths: Vec<usize> = pieces.iter().map(|piece| piece.len() - 20).collect();
    assert_eq!(lengths, [1000, 1000, 500]);
    for (index, piece) in pieces.iter().enumerate() {
        assert_eq!(
            sum(source, destination, piece).finish(),
            0,
            "piece {index} sums"
        );
        let sequence = u32::from_be_bytes(piece[4..8].try_into().unwrap());
        assert_eq!(sequence, u32::MAX.wrapping_add(index as u32 * 1000));
        assert_eq!(piece[13] & (PSH | FIN) != 0, index == 2, "PSH and FIN last");
        assert_eq!(piece[20], (index * 1000) as u8);
    }
}

fn offloading_pair(seed: u64, offload: Offload) -> Network {
    let mut network = Network::pair(seed);
    network.offload = offload;
    network
}

const TSO: Offload = Offload {
    checksum: true,
    segment_limit: 64_000,
};

#[test]
fn checksum_offload_alone_moves_data_intact() {
    let checksum_only = Offload {
        checksum: true,
        segment_limit: 0,
    };
    let mut network = offloading_pair(7, checksum_only);
    let (client, _, server) = network.establish(80);
    assert!(transfer(&mut network, client, server, 1 << 20, 60 * SECOND));
}

#[test]
fn bursts_go_out_whole_segments_and_arrive_intact() {
    let mut network = offloading_pair(8, TSO);
    let (client, _, server) = network.establish(80);
    let start = network.capture.len();
    assert!(transfer(&mut network, client, server, 4 << 20, 60 * SECOND));
    let pieces = network.capture[start..].iter().filter(|c| c.from == 0);
    let full = pieces
        .filter(|captured| captured.payload_length() > 0)
        .count();
    let sent = network.tcp(0).stats().segments_sent;
    assert!(
        (full as u64) > 2 * sent,
        "{full} data pieces from {sent} engine segments: bursts were cut"
    );
}

#[test]
fn bursts_survive_loss_reordering_duplication_and_corruption() {
    let mut network = offloading_pair(9, TSO);
    let (client, _, server) = network.establish(80);
    network.impairment = Impairment {
        loss: 100,
        duplicate: 50,
        reorder: 100,
        corrupt: 10,
    };
    assert!(transfer(
        &mut network,
        client,
        server,
        4 << 20,
        600 * SECOND
    ));
    network.impairment = Impairment::default();
    network.settle(10 * SECOND);
    let bad = network.tcp(0).stats().bad_checksums + network.tcp(1).stats().bad_checksums;
    assert_eq!(
        bad, network.corrupted,
        "every corrupted piece failed its checksum"
    );
    assert!(network.tcp(0).stats().retransmitted_segments > 0);
}

/// Carries 1 MiB over IPv6 under loss, reordering and corruption,
/// between "devices" offering TSO for IPv4 and, if `segments_ipv6`, for
/// IPv6; the bursts that went over IPv6.
fn ipv6_bursts(seed: u64, segments_ipv6: bool) -> u64 {
    let mut network = Network::ipv6(seed, &[config(), config()]);
    network.offload = TSO;
    network.segments_ipv6 = segments_ipv6;
    let (client, _, server) = network.establish(80);
    let start = network.capture.len();
    network.impairment = Impairment {
        loss: 50,
        duplicate: 0,
        reorder: 50,
        corrupt: 10,
    };
    // The link asserts that no burst goes where no TSO was offered and
    // the splitter that every partial checksum is the IPv6 pseudo-header's;
    // the transfer, that the data arrived intact.
    assert!(transfer(
        &mut network,
        client,
        server,
        1 << 20,
        300 * SECOND
    ));
    network.impairment = Impairment::default();
    network.settle(10 * SECOND);
    let pieces = network.capture[start..].iter().filter(|c| c.from == 0);
    let largest = pieces.map(|captured| captured.payload_length()).max();
    // 1500 - 40 (IPv6) - 20 (TCP) - 12 (timestamps): bursts cut too.
    assert_eq!(largest, Some(1428));
    let bad = network.tcp(0).stats().bad_checksums + network.tcp(1).stats().bad_checksums;
    assert_eq!(bad, network.corrupted, "completed sums are checked");
    assert_eq!(network.bursts[0], 0, "nothing over IPv4");
    network.bursts[1]
}

#[test]
fn ipv6_bursts_arrive_intact_when_tso6_is_offered() {
    assert!(ipv6_bursts(10, true) > 0, "no burst over IPv6");
}

#[test]
fn ipv6_segments_go_partial_and_never_as_bursts_without_tso6() {
    assert_eq!(ipv6_bursts(11, false), 0);
}
