//! Path MTU discovery over a hop with a smaller MTU: with its ICMP
//! "fragmentation needed" the sender shrinks its segments at once and
//! loses nothing (RFC 1191); without, a black hole, timeouts lower the
//! MTU and probes search back up close to the hop's (RFC 4821, RFC 8899),
//! and to the ceiling once the hop is gone; forged ICMPs change nothing.
//! Each over IPv4 and over IPv6 (Packet Too Big, RFC 8201), whose path
//! MTU never goes below 1280.

use core::net::SocketAddr;
use std::vec::Vec;

use super::network::{MILLISECOND, Narrow, Network, SECOND, TooBig, config};
use crate::path_mtu::{RESEARCH_NS, SEARCH_STEP};
use crate::{SocketHandle, TcpConfig};

/// Sends `data` from host 0 to host 1; true when it all arrived, intact,
/// within `limit_ns`.
fn transfer(
    network: &mut Network,
    (client, server): (SocketHandle, SocketHandle),
    data: &[u8],
    limit_ns: u64,
) -> bool {
    let (mut sent, mut received) = (0, Vec::new());
    let done = network.run_until(limit_ns, |network| {
        if sent < data.len() {
            sent += network.send(0, client, &data[sent..]).unwrap_or(0);
        }
        received.extend(network.read(1, server).expect("readable"));
        received.len() == data.len()
    });
    done && received == data
}

fn pattern(length: usize) -> Vec<u8> {
    (0..length).map(|index| (index % 251) as u8).collect()
}

/// The largest IP packet host 0 sent from capture index `start` on.
fn largest_packet(network: &Network, start: usize) -> usize {
    let largest = network.sent_by(0, start).map(|sent| sent.bytes.len());
    let ip_header = if network.hosts[0].address.is_ipv4() {
        20
    } else {
        40
    };
    largest.max().unwrap_or(0) + ip_header
}

/// Two hosts with `settings`, over IPv4 and then over IPv6.
fn both_families(seed: u64, settings: TcpConfig) -> [Network; 2] {
    let settings = [settings, settings];
    [
        Network::new(seed, &settings),
        Network::ipv6(seed, &settings),
    ]
}

#[test]
fn an_icmp_from_a_narrower_hop_shrinks_segments_and_loses_nothing() {
    for (sack, timestamps) in [(true, true), (false, false)] {
        let settings = TcpConfig {
            selective_acknowledgments: sack,
            timestamps,
            ..config()
        };
        for mut network in both_families(71, settings) {
            let (client, _, server) = network.establish(80);
            network.narrow = Some(Narrow {
                mtu: 1280,
                icmp: true,
            });
            let data = pattern(2 << 20);
            assert!(transfer(&mut network, (client, server), &data, 60 * SECOND));
            let stats = *network.tcp(0).stats();
            assert!(stats.path_mtu_lowered >= 1, "{stats:?}");
            // The ICMP is no congestion: no window cut, no timeout.
            assert_eq!(
                (stats.fast_retransmits, stats.timeouts),
                (0, 0),
                "{stats:?}"
            );
            let tcb = network.tcp(0).table.get(client).expect("the client");
            assert_eq!(crate::path_mtu::current(tcb), 1280);
            // Every data segment after the first flight fits the hop.
            let later = network.capture.len() / 2;
            assert!(largest_packet(&network, later) <= 1280);
        }
    }
}

#[test]
fn a_black_hole_is_found_and_the_search_climbs_back() {
    // IPv6 starts its search at 1280: its hop is wider for probes to pass.
    let [ipv4, ipv6] = both_families(72, config());
    for (mut network, hop) in [(ipv4, 1280), (ipv6, 1400)] {
        a_black_hole_of(&mut network, hop);
    }
}

#[test]
fn a_black_hole_is_found_under_segmentation_offload_too() {
    // Bursts cut by the device would hide a probe in pieces that pass:
    // while a search is on, a probe must leave whole.
    let mut network = Network::new(74, &[config(), config()]);
    network.offload = crate::Offload {
        checksum: true,
        segment_limit: 64_000,
    };
    a_black_hole_of(&mut network, 1280);
}

fn a_black_hole_of(network: &mut Network, hop: u16) {
    let (client, _, server) = network.establish(80);
    network.narrow = Some(Narrow {
        mtu: hop,
        icmp: false,
    });
    let data = pattern(2 << 20);
    assert!(transfer(network, (client, server), &data, 120 * SECOND));
    let stats = *network.tcp(0).stats();
    assert_eq!(stats.mtu_black_holes, 1, "{stats:?}");
    assert!(stats.mtu_probes > stats.mtu_probes_lost, "{stats:?}");
    let mtu = crate::path_mtu::current(network.tcp(0).table.get(client).unwrap());
    assert!(
        (hop - SEARCH_STEP..=hop).contains(&mtu),
        "the search ended at {mtu}"
    );
    // The hop goes away: ten minutes on, the search finds the ceiling.
    network.narrow = None;
    network.now += RESEARCH_NS;
    assert!(transfer(network, (client, server), &data, 60 * SECOND));
    let tcb = network.tcp(0).table.get(client).unwrap();
    assert_eq!(crate::path_mtu::current(tcb), 1500);
}

