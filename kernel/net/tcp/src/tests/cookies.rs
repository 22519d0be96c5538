//! SYN cookies (RFC 4987): a flood from random sources against a small
//! SYN queue keeps no client out and no memory beyond the queue; a cookie
//! brings back the SYN's options (and ECN) with and without timestamps;
//! forged and stale cookies get a reset; a cookie meeting a full accept
//! queue waits for the peer's next segment.

use std::vec::Vec;

use core::net::{IpAddr, Ipv4Addr};

use super::network::{MILLISECOND, Network, Rng, SECOND, config};
use crate::header::{Flags, HeaderFields};
use crate::options::Options;
use crate::sequence::Sequence;
use crate::tcb::SOCKET_BYTES;
use crate::{SocketHandle, State, TcpConfig};

const SERVER: usize = 1;
const PORT: u16 = 80;

/// A segment from `port` to the server's port with these fields.
fn segment(port: u16, sequence: u32, acknowledgment: u32, flags: Flags) -> Vec<u8> {
    with_options(port, (sequence, acknowledgment), flags, &Options::default())
}

fn with_options(
    port: u16,
    (sequence, ack): (u32, u32),
    flags: Flags,
    options: &Options,
) -> Vec<u8> {
    let length = options.written_length();
    let mut bytes = std::vec![0u8; 20 + length];
    HeaderFields {
        source_port: port,
        destination_port: PORT,
        sequence: Sequence(sequence),
        acknowledgment: Sequence(ack),
        flags,
        window: 1000,
    }
    .write(&mut bytes, length);
    options.write(&mut bytes[20..]);
    bytes
}

/// A spoofed source on the link that answers nothing.
fn ghost(number: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100 + (number % 150) as u8))
}

fn server_config(syn_backlog: usize) -> TcpConfig {
    TcpConfig {
        syn_backlog,
        ..config()
    }
}

/// Accepts one connection on host 1's `listener` within `limit_ns`.
fn accept_one(network: &mut Network, listener: SocketHandle, limit_ns: u64) -> SocketHandle {
    let mut accepted = None;
    let done = network.run_until(limit_ns, |network| {
        accepted = accepted.or_else(|| network.with(SERVER, |tcp, _, _| tcp.accept(listener).ok()));
        accepted.is_some()
    });
    assert!(
        done,
        "a connection to accept: {:?}",
        network.tcp(SERVER).stats()
    );
    accepted.expect("accepted")
}

/// Sends `data` one way and checks it arrives whole.
fn exchange(
    network: &mut Network,
    (from, sender): (usize, SocketHandle),
    to: (usize, SocketHandle),
    data: &[u8],
) {
    let mut sent = 0;
    let mut received = Vec::new();
    let done = network.run_until(30 * SECOND, |network| {
        if sent < data.len() {
            sent += network.send(from, sender, &data[sent..]).unwrap_or(0);
        }
        received.extend(network.read(to.0, to.1).expect("readable"));
        received.len() == data.len()
    });
    assert!(
        done && received == data,
        "{} of {} bytes",
        received.len(),
        data.len()
    );
}

