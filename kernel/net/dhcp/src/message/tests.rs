//! Codec tests: a real dnsmasq OFFER, the writer, and parse errors.

use super::*;
use std::vec::Vec;

/// A DHCPOFFER exactly as dnsmasq 2.90 sent it (captured on a veth pair
/// between two network namespaces) for a DISCOVER from 52:54:00:12:34:56
/// with xid 0x3903f326, broadcast flag, and options 1, 3, 6, 51, 58, 59
/// requested; dnsmasq ran with `--dhcp-range=192.168.77.50,192.168.77.150,
/// 255.255.255.0,12h`, router 192.168.77.1 and DNS 192.168.77.1, 9.9.9.9.
pub const DNSMASQ_OFFER: [u8; 300] = [
    0x02, 0x01, 0x06, 0x00, 0x39, 0x03, 0xf3, 0x26, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xc0, 0xa8, 0x4d, 0x6b, 0xc0, 0xa8, 0x4d, 0x01, 0x00, 0x00, 0x00, 0x00, 0x52, 0x54, 0x00, 0x12,
    0x34, 0x56, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63, 0x82, 0x53, 0x63,
    0x35, 0x01, 0x02, 0x36, 0x04, 0xc0, 0xa8, 0x4d, 0x01, 0x33, 0x04, 0x00, 0x00, 0xa8, 0xc0, 0x3a,
    0x04, 0x00, 0x00, 0x54, 0x60, 0x3b, 0x04, 0x00, 0x00, 0x93, 0xa8, 0x01, 0x04, 0xff, 0xff, 0xff,
    0x00, 0x1c, 0x04, 0xc0, 0xa8, 0x4d, 0xff, 0x06, 0x08, 0xc0, 0xa8, 0x4d, 0x01, 0x09, 0x09, 0x09,
    0x09, 0x03, 0x04, 0xc0, 0xa8, 0x4d, 0x01, 0xff, 0x00, 0x00, 0x00, 0x00,
];

