//! The response parser: answers, CNAME chains, negative answers, and every
//! way a message can be malformed or not ours.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::vec::Vec;
use std::{format, vec};

use super::{Reply, Section, TO_QUESTION, wire};
use crate::message::{rcode, record_type, write_query};
use crate::response::{Answer, Failure, MAX_CNAME_HOPS, Resolution, Response, parse_response};
use crate::{Error, Family, MAX_ADDRESSES, Name};

const ID: u16 = 0x5a5a;

fn name() -> Name {
    Name::from_text("www.example.org").unwrap()
}

fn query(family: Family) -> Vec<u8> {
    let mut buffer = [0u8; 512];
    let length = write_query(&mut buffer, ID, &name(), family, true).unwrap();
    buffer[..length].to_vec()
}

fn parse(message: &[u8], family: Family) -> Result<Response, Error> {
    parse_response(message, ID, &name(), family)
}

fn addresses(response: Result<Response, Error>) -> (Vec<IpAddr>, Option<u32>) {
    match response {
        Ok(Response::Answer(Answer {
            resolution: Resolution::Addresses(list),
            ttl,
        })) => (list.as_slice().to_vec(), ttl),
        other => panic!("not addresses: {other:?}"),
    }
}

#[test]
fn compressed_a_and_aaaa_answers_give_their_addresses_and_smallest_ttl() {
    let reply = Reply::to(&query(Family::V4))
        .a(&TO_QUESTION, 300, [192, 0, 2, 1])
        .a(&TO_QUESTION, 60, [192, 0, 2, 2])
        .record(Section::Additional, &[0], record_type::OPT, 0, &[])
        .build();
    let (list, ttl) = addresses(parse(&reply, Family::V4));
    let expected: Vec<IpAddr> = [[192, 0, 2, 1], [192, 0, 2, 2]]
        .map(|a| IpAddr::V4(Ipv4Addr::from(a)))
        .to_vec();
    assert_eq!((list, ttl), (expected, Some(60)));
    let six = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    let reply = Reply::to(&query(Family::V6))
        .aaaa(&TO_QUESTION, 3600, six.octets())
        .build();
    assert_eq!(
        addresses(parse(&reply, Family::V6)),
        (vec![IpAddr::V6(six)], Some(3600))
    );
}

/// A CNAME chain in any order, with a record for another name that an
/// attacker slipped in: only the chain's last name's addresses count,
/// and the TTL is the smallest along the chain.
#[test]
fn cname_chains_are_followed_in_any_order_and_strangers_ignored() {
    let reply = Reply::to(&query(Family::V4));
    let cdn = reply.offset() + TO_QUESTION.len() + 10;
    let reply = reply.cname(&TO_QUESTION, 120, &wire("edge.cdn.example"));
    let edge = [0xc0, cdn as u8];
    let reply = reply
        .a(&wire("bank.example"), 9999, [6, 6, 6, 6])
        .a(&wire("last.example"), 500, [203, 0, 113, 9])
        .cname(&edge, 900, &wire("last.example"))
        .build();
    let (list, ttl) = addresses(parse(&reply, Family::V4));
    assert_eq!(list, vec![IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))]);
    assert_eq!(ttl, Some(120));
}

#[test]
fn cname_loops_and_long_chains_are_failures() {
    let looped = Reply::to(&query(Family::V4))
        .cname(&TO_QUESTION, 60, &wire("b.example"))
        .cname(&wire("b.example"), 60, &wire("www.example.org"))
        .build();
    assert_eq!(
        parse(&looped, Family::V4),
        Ok(Response::Failure(Failure::CnameChainTooLong))
    );
    let chain = |hops: usize| {
        let mut reply = Reply::to(&query(Family::V4));
        let mut owner = wire("www.example.org");
        for hop in 0..hops {
            let target = wire(&format!("c{hop}.example"));
            reply = reply.cname(&owner, 60, &target);
            owner = target;
        }
        reply.a(&owner, 60, [192, 0, 2, 7]).build()
    };
    assert!(
        parse(&chain(MAX_CNAME_HOPS), Family::V4).is_ok_and(|r| matches!(r, Response::Answer(_)))
    );
    assert_eq!(
        parse(&chain(MAX_CNAME_HOPS + 1), Family::V4),
        Ok(Response::Failure(Failure::CnameChainTooLong))
    );
}

