//! Coalesced TCP segments through a router (`chain.rs`), both families.
//!
//! A's device cuts TSO bursts and the near wire hands them to R whole,
//! marked with their segment size, as a virtio NIC's receive TSO or a
//! tap's GRO does. R passes a burst whole to a far device that cuts its
//! family, cuts it in software for any other (the same routine for both
//! families), and answers a burst whose segments are too big for the far
//! link as it would any packet too big.

use core::net::IpAddr;

use super::chain::{B, B6, Chain, FAR, MILLISECOND};
use super::forwarding::data;
use crate::forward::ForwardStats;
use crate::offload::Offloads;

/// An Ethernet frame of a full 1500-byte packet.
const FRAME_LIMIT: usize = 1500 + wire::ethernet::HEADER_LEN;

/// A chain whose near wire carries A's bursts whole to R, R's far device
/// doing `far`.
fn bursting(far: Offloads) -> Chain {
    let mut chain = Chain::with_far(true, Offloads::ALL, far);
    chain.partial_near = true;
    chain
}

/// Sends 400 kB from A to `server` through R; true when intact.
fn bulk(chain: &mut Chain, server: IpAddr) -> bool {
    let connection = chain.connect(server);
    chain.transfer(connection, &data(400_000), 10_000 * MILLISECOND)
}

fn stats(chain: &Chain, server: IpAddr) -> ForwardStats {
    match server {
        IpAddr::V4(_) => chain.r.ip.forward_stats,
        IpAddr::V6(_) => chain.r.ip.v6.forward_stats,
    }
}

#[test]
fn a_burst_of_either_family_is_cut_in_software_for_a_device_that_cannot() {
    for server in [IpAddr::from(B), B6.into()] {
        let mut chain = bursting(Offloads::NONE);
        assert!(bulk(&mut chain, server), "intact to {server}");
        assert!(chain.largest_near > 2 * FRAME_LIMIT, "A sent TSO bursts");
        assert!(chain.largest_far <= FRAME_LIMIT, "R cut them for B's link");
        let forwarded = stats(&chain, server);
        assert!(forwarded.segmented > 0, "{forwarded:?}");
        assert!(forwarded.forwarded > forwarded.segmented);
        assert_eq!(forwarded.coalesced_dropped, 0);
        assert_eq!(chain.partial_far, 0, "pieces carry full sums");
        assert_eq!(chain.b.tcp.stats().bad_checksums, 0);
        assert_eq!(chain.a.tcp.stats().retransmitted_segments, 0);
    }
}

#[test]
fn an_ipv6_burst_goes_whole_to_a_device_with_tso6() {
    let mut chain = bursting(Offloads::ALL);
    assert!(bulk(&mut chain, B6.into()));
    assert!(chain.largest_far > 2 * FRAME_LIMIT, "the far device cuts");
    assert!(chain.partial_far > 0, "its sums left to the device");
    let forwarded = chain.r.ip.v6.forward_stats;
    assert_eq!((forwarded.segmented, forwarded.coalesced_dropped), (0, 0));
    assert_eq!(chain.b.tcp.stats().bad_checksums, 0);
}

#[test]
fn an_ipv6_burst_is_cut_in_software_for_a_device_with_tso4_only() {
    let tso4 = Offloads {
        segmentation_ipv6: false,
        ..Offloads::ALL
    };
    let mut chain = bursting(tso4);
    assert!(bulk(&mut chain, B6.into()));
    assert!(chain.largest_far <= FRAME_LIMIT);
    assert!(chain.r.ip.v6.forward_stats.segmented > 0);
    assert!(bulk(&mut chain, B.into()));
    assert!(chain.largest_far > 2 * FRAME_LIMIT, "TSO4 bursts whole");
    assert_eq!(chain.r.ip.forward_stats.segmented, 0);
}

#[test]
fn an_ipv6_burst_too_big_for_the_far_link_is_answered_and_tcp_copes() {
    let mut chain = bursting(Offloads::NONE);
    chain.r.set_mtu(FAR, 1280).expect("far MTU");
    assert!(bulk(&mut chain, B6.into()));
    let forwarded = chain.r.ip.v6.forward_stats;
    assert!(forwarded.too_big >= 1, "packet too big sent: {forwarded:?}");
    assert!(forwarded.segmented > 0, "cut after the MSS came down");
    assert!(chain.largest_far <= 1280 + wire::ethernet::HEADER_LEN);
    assert!(chain.a.tcp.stats().path_mtu_lowered >= 1);
}
