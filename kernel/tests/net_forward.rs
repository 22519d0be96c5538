//! Hosted kernels routing: A — R — B on two buses (and a chain of three
//! routers), every router configured by boot parameters alone. Ping,
//! probes and TCP both ways through it in both families; a hop limit that
//! runs out is answered by the router where it did; a smaller far link
//! (`mtu.1=1280`) fragments IPv4 without DF and answers Packet Too Big or
//! "fragmentation needed" otherwise, and TCP's path MTU discovery copes;
//! without the forwarding parameters nothing passes.

mod common;

use std::net::{IpAddr, SocketAddr};

use common::chain::{Chain, ChainConfig, link_address, link_address6};
use common::{Node, connect_to, listener_at, receive_all, send_pattern};
use kernel::net::{Answer, Errno, Probe, ProbeReply, Shutdown};

const SECOND: u64 = 1_000_000_000;

fn probe(
    node: &Node,
    destination: IpAddr,
    hop_limit: u8,
    size: usize,
) -> Result<ProbeReply, Errno> {
    let probe = Probe {
        destination,
        zone: None,
        hop_limit,
        size,
        sequence: hop_limit.into(),
        timeout_ns: 3 * SECOND,
    };
    node.run(|context, net| net.probe(context, &probe))
}

/// What answered a probe, without the time it took.
fn answer(reply: Result<ProbeReply, Errno>) -> Result<(IpAddr, Answer), Errno> {
    reply.map(|reply| (reply.from, reply.answer))
}

/// `length` bytes from A to B's `port` at `b` over TCP and `length` back,
/// each checked by its hash.
fn tcp_both_ways(chain: &Chain, b: IpAddr, port: u16, length: u64) {
    let any = SocketAddr::new(tcp_any(b), port);
    let listener = chain
        .b()
        .run(|context, net| listener_at(context, net, any, 4));
    let server = chain.b().spawn(move |context, net| {
        let (connection, _) = net.accept(context, listener).expect("accept");
        let received = receive_all(context, net, connection);
        let sent = send_pattern(context, net, connection, 2, length);
        net.close(context, connection).unwrap();
        (received, sent)
    });
    let (sent, received) = chain.a().run(|context, net| {
        let fd = connect_to(context, net, SocketAddr::new(b, port)).expect("connect through R");
        let sent = send_pattern(context, net, fd, 1, length);
        net.shutdown(context, fd, Shutdown::Write).unwrap();
        let received = receive_all(context, net, fd);
        net.close(context, fd).unwrap();
        (sent, received)
    });
    let (server_received, server_sent) = server.join().unwrap();
    assert_eq!(server_received, (length, sent), "A to B");
    assert_eq!(received, (length, server_sent), "B to A");
}

fn tcp_any(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => IpAddr::from([0u8; 4]),
        IpAddr::V6(_) => IpAddr::from([0u16; 8]),
    }
}

#[test]
fn a_router_forwards_ping_and_tcp_in_both_families() {
    let chain = Chain::boot(&ChainConfig {
        tag: "forward",
        ..Default::default()
    });
    let (b4, b6) = (chain.b4(), chain.b6());
    let rtt = chain
        .a()
        .run(|context, net| net.ping(context, b4, 1, 5 * SECOND));
    assert!(rtt.is_ok(), "ping {b4}: {rtt:?}");
    let rtt = chain
        .a()
        .run(|context, net| net.ping6(context, b6, None, 1, 5 * SECOND));
    assert!(rtt.is_ok(), "ping6 {b6}: {rtt:?}");
    tcp_both_ways(&chain, b4.into(), 5000, 4 << 20);
    tcp_both_ways(&chain, b6.into(), 5001, 4 << 20);
    let router = chain.router(1);
    assert!(router.counter("forward forwarded") > 2_000);
    assert!(router.counter("forward6 forwarded") > 2_000);
    assert_eq!(router.counter("forward refused"), 0);
}