/// ICMPs about host 0's connection to host 1:80, whose data
/// [`una`, `max`) is in flight.
struct Reports {
    una: u32,
    max: u32,
    local: SocketAddr,
    remote: SocketAddr,
}

impl Reports {
    /// One quoting `sequence`, naming `mtu`, due now for host 0.
    fn at(&self, sequence: u32, mtu: u16) -> TooBig {
        let (local, remote) = (self.local, self.remote);
        TooBig {
            at: 0,
            to: 0,
            local,
            remote,
            sequence,
            mtu,
        }
    }
}

/// A connection from host 0 with 30,000 bytes in flight, its ACKs not
/// back yet: (its handle, what ICMPs about it would say).
fn in_flight(network: &mut Network) -> (SocketHandle, Reports) {
    let (client, _, _) = network.establish(80);
    network.send(0, client, &pattern(30_000)).unwrap();
    let tcb = network.tcp(0).table.get(client).unwrap();
    let reports = Reports {
        una: tcb.send_unacknowledged.0,
        max: tcb.send_maximum.0,
        local: network.endpoint(0, tcb.local.port()),
        remote: network.endpoint(1, 80),
    };
    (client, reports)
}

#[test]
fn forged_fragmentation_needed_messages_change_nothing() {
    let mut network = Network::pair(73);
    let (client, reports) = in_flight(&mut network);
    let (una, max) = (reports.una, reports.max);
    let forged = |sequence, mtu| reports.at(sequence, mtu);
    let stranger = TooBig {
        remote: network.endpoint(1, 81),
        ..forged(una, 1280)
    };
    let cases = [
        forged(una.wrapping_sub(1), 1280),
        forged(max, 1280),
        forged(una.wrapping_add(1 << 30), 1280),
        forged(una, 68),
        forged(una, 551),
        forged(una, 1500),
        forged(una, 9000),
        stranger,
    ];
    for report in cases {
        assert!(!network.deliver_too_big(report), "{report:?}");
    }
    let stats = *network.tcp(0).stats();
    assert_eq!(
        (stats.path_mtu_lowered, stats.path_mtu_ignored),
        (0, cases.len() as u64)
    );
    let tcb = network.tcp(0).table.get(client).unwrap();
    assert_eq!(crate::path_mtu::current(tcb), 1500);
    // The real one, quoting a segment in flight, is taken.
    assert!(network.deliver_too_big(forged(una, 1400)));
    network.run_until(10 * MILLISECOND, |_| false);
    let tcb = network.tcp(0).table.get(client).unwrap();
    assert_eq!(crate::path_mtu::current(tcb), 1400);
}

#[test]
fn ipv6_reads_a_packet_too_big_below_1280_as_1280() {
    let mut network = Network::ipv6(74, &[config(), config()]);
    let (client, reports) = in_flight(&mut network);
    let (una, max) = (reports.una, reports.max);
    let report = |sequence, mtu| reports.at(sequence, mtu);
    assert!(!network.deliver_too_big(report(max, 600)), "not in flight");
    let before = largest_packet(&network, 0);
    assert!(before > 1280, "the first flight was sent at 1500");
    let start = network.capture.len();
    assert!(network.deliver_too_big(report(una, 600)), "RFC 8201 4");
    let tcb = network.tcp(0).table.get(client).unwrap();
    assert_eq!(crate::path_mtu::current(tcb), 1280);
    assert!(!network.deliver_too_big(report(una, 1000)), "no lower");
    // What was in flight, and all after, goes in segments of IPv6's
    // minimum.
    let done = network.run_until(10 * SECOND, |network| {
        let tcb = network.tcp(0).table.get(client).unwrap();
        tcb.send_unacknowledged == tcb.send_maximum
    });
    assert!(done, "everything acknowledged");
    assert!(network.capture.len() > start);
    assert_eq!(largest_packet(&network, start), 1280);
}

#[test]
fn a_path_mtu_the_ip_layer_learned_since_is_taken_at_the_first_timeout() {
    for mut network in both_families(75, config()) {
        let (client, _, server) = network.establish(80);
        // Another connection's ICMP taught the IP layer 1280: it refuses
        // this connection's full-size segments from now on.
        network.path_mtu = Some(1280);
        let data = pattern(1 << 20);
        assert!(transfer(&mut network, (client, server), &data, 30 * SECOND));
        let stats = *network.tcp(0).stats();
        assert_eq!(
            (
                stats.path_mtu_from_route,
                stats.timeouts,
                stats.mtu_black_holes
            ),
            (1, 1, 0),
            "{stats:?}"
        );
        let tcb = network.tcp(0).table.get(client).unwrap();
        assert_eq!(crate::path_mtu::current(tcb), 1280);
    }
}
