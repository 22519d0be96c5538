//! Neighbor Discovery messages: round trips through the writers, and
//! every validity rule of the parser.

use std::vec;

use super::*;

const MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 9]);

fn ip(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

#[test]
fn solicitation_round_trip_with_options() {
    let mut out = [0u8; SOLICITATION_MAX_LEN];
    let length = write_neighbor_solicitation(&mut out, ip("fe80::2"), Some(MAC), Some([7; 6]));
    assert_eq!(length, 40);
    let packet = NdPacket::parse(&out[..length]).unwrap();
    assert_eq!(
        packet.message,
        NdMessage::NeighborSolicitation {
            target: ip("fe80::2")
        }
    );
    assert_eq!(packet.link_address(), Some(MAC));
    assert_eq!(packet.nonce(), Some(&[7u8; 6][..]));
    let bare = write_neighbor_solicitation(&mut out, ip("fe80::2"), None, None);
    assert_eq!(bare, 24);
    let packet = NdPacket::parse(&out[..bare]).unwrap();
    assert_eq!(packet.options().count(), 0);
    assert_eq!(packet.nonce(), None);
}

#[test]
fn advertisement_round_trip_with_flags() {
    let advertisement = NeighborAdvertisement {
        router: true,
        solicited: true,
        override_cache: false,
        target: ip("2001:db8::5"),
    };
    let mut out = [0u8; ADVERTISEMENT_MAX_LEN];
    let length = write_neighbor_advertisement(&mut out, &advertisement, Some(MAC));
    let packet = NdPacket::parse(&out[..length]).unwrap();
    assert_eq!(
        packet.message,
        NdMessage::NeighborAdvertisement(advertisement)
    );
    assert_eq!(
        packet.options().next(),
        Some(NdOption::TargetLinkAddress(MAC))
    );
}

#[test]
fn router_advertisement_round_trip_with_every_option() {
    let advertisement = RouterAdvertisement {
        hop_limit: 64,
        managed: false,
        other: true,
        lifetime_s: 1800,
        reachable_ms: 30_000,
        retransmit_ms: 1000,
    };
    let prefix = PrefixInformation {
        prefix_length: 64,
        on_link: true,
        autonomous: true,
        valid_s: 86_400,
        preferred_s: 14_400,
        prefix: ip("2001:db8:1::"),
    };
    let servers = [ip("2001:db8::53"), ip("2001:db8::54")];
    let options = RouterAdvertisementOptions {
        source_link: Some(MAC),
        prefixes: &[prefix],
        mtu: Some(1400),
        dns_servers: Some((600, &servers)),
    };
    let mut out = vec![0u8; options.message_len()];
    let length = write_router_advertisement(&mut out, &advertisement, &options);
    assert_eq!(length, out.len());
    let packet = NdPacket::parse(&out).unwrap();
    assert_eq!(
        packet.message,
        NdMessage::RouterAdvertisement(advertisement)
    );
    let parsed: std::vec::Vec<_> = packet.options().collect();
    assert_eq!(parsed[0], NdOption::SourceLinkAddress(MAC));
    assert_eq!(parsed[1], NdOption::Prefix(prefix));
    assert_eq!(parsed[2], NdOption::Mtu(1400));
    assert!(matches!(
        parsed[3],
        NdOption::Rdnss {
            lifetime_s: 600,
            ..
        }
    ));
    assert_eq!(parsed[3].servers().collect::<std::vec::Vec<_>>(), servers);
    assert_eq!(parsed.len(), 4);
}

#[test]
fn router_solicitation_and_redirect() {
    let mut out = [0u8; ROUTER_SOLICITATION_MAX_LEN];
    let length = write_router_solicitation(&mut out, Some(MAC));
    let packet = NdPacket::parse(&out[..length]).unwrap();
    assert_eq!(packet.message, NdMessage::RouterSolicitation);
    assert_eq!(packet.link_address(), Some(MAC));
    let mut redirect = [0u8; 40];
    redirect[0] = crate::icmpv6::kind::REDIRECT;
    redirect[8..24].copy_from_slice(&ip("fe80::1").octets());
    redirect[24..40].copy_from_slice(&ip("2001:db8::9").octets());
    assert_eq!(
        NdPacket::parse(&redirect).unwrap().message,
        NdMessage::Redirect {
            target: ip("fe80::1"),
            destination: ip("2001:db8::9")
        }
    );
}

#[test]
fn invalid_messages_are_refused() {
    let mut out = [0u8; SOLICITATION_MAX_LEN];
    let length = write_neighbor_solicitation(&mut out, ip("fe80::2"), Some(MAC), None);
    assert_eq!(NdPacket::parse(&out[..23]), Err(WireError::Truncated));
    let mut coded = out;
    coded[1] = 1;
    assert_eq!(
        NdPacket::parse(&coded[..length]),
        Err(WireError::Unsupported)
    );
    let mut zero_option = out;
    zero_option[25] = 0;
    assert_eq!(
        NdPacket::parse(&zero_option[..length]),
        Err(WireError::BadLength)
    );
    let mut long_option = out;
    long_option[25] = 2;
    assert_eq!(
        NdPacket::parse(&long_option[..length]),
        Err(WireError::BadLength)
    );
    assert_eq!(
        NdPacket::parse(&out[..length - 1]),
        Err(WireError::BadLength)
    );
    let multicast = write_neighbor_solicitation(&mut out, ip("ff02::1"), None, None);
    assert_eq!(
        NdPacket::parse(&out[..multicast]),
        Err(WireError::Unsupported)
    );
    assert_eq!(
        NdPacket::parse(&[128, 0, 0, 0]),
        Err(WireError::Unsupported)
    );
    assert_eq!(NdPacket::parse(&[]), Err(WireError::Unsupported));
}

#[test]
fn odd_options_are_skipped_as_other() {
    let mut message = vec![0u8; 16];
    message[0] = crate::icmpv6::kind::ROUTER_ADVERTISEMENT;
    // A link-layer option of 16 bytes, an RDNSS without servers, an
    // unknown option.
    message.extend_from_slice(&[1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    message.extend_from_slice(&[25, 1, 0, 0, 0, 0, 0, 10]);
    message.extend_from_slice(&[99, 1, 0, 0, 0, 0, 0, 0]);
    let packet = NdPacket::parse(&message).unwrap();
    let options: std::vec::Vec<_> = packet.options().collect();
    assert_eq!(
        options,
        [NdOption::Other(1), NdOption::Other(25), NdOption::Other(99)]
    );
    assert_eq!(packet.link_address(), None);
    assert_eq!(options[1].servers().count(), 0);
}
