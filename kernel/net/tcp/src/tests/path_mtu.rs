//! Path MTU discovery over a hop with a smaller MTU: with its ICMP
//! "fragmentation needed" the sender shrinks its segments at once and
//! loses nothing (RFC 1191); without, a black hole, timeouts lower the
//! MTU and probes search back up close to the hop's (RFC 4821, RFC 8899),
//! and to the ceiling once the hop is gone; forged ICMPs change nothing.

use std::vec::Vec;

use super::network::{MILLISECOND, Narrow, Network, SECOND, TooBig, config, endpoint};
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
    largest.max().unwrap_or(0) + 20
}

#[test]
fn an_icmp_from_a_narrower_hop_shrinks_segments_and_loses_nothing() {
    for (sack, timestamps) in [(true, true), (false, false)] {
        let settings = TcpConfig {
            selective_acknowledgments: sack,
            timestamps,
            ..config()
        };
        let mut network = Network::new(71, &[settings, settings]);
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

#[test]
fn a_black_hole_is_found_and_the_search_climbs_back() {
    let mut network = Network::pair(72);
    let (client, _, server) = network.establish(80);
    network.narrow = Some(Narrow {
        mtu: 1280,
        icmp: false,
    });
    let data = pattern(2 << 20);
    assert!(transfer(
        &mut network,
        (client, server),
        &data,
        120 * SECOND
    ));
    let stats = *network.tcp(0).stats();
    assert_eq!(stats.mtu_black_holes, 1, "{stats:?}");
    assert!(stats.mtu_probes > stats.mtu_probes_lost, "{stats:?}");
    let mtu = crate::path_mtu::current(network.tcp(0).table.get(client).unwrap());
    assert!(
        (1280 - SEARCH_STEP..=1280).contains(&mtu),
        "the search ended at {mtu}"
    );
    // The hop goes away: ten minutes on, the search finds the ceiling.
    network.narrow = None;
    network.now += RESEARCH_NS;
    assert!(transfer(&mut network, (client, server), &data, 60 * SECOND));
    let tcb = network.tcp(0).table.get(client).unwrap();
    assert_eq!(crate::path_mtu::current(tcb), 1500);
}

#[test]
fn forged_fragmentation_needed_messages_change_nothing() {
    let mut network = Network::pair(73);
    let (client, _, _) = network.establish(80);
    // Data in flight, its ACKs not back yet.
    network.send(0, client, &pattern(30_000)).unwrap();
    let tcb = network.tcp(0).table.get(client).unwrap();
    let (una, max) = (tcb.send_unacknowledged.0, tcb.send_maximum.0);
    let (local, remote) = (endpoint(0, tcb.local.port()), endpoint(1, 80));
    let forged = |sequence: u32, mtu: u16| TooBig {
        at: 0,
        to: 0,
        local,
        remote,
        sequence,
        mtu,
    };
    let stranger = TooBig {
        remote: endpoint(1, 81),
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
