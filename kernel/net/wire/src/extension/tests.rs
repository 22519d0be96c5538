//! The extension-header walker: every kind of header, every limit.

use std::vec;
use std::vec::Vec;

use super::*;
use crate::ipv6::Ipv6Header;

/// A packet whose fixed header names `first` and whose payload is
/// `chain` followed by 8 bytes of upper layer.
fn packet(first: u8, chain: &[u8]) -> Vec<u8> {
    let source = "fe80::1".parse().unwrap();
    let destination = "fe80::2".parse().unwrap();
    let mut bytes = vec![0u8; HEADER_LEN + chain.len() + 8];
    Ipv6Header::new(source, destination, first, chain.len() + 8).write(&mut bytes);
    bytes[HEADER_LEN..HEADER_LEN + chain.len()].copy_from_slice(chain);
    bytes
}

fn walk_all(first: u8, chain: &[u8]) -> Result<Chain, ChainError> {
    walk(&packet(first, chain), first, HEADER_LEN, 6, false)
}

/// An options header naming `next`, with `options` padded to 8n bytes
/// by the caller.
fn options_header(next: u8, options: &[u8]) -> Vec<u8> {
    assert_eq!((options.len() + 2) % 8, 0, "the test sized it");
    let mut header = vec![next, ((options.len() + 2) / 8 - 1) as u8];
    header.extend_from_slice(options);
    header
}

#[test]
fn no_extension_headers_ends_at_the_fixed_header() {
    let chain = walk_all(next_header::UDP, &[]).unwrap();
    assert_eq!(
        (chain.protocol, chain.offset, chain.protocol_pointer),
        (17, 40, 6)
    );
    assert_eq!((chain.headers, chain.fragment), (0, None));
}

#[test]
fn hop_by_hop_with_router_alert_then_destination_options() {
    let mut chain = options_header(60, &[5, 2, 0, 0, 1, 0]);
    chain.extend(options_header(58, &[1, 4, 0, 0, 0, 0]));
    let walked = walk_all(next_header::HOP_BY_HOP, &chain).unwrap();
    assert!(walked.router_alert);
    assert_eq!((walked.protocol, walked.offset), (58, 56));
    assert_eq!(walked.protocol_pointer, 48);
    assert_eq!(walked.headers, 2);
}

#[test]
fn hop_by_hop_anywhere_but_first_is_a_problem() {
    let chain = options_header(0, &[1, 4, 0, 0, 0, 0]);
    let mut both = chain.clone();
    both.extend(options_header(58, &[1, 4, 0, 0, 0, 0]));
    assert_eq!(
        walk_all(next_header::DESTINATION_OPTIONS, &both),
        Err(ChainError::Problem {
            code: problem::NEXT_HEADER,
            pointer: 40,
            to_multicast: false
        })
    );
    let reassembled = walk(&packet(0, &chain), 0, HEADER_LEN, 6, true);
    assert!(matches!(reassembled, Err(ChainError::Problem { .. })));
}

#[test]
fn unknown_options_act_as_their_high_bits_say() {
    let skip = options_header(58, &[0x1e, 2, 0, 0, 1, 0]);
    assert!(walk_all(60, &skip).is_ok());
    let discard = options_header(58, &[0x5e, 2, 0, 0, 1, 0]);
    assert_eq!(walk_all(60, &discard), Err(ChainError::Discard));
    let always = options_header(58, &[0x9e, 2, 0, 0, 1, 0]);
    assert_eq!(
        walk_all(60, &always),
        Err(ChainError::Problem {
            code: problem::OPTION,
            pointer: 42,
            to_multicast: true
        })
    );
    let unicast_only = options_header(58, &[1, 0, 0xde, 2, 0, 0]);
    assert_eq!(
        walk_all(60, &unicast_only),
        Err(ChainError::Problem {
            code: problem::OPTION,
            pointer: 44,
            to_multicast: false
        })
    );
    let alert_outside_hop_by_hop = options_header(58, &[5, 2, 0, 0, 1, 0]);
    assert!(
        walk_all(60, &alert_outside_hop_by_hop).is_ok(),
        "00: skipped"
    );
}

