//! Hostile input: random and mutated frames never panic the stack, leak
//! buffers or leave it unable to talk.

use core::net::{Ipv4Addr, SocketAddr};
use std::vec::Vec;

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

use super::link::Link;
use crate::interface::InterfaceIndex;
use crate::stack::Stack;

/// The workspace's seeded generator: the same mutations on every run.
struct Random(Xoshiro256PlusPlus);

impl Random {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

/// Valid frames from a short exchange: ARP, ICMP, UDP, TCP handshake.
fn templates() -> Vec<Vec<u8>> {
    let mut link = Link::new();
    link.sync();
    let mut frames = Vec::new();
    let Stack { ip, icmp, .. } = &mut link.a;
    icmp.send_echo_request(ip, Ipv4Addr::new(10, 0, 0, 2), (1, 1), b"x", 64)
        .unwrap();
    frames.extend(
        link.a
            .take_output(InterfaceIndex(0))
            .iter()
            .map(|f| f.data().to_vec()),
    );
    link.pump();
    let listener = link.b.tcp.open().unwrap();
    link.b
        .tcp
        .bind(listener, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 80)))
        .unwrap();
    link.b.tcp.listen(listener, 4).unwrap();
    let client = link.a.tcp.open().unwrap();
    let Stack { ip, tcp, .. } = &mut link.a;
    tcp.connect(
        link.now_ns,
        client,
        SocketAddr::from((Ipv4Addr::new(10, 0, 0, 2), 80)),
        ip,
    )
    .unwrap();
    frames.extend(
        link.a
            .take_output(InterfaceIndex(0))
            .iter()
            .map(|f| f.data().to_vec()),
    );
    let Stack { ip, icmp, .. } = &mut link.a;
    icmp.send_echo_request(ip, Ipv4Addr::new(10, 0, 0, 2), (1, 2), &[9; 1200], 64)
        .unwrap();
    frames.extend(
        link.a
            .take_output(InterfaceIndex(0))
            .iter()
            .map(|f| f.data().to_vec()),
    );
    frames
}

fn mutate(random: &mut Random, template: &[u8]) -> Vec<u8> {
    let mut frame = template.to_vec();
    match random.below(4) {
        0 => {
            for _ in 0..=random.below(8) {
                let at = random.below(frame.len());
                frame[at] ^= 1 << random.below(8);
            }
        }
        1 => frame.truncate(random.below(frame.len())),
        2 => {
            let at = 14 + random.below(frame.len().saturating_sub(14));
            frame[at..]
                .iter_mut()
                .for_each(|b| *b = random.next() as u8);
        }
        _ => {
            frame = (0..random.below(1600))
                .map(|_| random.next() as u8)
                .collect()
        }
    }
    frame
}

#[test]
fn twenty_thousand_bad_frames_leave_the_stack_working() {
    let templates = templates();
    assert!(templates.len() >= 3);
    let mut link = Link::new();
    link.sync();
    let mut random = Random(Xoshiro256PlusPlus::seed_from_u64(0x5eed_1234_abcd_ef01));
    for round in 0..20_000 {
        let template = &templates[round % templates.len()];
        let bytes = mutate(&mut random, template);
        let mut frame = link.b.ip.pool.allocate().unwrap();
        if let Ok(room) = frame.reset(bytes.len()) {
            room.copy_from_slice(&bytes);
            link.b.input(InterfaceIndex(0), frame);
        }
        // Whatever b answered goes nowhere.
        link.b.take_output(InterfaceIndex(0));
        if round % 1000 == 0 {
            link.now_ns += 1_000_000_000;
            link.sync();
            link.b.on_timer();
        }
    }
    assert!(link.b.ip.reassembly.held() <= crate::ipv4::reassembly::MAX_FRAGMENTS);
    link.now_ns += 120_000_000_000;
    link.sync();
    link.b.on_timer();
    link.b.take_output(InterfaceIndex(0));
    assert_eq!(link.b.ip.reassembly.held(), 0);
    // Still alive: it answers a ping.
    let Stack { ip, icmp, .. } = &mut link.a;
    icmp.send_echo_request(ip, Ipv4Addr::new(10, 0, 0, 2), (3, 3), b"alive?", 64)
        .unwrap();
    link.pump();
    assert!(link.a.icmp.replies.iter().any(|r| r.identifier == 3));
}
