//! ECN (RFC 3168): negotiated in the handshake only when asked for and
//! agreed, given up on a retransmitted SYN, and on a path that marks
//! instead of dropping it cuts the window without a single retransmission.

use std::boxed::Box;
use std::vec::Vec;

use super::network::{Network, SECOND, config};
use crate::congestion::CongestionControl;
use crate::header::Flags;
use crate::{Ecn, EcnMode, SocketHandle, TcpConfig};

fn with_ecn(ecn: EcnMode) -> TcpConfig {
    TcpConfig { ecn, ..config() }
}

/// Whether (client, server) agreed to ECN after a handshake.
fn agreed(network: &Network, client: SocketHandle, server: SocketHandle) -> (bool, bool) {
    let client = network.tcp(0).table.get(client).expect("the client");
    let server = network.tcp(1).table.get(server).expect("the server");
    (client.negotiated.ecn, server.negotiated.ecn)
}

#[test]
fn ecn_is_used_only_when_asked_for_and_agreed() {
    let cases = [
        (EcnMode::Request, EcnMode::Accept, true),
        (EcnMode::Request, EcnMode::Off, false),
        (EcnMode::Accept, EcnMode::Request, false),
    ];
    for (client_mode, server_mode, expected) in cases {
        let mut network = Network::new(71, &[with_ecn(client_mode), with_ecn(server_mode)]);
        let (client, _, server) = network.establish(80);
        assert_eq!(agreed(&network, client, server), (expected, expected));
        let syn = network.sent_by(0, 0).next().expect("the SYN").segment();
        let asked = client_mode == EcnMode::Request;
        assert_eq!(syn.has(Flags::ECE) && syn.has(Flags::CWR), asked);
        let syn_ack = network.sent_by(1, 0).next().expect("the SYN-ACK").segment();
        assert_eq!(syn_ack.has(Flags::ECE), expected);
        assert!(!syn_ack.has(Flags::CWR));
        network.send(0, client, &[3u8; 20_000]).unwrap();
        network.send(1, server, b"reply").unwrap();
        network.settle(SECOND);
        for captured in network.capture.iter() {
            let data = captured.payload_length() > 0;
            let marked = if data && expected {
                Ecn::Capable0
            } else {
                Ecn::NotCapable
            };
            assert_eq!(captured.ecn, marked, "ECT(0) on new data only");
        }
    }
}

#[test]
fn a_retransmitted_syn_asks_for_ecn_no_more() {
    let mut network = Network::new(72, &[with_ecn(EcnMode::Request), config()]);
    // A middlebox that drops SYNs asking for ECN.
    network.filter = Some(Box::new(|_, segment| {
        segment.has(Flags::SYN) && segment.has(Flags::ECE)
    }));
    let (client, _, server) = network.establish(80);
    assert_eq!(agreed(&network, client, server), (false, false));
    let syns: Vec<_> = network
        .sent_by(0, 0)
        .filter(|sent| sent.has(Flags::SYN))
        .collect();
    assert_eq!(syns.len(), 2);
    assert!(syns[0].has(Flags::ECE) && !syns[1].has(Flags::ECE) && !syns[1].has(Flags::CWR));
}

/// What a 2 MiB transfer from host 0 did on a path that marks or drops
/// past 20 segments on the way: (retransmissions, window cuts for ECE,
/// marks the receiver saw, the largest congestion window, the last).
fn over_a_congested_path(client_mode: EcnMode) -> (u64, u64, u64, u32, u32) {
    let mut network = Network::new(73, &[with_ecn(client_mode), config()]);
    let (client, _, server) = network.establish(80);
    network.congestion_threshold = Some(20);
    let data = std::vec![7u8; 2 << 20];
    let (mut sent, mut received, mut largest) = (0, 0, 0);
    let done = network.run_until(600 * SECOND, |network| {
        if sent < data.len() {
            sent += network.send(0, client, &data[sent..]).unwrap_or(0);
        }
        let read = network.read(1, server).expect("readable");
        assert!(read.iter().all(|byte| *byte == 7));
        received += read.len();
        let tcb = network.tcp(0).table.get(client).expect("the client");
        largest = largest.max(tcb.congestion.window());
        received == data.len()
    });
    assert!(done, "{received} bytes arrived");
    let window = network
        .tcp(0)
        .table
        .get(client)
        .unwrap()
        .congestion
        .window();
    let sender = *network.tcp(0).stats();
    let receiver = *network.tcp(1).stats();
    let reduced = |sent: &&super::network::Captured| sent.has(Flags::CWR) && !sent.has(Flags::SYN);
    let cwr = network.sent_by(0, 0).filter(reduced).count() as u64;
    let ece = network
        .sent_by(1, 0)
        .filter(|sent| sent.has(Flags::ECE))
        .count();
    if client_mode == EcnMode::Request {
        assert_eq!(cwr, sender.congestion_window_reductions, "one CWR per cut");
        assert!(ece > 0 && receiver.congestion_marks_received > 0);
    }
    std::eprintln!("{client_mode:?}: {sender}");
    (
        sender.retransmitted_segments,
        sender.congestion_window_reductions,
        receiver.congestion_marks_received,
        largest,
        window,
    )
}

#[test]
fn congestion_marks_cut_the_window_without_a_retransmission() {
    let (retransmissions, cuts, marks, largest, last) = over_a_congested_path(EcnMode::Request);
    std::eprintln!(
        "ECN: {retransmissions} retransmissions, {cuts} cuts for {marks} marks, \
         window at most {largest}, last {last}"
    );
    assert_eq!(retransmissions, 0);
    assert!(cuts >= 3, "{cuts} cuts");
    assert!(marks >= cuts);
    // The window stays near the 20 segments the path holds (slow start
    // overshoots to about 43 before the first echo is back).
    assert!(largest <= 48 * 1448, "{largest}");
    assert!(last < largest);
    // Without ECN the same path drops instead: the data is resent.
    let (retransmissions, cuts, marks, _, _) = over_a_congested_path(EcnMode::Accept);
    assert!(retransmissions > 0);
    assert_eq!((cuts, marks), (0, 0));
}
