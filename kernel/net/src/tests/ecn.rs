//! ECN through the IPv4 layer (RFC 3168): a connection that negotiated
//! it sends its data as ECT(0), a router on the link marks some of it
//! Congestion Experienced, and the mark reaches the receiving engine, whose
//! echo cuts the sender's window: no segment is lost or sent twice.

use core::net::{Ipv4Addr, SocketAddr};
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::vec;
use std::vec::Vec;

use super::link::Link;
use crate::stack::Stack;

const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// Data-bearing IPv4 packets from 10.0.0.1 seen as ECT(0), and marked.
static CAPABLE: AtomicUsize = AtomicUsize::new(0);
static MARKED: AtomicUsize = AtomicUsize::new(0);

/// A router that marks every eighth ECT(0) packet from 10.0.0.1 CE.
#[allow(clippy::ptr_arg, reason = "the type of `Link::filter`")]
fn mark_some(frame: &mut Vec<u8>) -> bool {
    let Some(ip) = frame.get_mut(14..34) else {
        return true;
    };
    let from_a = ip[12..16] == [10, 0, 0, 1];
    if frame[12..14] != [0x08, 0x00] || !from_a || frame[15] & 0b11 != 0b10 {
        return true;
    }
    if CAPABLE.fetch_add(1, Relaxed) % 8 == 7 {
        MARKED.fetch_add(1, Relaxed);
        let ip = &mut frame[14..34];
        ip[1] |= 0b11;
        ip[10..12].fill(0);
        let sum = wire::Checksum::new().add(ip).finish();
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
    }
    true
}

#[test]
fn congestion_marks_cross_the_ip_layer_and_cut_the_window() {
    let mut link = Link::new();
    let config = tcp::TcpConfig {
        ecn: tcp::EcnMode::Request,
        ..Default::default()
    };
    let secrets = tcp::Secrets {
        isn_key: [9; 16],
        port_key: [8; 16],
    };
    link.a.tcp = tcp::Tcp::new(config, secrets);
    link.filter = mark_some;
    link.sync();
    let listener = link.b.tcp.open().unwrap();
    let any = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80));
    link.b.tcp.bind(listener, any).unwrap();
    link.b.tcp.listen(listener, 4).unwrap();
    let client = link.a.tcp.open().unwrap();
    let now = link.now_ns;
    let Stack { ip, tcp, .. } = &mut link.a;
    tcp.connect(now, client, SocketAddr::from((B, 80)), ip)
        .unwrap();
    link.pump();
    let server = link.b.tcp.accept(listener).expect("a connection");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (mut sent, mut received) = (0, Vec::new());
    let mut buffer = vec![0u8; 16 * 1024];
    while received.len() < data.len() && link.now_ns < 60_000_000_000 {
        let now = link.now_ns;
        let Stack { ip, tcp, .. } = &mut link.a;
        sent += tcp.send(now, client, &data[sent..], ip).unwrap_or(0);
        link.advance(1_000_000, link.now_ns + 1_000_000);
        let Stack { ip, tcp, .. } = &mut link.b;
        while let Ok(count @ 1..) = tcp.recv(now, server, &mut buffer, ip) {
            received.extend_from_slice(&buffer[..count]);
        }
    }
    assert_eq!(received, data);
    let (sender, receiver) = (link.a.tcp.stats(), link.b.tcp.stats());
    let marked = MARKED.load(Relaxed) as u64;
    assert!(
        CAPABLE.load(Relaxed) > 100 && marked > 10,
        "{marked} marked"
    );
    assert_eq!(receiver.congestion_marks_received, marked);
    assert!(sender.congestion_window_reductions > 0);
    assert_eq!(sender.retransmitted_segments, 0);
}
