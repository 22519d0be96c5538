//! Bulk transfers: byte-exact under loss, reordering, duplication and
//! corruption; both congestion controllers; SACK against NewReno
//! recovery; window scaling with a large receive buffer.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::vec;

use super::network::{Impairment, MILLISECOND, Network, SECOND, config};
use crate::header::Flags;
use crate::sequence::Sequence;
use crate::{Algorithm, Shutdown, SocketHandle, TcpConfig, TcpError};

fn pattern(offset: usize) -> u8 {
    (offset.wrapping_mul(7) ^ (offset >> 11)) as u8
}

/// Sends `total` pattern bytes from host 0 to host 1, then a FIN; true
/// when host 1 read them all, in order, and the end of file in time.
pub fn transfer(
    network: &mut Network,
    client: SocketHandle,
    server: SocketHandle,
    total: usize,
    limit: u64,
) -> bool {
    let mut sent = 0;
    let mut received = 0;
    let mut end_of_file = false;
    let mut closed = false;
    let mut chunk = vec![0u8; 256 << 10];
    let mut buffer = vec![0u8; 256 << 10];
    network.run_until(limit, |network| {
        while sent < total && network.status(0, client).writable > 0 {
            let count = chunk.len().min(total - sent);
            for (index, byte) in chunk[..count].iter_mut().enumerate() {
                *byte = pattern(sent + index);
            }
            sent += network.send(0, client, &chunk[..count]).expect("send");
        }
        if sent == total && !closed {
            network
                .with(0, |tcp, now, tx| {
                    tcp.shutdown(now, client, Shutdown::Write, tx)
                })
                .unwrap();
            closed = true;
        }
        loop {
            match network.with(1, |tcp, now, tx| tcp.recv(now, server, &mut buffer, tx)) {
                Ok(0) => {
                    end_of_file = true;
                    break;
                }
                Ok(count) => {
                    let good = buffer[..count]
                        .iter()
                        .enumerate()
                        .all(|(index, byte)| *byte == pattern(received + index));
                    assert!(good, "bytes at {received}.. arrive intact");
                    received += count;
                }
                Err(TcpError::WouldBlock) => break,
                Err(error) => panic!("recv failed: {error}"),
            }
        }
        end_of_file && received == total
    })
}

#[test]
fn ten_mebibytes_survive_loss_reordering_duplication_and_corruption() {
    let mut network = Network::pair(31);
    let (client, _, server) = network.establish(80);
    network.impairment = Impairment {
        loss: 100,
        duplicate: 50,
        reorder: 100,
        corrupt: 10,
    };
    let start = network.now;
    assert!(transfer(
        &mut network,
        client,
        server,
        10 << 20,
        600 * SECOND
    ));
    let elapsed = network.now - start;
    network.impairment = Impairment::default();
    network.settle(10 * SECOND);
    let bad = network.tcp(0).stats().bad_checksums + network.tcp(1).stats().bad_checksums;
    assert!(network.corrupted > 0);
    assert_eq!(
        bad, network.corrupted,
        "every corrupted segment failed its checksum"
    );
    assert!(network.tcp(0).stats().retransmitted_segments > 0);
    assert!(network.tcp(1).stats().out_of_order_bytes > 0);
    // Before RACK-TLP this took 133 s and 434 timeouts; now about 43 s
    // and 27.
    assert!(elapsed < 80 * SECOND, "took {elapsed} ns");
    assert!(network.tcp(0).stats().timeouts < 80);
    std::eprintln!(
        "10 MiB in {} ms simulated, {} spurious\n{}{}",
        elapsed / MILLISECOND,
        network.ledger.spurious,
        network.tcp(0).stats(),
        network.tcp(1).stats()
    );
}

fn complete_with(algorithm: Algorithm) -> u64 {
    let configuration = TcpConfig {
        congestion: algorithm,
        ..config()
    };
    let mut network = Network::new(32, &[configuration, configuration]);
    let (client, _, server) = network.establish(80);
    network.impairment = Impairment {
        loss: 20,
        ..Impairment::default()
    };
    let start = network.now;
    assert!(
        transfer(&mut network, client, server, 2 << 20, 300 * SECOND),
        "{algorithm:?}"
    );
    assert!(network.tcp(0).stats().fast_retransmits > 0);
    network.now - start
}