#[test]
fn negative_answers_take_the_soa_minimum_or_are_not_cached() {
    let nxdomain = Reply::to(&query(Family::V4))
        .rcode(rcode::NAME_ERROR)
        .soa(&wire("example.org"), 3600, 900)
        .build();
    let expected = Response::Answer(Answer {
        resolution: Resolution::NoSuchName,
        ttl: Some(900),
    });
    assert_eq!(parse(&nxdomain, Family::V4), Ok(expected));
    let nodata = Reply::to(&query(Family::V6))
        .soa(&wire("example.org"), 30, 900)
        .build();
    let expected = Response::Answer(Answer {
        resolution: Resolution::NoAddresses,
        ttl: Some(30),
    });
    assert_eq!(parse(&nodata, Family::V6), Ok(expected));
    let bare = Reply::to(&query(Family::V4))
        .rcode(rcode::NAME_ERROR)
        .build();
    let expected = Response::Answer(Answer {
        resolution: Resolution::NoSuchName,
        ttl: None,
    });
    assert_eq!(parse(&bare, Family::V4), Ok(expected));
}

#[test]
fn truncation_and_failures_are_reported_as_such() {
    let truncated = Reply::to(&query(Family::V4)).truncated().build();
    assert_eq!(parse(&truncated, Family::V4), Ok(Response::Truncated));
    let cases = [
        (rcode::FORMAT_ERROR, Failure::FormatError),
        (rcode::SERVER_FAILURE, Failure::ServerFailure),
        (rcode::NOT_IMPLEMENTED, Failure::NotImplemented),
        (rcode::REFUSED, Failure::Refused),
        (9, Failure::OtherCode(9)),
    ];
    for (code, failure) in cases {
        let reply = Reply::to(&query(Family::V4)).rcode(code).build();
        assert_eq!(parse(&reply, Family::V4), Ok(Response::Failure(failure)));
    }
}

#[test]
fn answers_to_another_id_or_question_are_rejected() {
    let good = Reply::to(&query(Family::V4)).a(&TO_QUESTION, 60, [192, 0, 2, 1]);
    let wrong_id = good.id(ID ^ 1).build();
    assert_eq!(parse(&wrong_id, Family::V4), Err(Error::WrongId));
    let reply = Reply::to(&query(Family::V4))
        .a(&TO_QUESTION, 60, [192, 0, 2, 1])
        .build();
    assert_eq!(parse(&reply, Family::V6), Err(Error::WrongQuestion), "type");
    let other = parse_response(
        &reply,
        ID,
        &Name::from_text("www.example.com").unwrap(),
        Family::V4,
    );
    assert_eq!(other, Err(Error::WrongQuestion), "name");
    let mut class = reply.clone();
    let class_at = 12 + wire("www.example.org").len() + 3;
    class[class_at] = 3; // CHAOS
    assert_eq!(
        parse(&class, Family::V4),
        Err(Error::WrongQuestion),
        "class"
    );
    let mut two = reply.clone();
    two[5] = 2;
    assert_eq!(
        parse(&two, Family::V4),
        Err(Error::WrongQuestion),
        "QDCOUNT"
    );
    let mut none = reply.clone();
    none[5] = 0;
    assert_eq!(
        parse(&none, Family::V4),
        Err(Error::WrongQuestion),
        "QDCOUNT"
    );
    let mut asking = reply.clone();
    asking[2] &= 0x7f;
    assert_eq!(parse(&asking, Family::V4), Err(Error::NotResponse));
    let mut opcode = reply.clone();
    opcode[2] |= 0x10; // STATUS
    assert_eq!(parse(&opcode, Family::V4), Err(Error::WrongOpcode));
    let mut upper = reply;
    upper[13] = b'W'; // the question echoed as "Www": still ours
    assert!(parse(&upper, Family::V4).is_ok());
}

#[test]
fn every_cut_of_a_response_is_rejected() {
    let reply = Reply::to(&query(Family::V4))
        .cname(&TO_QUESTION, 60, &wire("b.example"))
        .a(&wire("b.example"), 60, [192, 0, 2, 1])
        .soa(&wire("example"), 60, 60)
        .build();
    assert!(parse(&reply, Family::V4).is_ok());
    for length in 0..reply.len() {
        let cut = parse(&reply[..length], Family::V4);
        assert!(cut.is_err(), "cut at {length}: {cut:?}");
    }
}