#[test]
fn a_syn_flood_from_random_sources_keeps_no_client_out() {
    let mut network = Network::new(91, &[config(), server_config(16)]);
    let listener = network.listen(SERVER, PORT, 64);
    let baseline = network.tcp(SERVER).memory_held();
    let mut rng = Rng::new(91);
    let (mut client, mut server) = (None, None);
    let (mut most_memory, mut most_connections) = (0, 0);
    let flood_start = network.now;
    for number in 0..20_000u64 {
        // 20,000 SYNs a second, some with options, from random sources.
        network.now += SECOND / 20_000;
        let options = Options {
            maximum_segment_size: Some(1460),
            timestamp: rng.chance(500).then(|| (rng.next() as u32, 0)),
            ..Options::default()
        };
        let port = 1024 + rng.below(60_000) as u16;
        let flood = with_options(port, (rng.next() as u32, 0), Flags::SYN, &options);
        network.inject(SERVER, ghost(rng.next()), flood, true);
        if number == 4_000 {
            client = Some(network.connect(0, SERVER, PORT));
        }
        network.settle(0);
        server = server.or_else(|| network.with(SERVER, |tcp, _, _| tcp.accept(listener).ok()));
        most_memory = most_memory.max(network.tcp(SERVER).memory_held());
        most_connections = most_connections.max(network.tcp(SERVER).connection_count());
    }
    let elapsed = (network.now - flood_start) / MILLISECOND;
    let (client, server) = (
        client.expect("connected"),
        server.expect("accepted in the flood"),
    );
    assert_eq!(network.status(0, client).state, State::Established);
    exchange(&mut network, (0, client), (SERVER, server), &[5u8; 50_000]);
    exchange(&mut network, (SERVER, server), (0, client), &[6u8; 50_000]);
    let stats = *network.tcp(SERVER).stats();
    std::println!(
        "flood of 20000 SYNs in {elapsed} ms: {} cookies, {} valid, {} invalid, {} drops; \
         at most {most_connections} connections and {} bytes over the listener's {baseline}",
        stats.syn_cookies_sent,
        stats.syn_cookies_valid,
        stats.syn_cookies_invalid,
        stats.syn_drops,
        most_memory - baseline,
    );
    // 16 children fill the SYN queue; every other SYN (the client's too)
    // gets a cookie; the client's comes back.
    assert_eq!(stats.syn_cookies_sent, 20_001 - 16);
    assert_eq!((stats.syn_cookies_valid, stats.syn_cookies_invalid), (1, 0));
    assert_eq!((stats.syn_drops, stats.passive_opens), (0, 17));
    assert!(most_connections <= 17, "{most_connections}");
    assert!(most_memory <= baseline + 17 * SOCKET_BYTES, "{most_memory}");
}

/// Fills host 1's SYN queue (of one) with a ghost, then connects host 0
/// (with `client` settings): the client's SYN gets a cookie. Returns the
/// network and the (client, server) handles.
fn cookie_connection(client: TcpConfig) -> (Network, SocketHandle, SocketHandle) {
    let mut network = Network::new(92, &[client, server_config(1)]);
    let listener = network.listen(SERVER, PORT, 8);
    network.inject(SERVER, ghost(0), segment(999, 7, 0, Flags::SYN), true);
    let handle = network.connect(0, SERVER, PORT);
    let server = accept_one(&mut network, listener, SECOND);
    assert_eq!(network.tcp(SERVER).stats().syn_cookies_valid, 1);
    (network, handle, server)
}

#[test]
fn a_cookie_brings_back_the_syn_options_with_and_without_timestamps() {
    for timestamps in [true, false] {
        let client = TcpConfig {
            timestamps,
            ecn: crate::EcnMode::Request,
            receive_buffer: 1 << 20,
            send_buffer: 1 << 20,
            ..config()
        };
        let (mut network, client, server) = cookie_connection(client);
        let child = network.tcp(SERVER).table.get(server).expect("the child");
        let negotiated = child.negotiated;
        assert!(
            negotiated.window_scaling && negotiated.sack,
            "{negotiated:?}"
        );
        assert_eq!(negotiated.timestamps, timestamps);
        // ECN rides in the TSval: without timestamps it is forgotten.
        assert_eq!(negotiated.ecn, timestamps);
        assert_eq!(child.send_scale, 5, "the client's shift for 1 MiB");
        let overhead = if timestamps { 12 } else { 0 };
        assert_eq!(child.segment_size, 1460 - overhead);
        // The scaled window is used both ways, data intact.
        exchange(&mut network, (SERVER, server), (0, client), &[1u8; 600_000]);
        exchange(&mut network, (0, client), (SERVER, server), &[2u8; 100_000]);
        let largest = network
            .sent_by(0, 0)
            .map(|segment| u32::from(segment.segment().window) << 5)
            .max();
        assert!(
            largest > Some(100_000),
            "the client's window is scaled: {largest:?}"
        );
    }
}