#[test]
fn padding_and_option_counts_are_bounded() {
    let long_padding = options_header(58, &[1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(walk_all(60, &long_padding), Err(ChainError::Discard));
    let pad1s = options_header(58, &[0; 14]);
    assert_eq!(walk_all(60, &pad1s), Err(ChainError::Discard));
    let mut many = Vec::new();
    for _ in 0..9 {
        many.extend_from_slice(&[0x1e, 0]);
    }
    many.extend_from_slice(&[1, 2, 0, 0]);
    assert_eq!(
        walk_all(60, &options_header(58, &many)),
        Err(ChainError::Discard)
    );
    let runs_past_the_header = options_header(58, &[1, 9, 0, 0, 0, 0]);
    assert_eq!(
        walk_all(60, &runs_past_the_header),
        Err(ChainError::Discard)
    );
    let cut_option = options_header(58, &[1, 3, 0, 0, 0, 0x1e]);
    assert_eq!(walk_all(60, &cut_option), Err(ChainError::Discard));
}

#[test]
fn header_counts_and_chain_length_are_bounded() {
    let mut chain = Vec::new();
    for _ in 0..MAX_HEADERS {
        chain.extend(options_header(60, &[1, 4, 0, 0, 0, 0]));
    }
    let last = chain.len() - 8;
    chain[last] = 58;
    assert!(walk_all(60, &chain).is_ok());
    let mut one_more = chain.clone();
    one_more[last] = 60;
    one_more.extend(options_header(58, &[1, 4, 0, 0, 0, 0]));
    assert_eq!(walk_all(60, &one_more), Err(ChainError::Discard));
    // Three headers of 192 bytes (seven skippable options each) are
    // within the count but past the length.
    let mut big = vec![60, 23];
    for _ in 0..7 {
        big.extend_from_slice(&[0x1e, 25]);
        big.extend_from_slice(&[0; 25]);
    }
    big.push(0);
    assert_eq!(big.len(), 192);
    let mut two = big.repeat(2);
    two[192] = 58;
    assert!(walk_all(60, &two).is_ok());
    let mut three = big.repeat(3);
    three[384] = 58;
    assert_eq!(walk_all(60, &three), Err(ChainError::Discard));
    assert_eq!(walk_all(60, &[58, 3, 1, 0]), Err(ChainError::Discard));
}

#[test]
fn routing_headers_are_skipped_only_when_spent() {
    // Type 0 with no segments left is skipped; with some left it is a
    // Parameter Problem at its type field (RFC 5095, RFC 8200 4.4).
    let spent = [58, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(walk_all(43, &spent).unwrap().protocol, 58);
    let live = [
        58, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(
        walk_all(43, &live),
        Err(ChainError::Problem {
            code: problem::HEADER_FIELD,
            pointer: 42,
            to_multicast: false
        })
    );
}

#[test]
fn the_walk_stops_after_a_fragment_header() {
    let fragment = [17, 0, 0x05, 0x39, 0xde, 0xad, 0xbe, 0xef];
    let chain = walk_all(44, &fragment).unwrap();
    let header = chain.fragment.unwrap();
    assert_eq!(header.offset, 0x538 / 8 * 8);
    assert_eq!(header.offset, 1336);
    assert!(header.more && !header.is_atomic());
    assert_eq!(header.identification, 0xdead_beef);
    assert_eq!(
        (chain.protocol, chain.offset, chain.protocol_pointer),
        (17, 48, 40)
    );
    let atomic = [17, 0, 0, 0, 0, 0, 0, 1];
    assert!(walk_all(44, &atomic).unwrap().fragment.unwrap().is_atomic());
    let again = walk(&packet(44, &fragment), 44, HEADER_LEN, 6, true);
    assert_eq!(again, Err(ChainError::Discard), "no nested fragments");
    let cut = &packet(44, &fragment)[..44];
    assert_eq!(
        walk(cut, 44, HEADER_LEN, 6, false),
        Err(ChainError::Discard)
    );
}

#[test]
fn skip_follows_lengths_without_judging_options() {
    let mut chain = options_header(43, &[0x9e, 2, 0, 0, 1, 0]);
    chain.extend_from_slice(&[44, 0, 0, 1, 0, 0, 0, 0]);
    chain.extend_from_slice(&[58, 0, 0, 0, 0, 0, 0, 1]);
    let bytes = packet(60, &chain);
    assert!(walk(&bytes, 60, HEADER_LEN, 6, false).is_err());
    assert_eq!(skip(&bytes, 60, HEADER_LEN), Some((58, 64)));
    let later = packet(44, &[58, 0, 0, 0x11, 0, 0, 0, 1]);
    assert_eq!(skip(&later, 44, HEADER_LEN), None, "not the first fragment");
    assert_eq!(skip(&bytes[..50], 60, HEADER_LEN), None);
    let mut endless = Vec::new();
    for _ in 0..=MAX_HEADERS {
        endless.extend(options_header(60, &[1, 4, 0, 0, 0, 0]));
    }
    assert_eq!(skip(&packet(60, &endless), 60, HEADER_LEN), None);
}
