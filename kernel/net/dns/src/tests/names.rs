//! Names from text, the query on the wire, address order, server lists.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::string::ToString;
use std::vec::Vec;
use std::{format, vec};

use super::wire;
use crate::message::write_query;
use crate::{Family, Name, NameError, ServerList, ServerSource, order_addresses};

#[test]
fn names_from_text_are_checked_and_folded_to_lower_case() {
    let name = Name::from_text("WWW.Example.ORG.").unwrap();
    assert_eq!(name.wire(), &wire("www.example.org")[..]);
    assert_eq!(name, Name::from_text("www.example.org").unwrap());
    assert_eq!(name.to_string(), "www.example.org");
    let long_label = "a".repeat(63);
    assert!(Name::from_text(&long_label).is_ok());
    let errors = [
        ("", NameError::Empty),
        (".", NameError::Empty),
        ("a..b", NameError::EmptyLabel),
        (".a", NameError::EmptyLabel),
        ("a b", NameError::BadCharacter),
        ("a/b", NameError::BadCharacter),
        ("é.org", NameError::BadCharacter),
    ];
    for (text, error) in errors {
        assert_eq!(Name::from_text(text), Err(error), "{text:?}");
    }
    assert_eq!(
        Name::from_text(&"a".repeat(64)),
        Err(NameError::LabelTooLong)
    );
}

/// 253 characters of text are 255 bytes on the wire: the longest name.
#[test]
fn a_name_may_take_255_bytes_on_the_wire_and_no_more() {
    let label = "a".repeat(63);
    let longest = format!("{label}.{label}.{label}.{}", "b".repeat(61));
    assert_eq!(longest.len(), 253);
    assert_eq!(Name::from_text(&longest).unwrap().wire().len(), 255);
    let longer = format!("{longest}b");
    assert_eq!(Name::from_text(&longer), Err(NameError::TooLong));
}

#[test]
fn display_escapes_what_is_not_printable() {
    let mut message = vec![0u8; 12];
    message.extend_from_slice(&[3, b'a', b'.', 0xff, 0]);
    let (name, end) = Name::read(&message, 12).unwrap();
    assert_eq!(end, message.len());
    assert_eq!(name.to_string(), "a\\046\\255");
    assert_eq!(format!("{name:?}"), "Name(a\\046\\255)");
}

/// The query is what `dig +noedns` and `dig` send (RD, one question, an
/// OPT record offering 1232 bytes), byte for byte.
#[test]
fn queries_are_written_byte_for_byte() {
    let name = Name::from_text("example.org").unwrap();
    let mut buffer = [0u8; 512];
    let length = write_query(&mut buffer, 0xbeef, &name, Family::V6, false).unwrap();
    let mut expected = vec![0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    expected.extend_from_slice(&wire("example.org"));
    expected.extend_from_slice(&[0, 28, 0, 1]);
    assert_eq!(&buffer[..length], &expected[..]);
    let length = write_query(&mut buffer, 0xbeef, &name, Family::V4, true).unwrap();
    expected[11] = 1; // ARCOUNT
    let question_type = expected.len() - 3;
    expected[question_type] = 1;
    expected.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(&buffer[..length], &expected[..]);
    assert!(write_query(&mut buffer[..20], 1, &name, Family::V4, true).is_err());
}

fn v4(text: &str) -> IpAddr {
    IpAddr::V4(text.parse::<Ipv4Addr>().unwrap())
}

fn v6(text: &str) -> IpAddr {
    IpAddr::V6(text.parse::<Ipv6Addr>().unwrap())
}

#[test]
fn ipv6_goes_last_without_an_ipv6_route_and_first_with_one() {
    let answer = [
        v6("2001::1"),
        v4("192.0.2.1"),
        v6("2a00::2"),
        v4("198.51.100.7"),
    ];
    let mut without = answer;
    order_addresses(&mut without, false);
    let expected = [
        v4("192.0.2.1"),
        v4("198.51.100.7"),
        v6("2a00::2"),
        v6("2001::1"),
    ];
    assert_eq!(without, expected, "IPv4 first, each family as served");
    let mut with = answer;
    order_addresses(&mut with, true);
    let expected = [
        v6("2a00::2"),
        v4("192.0.2.1"),
        v4("198.51.100.7"),
        v6("2001::1"),
    ];
    assert_eq!(
        with, expected,
        "global IPv6 (40) > IPv4 (35) > 2001::/32 (5)"
    );
}

#[test]
fn loopback_and_link_local_come_first_within_a_precedence() {
    let mut addresses = [v4("10.0.0.1"), v4("169.254.0.9"), v4("127.0.0.1")];
    order_addresses(&mut addresses, true);
    assert_eq!(
        addresses,
        [v4("169.254.0.9"), v4("127.0.0.1"), v4("10.0.0.1")]
    );
    let mut addresses = [v6("fd00::1"), v6("::1"), v6("fe80::1")];
    order_addresses(&mut addresses, true);
    assert_eq!(addresses, [v6("::1"), v6("fe80::1"), v6("fd00::1")]);
}

#[test]
fn server_lists_keep_each_source_and_merge_them_in_order() {
    let mut list = ServerList::default();
    assert!(list.is_empty());
    list.set_servers(ServerSource::Dhcp, &[v4("10.0.2.3"), v4("10.0.2.3")]);
    list.set_servers(
        ServerSource::BootParameters,
        &[
            v4("0.0.0.0"),
            v4("255.255.255.255"),
            v4("224.0.0.251"),
            v4("9.9.9.9"),
            v4("10.0.2.3"),
        ],
    );
    list.set_servers(ServerSource::RouterAdvertisement, &[v6("2001:db8::53")]);
    let all: Vec<IpAddr> = list.servers().collect();
    assert_eq!(all, [v4("9.9.9.9"), v4("10.0.2.3"), v6("2001:db8::53")]);
    list.set_servers(ServerSource::BootParameters, &[]);
    let all: Vec<IpAddr> = list.servers().collect();
    assert_eq!(all, [v4("10.0.2.3"), v6("2001:db8::53")]);
    let many: Vec<IpAddr> = (1..=5).map(|i| v4(&format!("10.0.0.{i}"))).collect();
    list.set_servers(ServerSource::Dhcp, &many);
    assert_eq!(list.servers_of(ServerSource::Dhcp).count(), 3);
}