#[test]
fn decodes_a_real_dnsmasq_offer() {
    let view = MessageView::parse(&DNSMASQ_OFFER).expect("dnsmasq sends valid offers");
    let header = view.header();
    assert_eq!(
        (header.op, header.hardware_type, header.hardware_length),
        (2, 1, 6)
    );
    assert_eq!(header.xid, 0x3903_f326);
    assert_eq!(header.flags, FLAG_BROADCAST);
    assert_eq!(header.client_address, Ipv4Addr::UNSPECIFIED);
    assert_eq!(header.your_address, Ipv4Addr::new(192, 168, 77, 107));
    assert_eq!(header.server_address, Ipv4Addr::new(192, 168, 77, 1));
    assert_eq!(header.relay_address, Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        header.hardware_address,
        [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    );
    assert_eq!(view.message_type(), MessageType::Offer);
    let server = view.address_option(option::SERVER_IDENTIFIER);
    assert_eq!(server, Some(Ipv4Addr::new(192, 168, 77, 1)));
    assert_eq!(view.u32_option(option::LEASE_TIME), Some(12 * 3_600));
    assert_eq!(view.u32_option(option::RENEWAL_TIME), Some(6 * 3_600));
    assert_eq!(view.u32_option(option::REBINDING_TIME), Some(37_800));
    let mask = view.address_option(option::SUBNET_MASK);
    assert_eq!(mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
    assert_eq!(
        view.address_option(28),
        Some(Ipv4Addr::new(192, 168, 77, 255))
    );
    let dns: Vec<Ipv4Addr> = view.addresses(option::DNS).collect();
    assert_eq!(
        dns,
        [Ipv4Addr::new(192, 168, 77, 1), Ipv4Addr::new(9, 9, 9, 9)]
    );
    let router = view.address_option(option::ROUTER);
    assert_eq!(router, Some(Ipv4Addr::new(192, 168, 77, 1)));
    let codes: Vec<u8> = view.options().map(|(code, _)| code).collect();
    assert_eq!(codes, [53, 54, 51, 58, 59, 1, 28, 6, 3]);
}

#[test]
fn writer_output_parses_back() {
    let mut buffer = [0; 576];
    let mut header = Header::new(OP_REPLY, 0xdead_beef, [2, 0, 0, 0, 0, 1]);
    header.your_address = Ipv4Addr::new(10, 9, 8, 7);
    header.secs = 513;
    let mut writer = MessageWriter::new(&mut buffer, &header, MessageType::Ack).unwrap();
    writer.u32_option(option::LEASE_TIME, 86_400).unwrap();
    writer.option(option::DNS, &[1, 2, 3, 4, 5, 6, 7]).unwrap();
    writer.option(200, &[]).unwrap();
    let length = writer.finish().unwrap();
    assert_eq!(length, MINIMUM_LENGTH);
    let view = MessageView::parse(&buffer[..length]).unwrap();
    assert_eq!(view.header(), header);
    assert_eq!(view.message_type(), MessageType::Ack);
    assert_eq!(view.u32_option(option::LEASE_TIME), Some(86_400));
    let dns: Vec<Ipv4Addr> = view.addresses(option::DNS).collect();
    assert_eq!(
        dns,
        [Ipv4Addr::new(1, 2, 3, 4)],
        "the ragged tail is dropped"
    );
    assert_eq!(view.option(200), Some(&[][..]));
    assert_eq!(view.option(option::ROUTER), None);
}

#[test]
fn writer_refuses_small_buffers_and_long_options() {
    let header = Header::new(OP_REQUEST, 1, [0; 6]);
    for size in [0, 100, 239, 242] {
        let mut buffer = std::vec![0; size];
        let result = MessageWriter::new(&mut buffer, &header, MessageType::Discover);
        assert_eq!(result.err(), Some(Error::BufferTooSmall), "size {size}");
    }
    let mut buffer = [0; 299];
    let writer = MessageWriter::new(&mut buffer, &header, MessageType::Discover).unwrap();
    assert_eq!(
        writer.finish(),
        Err(Error::BufferTooSmall),
        "no room for padding"
    );
    let mut buffer = [0; 576];
    let mut writer = MessageWriter::new(&mut buffer, &header, MessageType::Discover).unwrap();
    assert_eq!(writer.option(12, &[b'x'; 256]), Err(Error::BadOptionLength));
    assert_eq!(writer.option(12, &[b'x'; 255]), Ok(()));
    assert_eq!(writer.option(12, &[b'x'; 255]), Err(Error::BufferTooSmall));
}

#[test]
fn message_types_round_trip_through_their_byte() {
    for byte in 1..=8 {
        let kind = MessageType::from_byte(byte).expect("1 to 8 are defined");
        assert_eq!(kind as u8, byte);
    }
    assert_eq!(MessageType::from_byte(0), None);
    assert_eq!(MessageType::from_byte(9), None);
}

#[test]
fn options_stop_at_the_end_marker_and_skip_pads() {
    let mut bytes = DNSMASQ_OFFER[..OPTIONS_OFFSET].to_vec();
    bytes.extend_from_slice(&[0, 0, 53, 1, 2, 0, 255, 3, 4, 1, 2, 3, 4]);
    let view = MessageView::parse(&bytes).unwrap();
    let codes: Vec<u8> = view.options().map(|(code, _)| code).collect();
    assert_eq!(codes, [53]);
    assert_eq!(view.option(option::ROUTER), None, "nothing after the end");
}

#[test]
fn every_error_has_a_message() {
    let errors = [
        Error::BufferTooSmall,
        Error::Truncated,
        Error::BadCookie,
        Error::BadOptionLength,
        Error::BadMessageType,
    ];
    for error in errors {
        assert!(!std::format!("{error}").is_empty());
    }
    assert_eq!(MessageView::parse(&[0; 239]).err(), Some(Error::Truncated));
}