#[test]
fn forged_and_stale_cookies_get_a_reset() {
    let mut network = Network::new(93, &[config(), server_config(1)]);
    network.listen(SERVER, PORT, 8);
    // No cookie sent yet: a stray ACK gets its reset uncounted.
    network.inject(SERVER, ghost(1), segment(1001, 5, 77, Flags::ACK), true);
    assert_eq!(network.tcp(SERVER).stats().syn_cookies_invalid, 0);
    network.inject(SERVER, ghost(0), segment(1000, 7, 0, Flags::SYN), true);
    let start = network.capture.len();
    network.inject(SERVER, ghost(2), segment(1002, 100, 0, Flags::SYN), true);
    let reply = network
        .sent_by(SERVER, start)
        .last()
        .expect("a SYN-ACK")
        .segment();
    assert!(reply.has(Flags::SYN) && reply.has(Flags::ACK));
    let cookie = reply.sequence.0;
    assert_eq!(network.tcp(SERVER).stats().syn_cookies_sent, 1);
    // A guess, the cookie of another port, and the right one too late.
    for (port, ack) in [(1002, cookie ^ 0x100), (1003, cookie + 1)] {
        let start = network.capture.len();
        network.inject(SERVER, ghost(2), segment(port, 101, ack, Flags::ACK), true);
        assert!(
            network
                .sent_by(SERVER, start)
                .all(|reset| reset.has(Flags::RST))
        );
    }
    // Past two slots (over 200 s on), with the SYN queue full and cookies
    // sent again.
    network.settle(130 * SECOND);
    assert_eq!(
        network.tcp(SERVER).connection_count(),
        0,
        "the ghost gave up"
    );
    network.now += 80 * SECOND;
    network.inject(SERVER, ghost(4), segment(1004, 9, 0, Flags::SYN), true);
    network.inject(SERVER, ghost(5), segment(1005, 9, 0, Flags::SYN), true);
    network.inject(
        SERVER,
        ghost(2),
        segment(1002, 101, cookie + 1, Flags::ACK),
        true,
    );
    let stats = network.tcp(SERVER).stats();
    assert_eq!((stats.syn_cookies_valid, stats.syn_cookies_invalid), (0, 3));
    assert_eq!(stats.resets_sent, 4);
    assert_eq!(
        network.tcp(SERVER).connection_count(),
        1,
        "the second ghost only"
    );
}

#[test]
fn a_cookie_meeting_a_full_accept_queue_waits_for_the_next_segment() {
    let mut network = Network::new(94, &[config(), server_config(1)]);
    let listener = network.listen(SERVER, PORT, 1);
    network.inject(SERVER, ghost(0), segment(1000, 7, 0, Flags::SYN), true);
    // Both SYNs meet the full SYN queue and an empty accept queue.
    let first = network.connect(0, SERVER, PORT);
    let second = network.connect(0, SERVER, PORT);
    network.settle(SECOND / 10);
    assert_eq!(network.status(0, first).state, State::Established);
    assert_eq!(network.status(0, second).state, State::Established);
    let stats = *network.tcp(SERVER).stats();
    assert_eq!((stats.syn_cookies_valid, stats.syn_drops), (2, 1));
    // The second's data comes back as a cookie once there is room.
    network.send(0, second, b"late but whole").unwrap();
    network.settle(SECOND / 10);
    let accepted = accept_one(&mut network, listener, SECOND);
    let later = accept_one(&mut network, listener, 10 * SECOND);
    assert_ne!(accepted, later);
    let mut got = Vec::new();
    let done = network.run_until(10 * SECOND, |network| {
        got.extend(network.read(SERVER, later).unwrap());
        got == b"late but whole"
    });
    assert!(done, "{got:?}");
    assert!(network.tcp(SERVER).stats().syn_cookies_valid >= 3);
}
