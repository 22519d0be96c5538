//! F-RTO (RFC 5682): without timestamps, a delay spike that fires the
//! retransmission timer is found spurious and undone, with SACK and
//! without, at the cost of one retransmission; a whole window really
//! lost is repaired as after any timeout.

use std::boxed::Box;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::vec;

use super::network::{MILLISECOND, Network, SECOND, config};
use crate::congestion::CongestionControl;
use crate::sequence::Sequence;
use crate::{SocketHandle, TcpConfig, TcpStats};

/// No timestamps (so no Eifel), SACK as asked, buffers of 256 KiB (the
/// windows are not what limits the flight).
fn plain(sack: bool) -> TcpConfig {
    TcpConfig {
        timestamps: false,
        selective_acknowledgments: sack,
        send_buffer: 256 << 10,
        receive_buffer: 256 << 10,
        ..config()
    }
}

/// Host 0 sends `total` bytes of 9s, host 1 reads them, within 30 s;
/// `during` runs before every step.
fn stream(
    network: &mut Network,
    (client, server): (SocketHandle, SocketHandle),
    total: usize,
    mut during: impl FnMut(&mut Network),
) {
    let data = vec![9u8; total];
    let (mut sent, mut received) = (0, 0);
    let done = network.run_until(30 * SECOND, |network| {
        during(network);
        if sent < total {
            sent += network.send(0, client, &data[sent..]).unwrap_or(0);
        }
        let read = network.read(1, server).expect("readable");
        assert!(read.iter().all(|byte| *byte == 9));
        received += read.len();
        received == total
    });
    assert!(done, "{received} of {total} bytes");
}

/// A connection without timestamps that has carried 100 KB (an RTT of
/// 10 ms, so the RTO sits at its 200 ms floor).
fn warmed_up(sack: bool) -> (Network, SocketHandle, SocketHandle) {
    let mut network = Network::new(81, &[plain(sack), plain(sack)]);
    let (client, _, server) = network.establish(80);
    stream(&mut network, (client, server), 100_000, |_| {});
    (network, client, server)
}

fn window(network: &Network, client: SocketHandle) -> u32 {
    let tcb = network.tcp(0).table.get(client).expect("the client");
    tcb.congestion.window()
}

/// 200 KB more while the path back stalls for 300 ms (the ACKs then
/// come in order): those of the first flight come back after the 200 ms
/// timeout fired, before a second one would.
fn delay_spike(sack: bool) -> TcpStats {
    let (mut network, client, server) = warmed_up(sack);
    let before = window(&network, client);
    network.stall = Some((1, network.now + 300 * MILLISECOND));
    stream(&mut network, (client, server), 200_000, |_| {});
    let stats = *network.tcp(0).stats();
    let after = window(&network, client);
    std::eprintln!("sack {sack}: window {before} before the spike, {after} after\n{stats}");
    assert!(after >= before, "the cut was undone: {before} -> {after}");
    stats
}

#[test]
fn a_delay_spike_without_timestamps_is_found_spurious_and_undone() {
    for sack in [true, false] {
        let stats = delay_spike(sack);
        assert_eq!(stats.timeouts, 1, "sack {sack}");
        assert_eq!(stats.spurious_timeouts, 1, "sack {sack}");
        assert_eq!(stats.spurious_timeouts_forward, 1, "sack {sack}");
        // Only the first segment went twice: no go-back-N.
        assert_eq!(stats.retransmitted_segments, 1, "sack {sack}");
    }
}

#[test]
fn a_window_really_lost_is_not_undone() {
    for sack in [true, false] {
        let (mut network, client, server) = warmed_up(sack);
        // Every data segment of the next 120 KB is lost the first time:
        // the flight, the tail loss probe, and F-RTO's new segments.
        let start = Rc::new(RefCell::new(None::<Sequence>));
        let seen = Rc::new(RefCell::new(BTreeSet::new()));
        network.filter = Some(Box::new(move |from, segment| {
            if from != 0 || segment.payload.is_empty() {
                return false;
            }
            let first = *start.borrow_mut().get_or_insert(segment.sequence);
            let offset = segment.sequence.since(first);
            offset < 120_000 && seen.borrow_mut().insert(offset)
        }));
        stream(&mut network, (client, server), 200_000, |_| {});
        let stats = network.tcp(0).stats();
        assert!(stats.timeouts >= 1, "sack {sack}: {stats}");
        assert_eq!(stats.spurious_timeouts, 0, "sack {sack}");
        assert!(stats.retransmitted_segments >= 44, "sack {sack}: {stats}");
    }
}
