//! The frame fuzzer: a hosted kernel on a bus with an attacker that sends
//! mutated and random frames as fast as it can, while a witness kernel
//! checks that the target still answers pings and serves fresh TCP
//! connections, and that its memory stays bounded.
//!
//! Stable Rust, no coverage feedback: the templates are real frames of
//! the two kernels' own traffic (ICMP, UDP, TCP handshakes and data),
//! captured by the attacker's NIC, so the mutations reach deep into
//! each protocol. Runs `ANYKERNEL_FUZZ_SECONDS` (default 10) seconds;
//! `cargo xtask fuzz --seconds N` runs it longer.

mod common;

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use common::{Bus, Node, address, listener, nodes_on_bus};
use hypercall_posix::{Posix, PosixConfig};
use kernel::hypercall::{Hypercalls, VirtualNic};
use kernel::net::{PollEvents, PollFd, Shutdown, SocketOption, SocketType};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

const SECOND: u64 = 1_000_000_000;
/// The target may hold at most this much memory at any check.
const MEMORY_BOUND: usize = 64 * 1024 * 1024;

/// The workspace's seeded generator, seeded per run and printed, so a
/// failure can be replayed with `ANYKERNEL_FUZZ_SEED`.
struct Random(Xoshiro256PlusPlus);

impl Random {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

fn seconds() -> u64 {
    std::env::var("ANYKERNEL_FUZZ_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(10)
}

fn seed() -> u64 {
    std::env::var("ANYKERNEL_FUZZ_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

/// The attacker: a raw NIC on the bus, through the same hypercall the
/// kernels use.
fn attacker(bus: &Bus) -> (std::sync::Arc<Posix>, Box<dyn VirtualNic>) {
    let config = PosixConfig {
        nics: vec![bus.spec("").parse().expect("bus spec")],
        ..PosixConfig::default()
    };
    let host = Posix::new(config);
    let nic = host
        .virtual_nics()
        .expect("NICs")
        .virtif_open(0)
        .expect("the attacker's NIC");
    (host, nic)
}

/// Real traffic between the witness (node 1) and the target (node 2).
fn make_traffic(nodes: &[std::sync::Arc<Node>]) {
    nodes[0].run(|context, net| {
        for sequence in 0..3 {
            let _ = net.ping(context, address(2), sequence, SECOND);
        }
        let udp = net.socket(context, SocketType::Datagram).unwrap();
        let _ = net.send_to(context, udp, b"template", SocketAddrV4::new(address(2), 7));
        let _ = net.close(context, udp);
    });
    assert!(
        fresh_connection_works(&nodes[0]),
        "the echo works before fuzzing"
    );
}

/// The frames the attacker has seen, as templates.
fn capture(nic: &dyn VirtualNic) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut buffer = vec![0u8; nic.max_frame()];
    while let Ok(Some(length)) = nic.try_receive(&mut buffer) {
        // ARP is left out: spoofed ARP would (rightly) redirect traffic.
        let ipv4 = length > 14 && buffer[12] == 0x08 && buffer[13] == 0x00;
        if ipv4 {
            frames.push(buffer[..length].to_vec());
        }
    }
    frames
}

fn mutate(random: &mut Random, template: &[u8]) -> Vec<u8> {
    let mut frame = template.to_vec();
    let body = 14..frame.len();
    match random.below(5) {
        0 => {
            for _ in 0..=random.below(6) {
                let at = body.start + random.below(body.len());
                frame[at] ^= 1 << random.below(8);
            }
        }
        1 => frame.truncate(14 + random.below(frame.len() - 14)),
        2 => {
            let at = 14 + random.below(frame.len() - 14);
            frame[at] = random.next() as u8;
            frame[at..]
                .iter_mut()
                .for_each(|b| *b = random.next() as u8);
        }
        3 => {
            // A header field set to an extreme value.
            let at = 14 + random.below(60.min(frame.len() - 14));
            frame[at] = [0, 0xff, 0x7f, 0x80][random.below(4)];
        }
        _ => {
            frame.truncate(14);
            frame.extend((0..random.below(1500)).map(|_| random.next() as u8));
        }
    }
    frame
}

/// A new connection to the target's echo port carries a message back,
/// within a deadline, without blocking forever on a lost handshake.
fn fresh_connection_works(witness: &Node) -> bool {
    witness.run(|context, net| {
        let Ok(fd) = net.socket(context, SocketType::Stream) else {
            return false;
        };
        let works = (|| {
            net.set_option(context, fd, SocketOption::NonBlocking(true))
                .ok()?;
            let _ = net.connect(context, fd, SocketAddrV4::new(address(2), 7));
            let mut poll = [PollFd::new(fd, PollEvents::WRITABLE)];
            net.poll(context, &mut poll, Some(10 * SECOND)).ok()?;
            net.write(context, fd, b"still alive?").ok()?;
            net.shutdown(context, fd, Shutdown::Write).ok()?;
            let mut echoed = Vec::new();
            let deadline = context.now_ns() + 10 * SECOND;
            let mut buffer = [0u8; 64];
            while context.now_ns() < deadline {
                let mut poll = [PollFd::new(fd, PollEvents::READABLE)];
                net.poll(context, &mut poll, Some(SECOND)).ok()?;
                match net.read(context, fd, &mut buffer) {
                    Ok(0) => break,
                    Ok(count) => echoed.extend_from_slice(&buffer[..count]),
                    Err(kernel::net::Errno::WouldBlock) => {}
                    Err(_) => return None,
                }
            }
            Some(echoed == b"still alive?")
        })()
        .unwrap_or(false);
        let _ = net.close(context, fd);
        works
    })
}

fn target_memory(target: &Node) -> usize {
    target.kernel.memory().stats().in_use
}

#[test]
fn mutated_and_random_frames_never_break_the_target() {
    let seed = seed();
    eprintln!("fuzz: seed {seed} (ANYKERNEL_FUZZ_SEED), {} s", seconds());
    let mut random = Random(Xoshiro256PlusPlus::seed_from_u64(seed));
    let bus = Bus::new("fuzz");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let echo = nodes[1].run(|context, net| listener(context, net, 7, 64));
    let server_node = nodes[1].clone();
    std::thread::spawn(move || serve_echo(&server_node, echo));
    let (_host, nic) = attacker(&bus);
    make_traffic(&nodes);
    let templates = capture(&*nic);
    assert!(templates.len() >= 8, "{} templates", templates.len());
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let mut sent = 0u64;
    while Instant::now() < deadline {
        for _ in 0..2000 {
            let template = &templates[random.below(templates.len())];
            let frame = mutate(&mut random, template);
            if frame.len() >= 14 && nic.send(&frame).is_ok() {
                sent += 1;
            }
        }
        let _ = capture(&*nic);
        let memory = target_memory(&nodes[1]);
        assert!(
            memory < MEMORY_BOUND,
            "target memory grew to {memory} bytes (seed {seed})"
        );
        assert!(
            fresh_connection_works(&nodes[0]),
            "the target stopped serving after {sent} frames (seed {seed}):\n{}",
            nodes[1].stats()
        );
    }
    let ping = nodes[0].run(|context, net| {
        (0..5).any(|sequence| net.ping(context, address(2), sequence, SECOND).is_ok())
    });
    assert!(ping, "the target stopped answering pings (seed {seed})");
    eprintln!("fuzz: {sent} frames; target:\n{}", nodes[1].stats());
}

/// Echo on the target: one kernel thread per connection, from a host
/// thread that only accepts.
fn serve_echo(node: &std::sync::Arc<Node>, listener: kernel::net::Fd) {
    loop {
        let accepted = node.run(|context, net| net.accept(context, listener));
        let Ok((connection, _)) = accepted else {
            return;
        };
        node.clone().spawn(move |context, net| {
            let mut buffer = [0u8; 1024];
            while let Ok(count) = net.read(context, connection, &mut buffer) {
                if count == 0 || net.write(context, connection, &buffer[..count]).is_err() {
                    break;
                }
            }
            let _ = net.close(context, connection);
        });
    }
}