#[test]
fn cubic_and_new_reno_both_complete() {
    let cubic = complete_with(Algorithm::Cubic);
    let reno = complete_with(Algorithm::NewReno);
    assert!(cubic < 60 * SECOND && reno < 60 * SECOND, "{cubic} {reno}");
}

/// A 300 KB transfer whose first transmissions of four segments in one
/// window are lost: (elapsed ns, retransmissions, timeouts).
fn recover_four_losses(sack: bool) -> (u64, u64, u64) {
    let configuration = TcpConfig {
        selective_acknowledgments: sack,
        ..config()
    };
    let mut network = Network::new(33, &[configuration, configuration]);
    network.delay = 20 * MILLISECOND;
    let initial = Rc::new(RefCell::new(None::<Sequence>));
    let seen = Rc::new(RefCell::new(BTreeSet::new()));
    let (initial_in_filter, seen_in_filter) = (initial.clone(), seen.clone());
    network.filter = Some(std::boxed::Box::new(move |from, segment| {
        if from != 0 {
            return false;
        }
        if segment.has(Flags::SYN) {
            *initial_in_filter.borrow_mut() = Some(segment.sequence);
            return false;
        }
        let Some(initial) = *initial_in_filter.borrow() else {
            return false;
        };
        let offset = segment.sequence.since(initial.add(1));
        let doomed = [40, 43, 46, 49].iter().any(|index| offset == index * 1448);
        doomed && !segment.payload.is_empty() && seen_in_filter.borrow_mut().insert(offset)
    }));
    let (client, _, server) = network.establish(80);
    let start = network.now;
    assert!(transfer(&mut network, client, server, 300_000, 60 * SECOND));
    assert_eq!(
        seen.borrow().len(),
        4,
        "all four segments were dropped once"
    );
    let stats = network.tcp(0).stats();
    (
        network.now - start,
        stats.retransmitted_segments,
        stats.timeouts,
    )
}

#[test]
fn sack_recovers_several_losses_in_one_window_faster() {
    let (sack_time, sack_retransmissions, sack_timeouts) = recover_four_losses(true);
    let (reno_time, reno_retransmissions, reno_timeouts) = recover_four_losses(false);
    assert_eq!(sack_timeouts, 0);
    assert_eq!(sack_retransmissions, 4, "exactly the lost segments");
    assert!(sack_retransmissions <= reno_retransmissions);
    std::eprintln!(
        "sack {sack_time} {sack_retransmissions} reno {reno_time} {reno_retransmissions} {reno_timeouts}"
    );
    assert!(
        sack_time < reno_time,
        "SACK {sack_time} ns, NewReno {reno_time} ns ({reno_timeouts} timeouts)"
    );
}

#[test]
fn window_scaling_lets_a_large_receive_buffer_fill_the_path() {
    let configuration = TcpConfig {
        receive_buffer: 1 << 20,
        send_buffer: 1 << 20,
        ..config()
    };
    let mut network = Network::new(34, &[configuration, configuration]);
    network.delay = 50 * MILLISECOND;
    let (client, _, server) = network.establish(80);
    let start = network.now;
    assert!(transfer(&mut network, client, server, 8 << 20, 60 * SECOND));
    let elapsed = network.now - start;
    // A 64 KiB window over a 100 ms round trip would need 12.8 s.
    assert!(elapsed < 5 * SECOND, "took {elapsed} ns");
    let syn_ack = network
        .sent_by(1, 0)
        .find(|segment| segment.has(Flags::SYN))
        .unwrap();
    let scale = syn_ack
        .segment()
        .options
        .window_scale
        .expect("scaling offered");
    let largest = network
        .sent_by(1, 0)
        .map(|segment| u32::from(segment.segment().window) << scale)
        .max();
    assert!(largest.unwrap() > 512 << 10, "advertised {largest:?}");
}