#[test]
fn compression_pointers_that_loop_or_point_forward_are_rejected() {
    let base = Reply::to(&query(Family::V4));
    let here = base.offset() as u8;
    let to_itself = base.a(&[0xc0, here], 60, [192, 0, 2, 1]).build();
    assert_eq!(parse(&to_itself, Family::V4), Err(Error::BadPointer));
    let base = Reply::to(&query(Family::V4));
    let here = base.offset() as u8;
    let forward = base.a(&[0xc0, here + 20], 60, [192, 0, 2, 1]).build();
    assert_eq!(parse(&forward, Family::V4), Err(Error::BadPointer));
    // a label, then a pointer back to that label: a loop through a label.
    let base = Reply::to(&query(Family::V4));
    let here = base.offset() as u8;
    let through_label = base.a(&[1, b'x', 0xc0, here], 60, [192, 0, 2, 1]).build();
    assert_eq!(parse(&through_label, Family::V4), Err(Error::BadPointer));
    // a chain of backward pointers is fine.
    let base = Reply::to(&query(Family::V4)).a(&TO_QUESTION, 60, [192, 0, 2, 1]);
    let first = base.offset() as u8 - 16;
    let chained = base.a(&[0xc0, first], 60, [192, 0, 2, 2]).build();
    assert_eq!(addresses(parse(&chained, Family::V4)).0.len(), 2);
}

#[test]
fn oversized_names_labels_and_records_are_rejected() {
    let mut long = Vec::new();
    for _ in 0..5 {
        long.push(63);
        long.extend_from_slice(&[b'a'; 63]);
    }
    long.push(0);
    let reply = Reply::to(&query(Family::V4))
        .a(&long, 60, [192, 0, 2, 1])
        .build();
    assert_eq!(parse(&reply, Family::V4), Err(Error::NameTooLong));
    let extended = Reply::to(&query(Family::V4))
        .a(&[0x41, 0], 60, [192, 0, 2, 1])
        .build();
    assert_eq!(parse(&extended, Family::V4), Err(Error::BadLabel));
    let five = Reply::to(&query(Family::V4))
        .record(
            Section::Answer,
            &TO_QUESTION,
            record_type::A,
            60,
            &[1, 2, 3, 4, 5],
        )
        .build();
    assert_eq!(parse(&five, Family::V4), Err(Error::BadRecord));
    let mut past_end = Reply::to(&query(Family::V4))
        .a(&TO_QUESTION, 60, [192, 0, 2, 1])
        .build();
    let rdlength = past_end.len() - 6;
    past_end[rdlength + 1] = 200;
    assert_eq!(parse(&past_end, Family::V4), Err(Error::Truncated));
    let bad_soa = Reply::to(&query(Family::V4))
        .record(
            Section::Authority,
            &TO_QUESTION,
            record_type::SOA,
            60,
            &[0, 0, 1],
        )
        .build();
    assert_eq!(parse(&bad_soa, Family::V4), Err(Error::BadRecord));
    let mut counts = Reply::to(&query(Family::V4)).build();
    counts[6..12].copy_from_slice(&[0xff; 6]);
    assert_eq!(parse(&counts, Family::V4), Err(Error::Truncated));
}

#[test]
fn addresses_are_capped_deduplicated_and_ttls_with_the_top_bit_are_zero() {
    let mut reply = Reply::to(&query(Family::V4)).a(&TO_QUESTION, 60, [192, 0, 2, 0]);
    for last in 0..20 {
        reply = reply.a(&TO_QUESTION, 60, [192, 0, 2, last]);
    }
    let (list, _) = addresses(parse(&reply.build(), Family::V4));
    assert_eq!(list.len(), MAX_ADDRESSES);
    assert_eq!(list[1], IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    let negative = Reply::to(&query(Family::V4))
        .a(&TO_QUESTION, 0x8000_0000, [192, 0, 2, 1])
        .build();
    assert_eq!(addresses(parse(&negative, Family::V4)).1, Some(0));
}

#[test]
fn records_of_other_classes_and_types_are_skipped() {
    let mut reply = Reply::to(&query(Family::V4))
        .record(Section::Answer, &TO_QUESTION, 16, 60, b"\x05hello")
        .a(&TO_QUESTION, 60, [192, 0, 2, 1])
        .build();
    // make the TXT record class CHAOS: still read, never used.
    let class_at = reply.len() - 16 - 18 + 5;
    reply[class_at] = 3;
    assert_eq!(addresses(parse(&reply, Family::V4)).0.len(), 1);
}