#[test]
fn each_router_answers_the_hop_limit_that_runs_out_there() {
    let chain = Chain::boot(&ChainConfig {
        tag: "traceroute",
        routers: 3,
        ..Default::default()
    });
    for b in [IpAddr::from(chain.b4()), chain.b6().into()] {
        for hop in 1..=3 {
            // Router `hop` answers from its address towards A.
            let router: IpAddr = match b {
                IpAddr::V4(_) => link_address(hop - 1, 2).into(),
                IpAddr::V6(_) => link_address6(hop - 1, 2).into(),
            };
            let reply = answer(probe(chain.a(), b, hop as u8, 32));
            assert_eq!(
                reply,
                Ok((router, Answer::TimeExceeded)),
                "hop {hop} to {b}"
            );
        }
        assert_eq!(answer(probe(chain.a(), b, 4, 32)), Ok((b, Answer::Echo)));
    }
    tcp_both_ways(&chain, chain.b4().into(), 5002, 1 << 20);
    for hop in 1..=3 {
        let router = chain.router(hop);
        assert_eq!(router.counter("forward ttl_exceeded"), 1);
        assert_eq!(router.counter("forward6 ttl_exceeded"), 1);
    }
}

#[test]
fn a_smaller_far_link_fragments_or_says_too_big_and_tcp_copes() {
    let chain = Chain::boot(&ChainConfig {
        tag: "narrow",
        router_extra: "mtu.1=1280",
        ..Default::default()
    });
    let (b4, b6) = (IpAddr::from(chain.b4()), IpAddr::from(chain.b6()));
    let near6: IpAddr = link_address6(0, 2).into();
    // IPv4 without DF (ICMP): fragmented by R, reassembled by B.
    assert_eq!(
        answer(probe(chain.a(), b4, 64, 1400)),
        Ok((b4, Answer::Echo))
    );
    let router = chain.router(1);
    assert_eq!(router.counter("forward fragmented"), 1);
    // IPv6 is never fragmented on the way: Packet Too Big, then A
    // fragments at the source.
    let too_big = Answer::TooBig { mtu: 1280 };
    assert_eq!(answer(probe(chain.a(), b6, 64, 1400)), Ok((near6, too_big)));
    assert_eq!(
        answer(probe(chain.a(), b6, 63, 1400)),
        Ok((b6, Answer::Echo))
    );
    assert_eq!(router.counter("forward6 too_big"), 1);
    // TCP sets DF: "fragmentation needed", the path MTU comes down, and
    // the transfer completes (IPv6 starts below it, from the probe).
    tcp_both_ways(&chain, b4, 5003, 2 << 20);
    tcp_both_ways(&chain, b6, 5004, 2 << 20);
    assert!(router.counter("forward too_big") >= 1);
    assert!(chain.a().counter("tcp path_mtu_lowered") >= 1);
}

#[test]
fn without_the_forwarding_parameters_nothing_passes() {
    let chain = Chain::boot(&ChainConfig {
        tag: "noforward",
        forwarding: false,
        ..Default::default()
    });
    let (b4, b6) = (chain.b4(), chain.b6());
    let ping = chain
        .a()
        .run(|context, net| net.ping(context, b4, 1, SECOND));
    assert_eq!(ping, Err(Errno::TimedOut));
    let ping6 = chain
        .a()
        .run(|context, net| net.ping6(context, b6, None, 1, SECOND));
    assert_eq!(ping6, Err(Errno::TimedOut));
    let expiring = answer(probe(chain.a(), b4.into(), 1, 32));
    assert_eq!(expiring, Err(Errno::TimedOut), "not even a time exceeded");
    let router = chain.router(1);
    assert_eq!(router.counter("forward forwarded"), 0);
    assert_eq!(router.counter("forward6 forwarded"), 0);
    assert!(router.counter("ip not_for_us") >= 2);
    // The router itself answers.
    let near = link_address(0, 2);
    let rtt = chain
        .a()
        .run(|context, net| net.ping(context, near, 2, 5 * SECOND));
    assert!(rtt.is_ok(), "{rtt:?}");
}
