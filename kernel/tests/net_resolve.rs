//! `Net::resolve` between hosted kernels on one bus: node 2 runs a small
//! name server on its own sockets (UDP and TCP port 53), node 1 resolves,
//! over IPv4 or over IPv6.
//!
//! The server answers `host.test` with 10.0.0.42 (A) and no AAAA,
//! `big.test` over UDP with TC set and over TCP with 10.0.0.43, and any
//! other name with NXDOMAIN. The root-only test against dnsmasq
//! (`kernel/net/tests/dns_dnsmasq.rs`) covers a real server and forged
//! answers; this one runs everywhere.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Bus, Node, listener_at, nodes_on_bus, nodes_on_bus6};
use kernel::Context;
use kernel::net::dns::message::{HEADER_LEN, Question, record_type};
use kernel::net::{
    Errno, Fd, Net, PollEvents, PollFd, ResolveError, ServerSource, SocketOption, SocketType,
};

const SECOND: u64 = 1_000_000_000;

/// The answer to `query`, or `None` for what is not a query.
fn answer(query: &[u8], over_tcp: bool) -> Option<Vec<u8>> {
    let (question, end) = Question::read(query, HEADER_LEN).ok()?;
    let name = question.name.to_string();
    let mut reply = query.get(..end)?.to_vec();
    reply[2] = 0x81;
    reply[3] = 0x80;
    reply[6..12].fill(0);
    let address = match (name.as_str(), question.record_type) {
        ("host.test", record_type::A) => Some([10, 0, 0, 42]),
        ("big.test", record_type::A) if over_tcp => Some([10, 0, 0, 43]),
        ("big.test", _) if !over_tcp => {
            reply[2] |= 0x02; // TC
            None
        }
        ("host.test" | "big.test", _) => None,
        _ => {
            reply[3] |= 3; // NXDOMAIN
            None
        }
    };
    if let Some(address) = address {
        reply[7] = 1;
        reply.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        reply.extend_from_slice(&address);
    }
    Some(reply)
}

/// Waits up to 100 ms for `events` on `fd`.
fn ready(context: &Context<'_>, net: &Net, fd: Fd, events: PollEvents) -> bool {
    let mut poll = [PollFd::new(fd, events)];
    net.poll(context, &mut poll, Some(SECOND / 10)).unwrap_or(0) > 0
}

/// Serves UDP and TCP on port 53 of `node`, at `wildcard`, until `stop`;
/// both sockets are bound when this returns.
fn serve(node: &Arc<Node>, stop: Arc<AtomicBool>, wildcard: IpAddr) -> std::thread::JoinHandle<()> {
    let (udp, tcp) = node.run(|context, net| {
        let any = SocketAddr::new(wildcard, 53);
        let udp = net.socket(context, SocketType::Datagram).unwrap();
        net.bind(context, udp, any).unwrap();
        let tcp = listener_at(context, net, any, 8);
        net.set_option(context, tcp, SocketOption::NonBlocking(true))
            .unwrap();
        (udp, tcp)
    });
    node.spawn(move |context, net| {
        let mut buffer = [0u8; 1500];
        while !stop.load(Ordering::Relaxed) {
            if ready(context, net, udp, PollEvents::READABLE) {
                let (length, from) = net.receive_from(context, udp, &mut buffer).unwrap();
                if let Some(reply) = answer(&buffer[..length], false) {
                    net.send_to(context, udp, &reply, from).unwrap();
                }
            }
            if let Ok((connection, _)) = net.accept(context, tcp) {
                serve_connection(context, net, connection);
            }
        }
    })
}

/// One query and its answer on a TCP connection, both framed.
fn serve_connection(context: &Context<'_>, net: &Net, connection: Fd) {
    let mut length = [0u8; 2];
    let mut query = vec![0u8; 512];
    let read = net.recv(
        context,
        connection,
        &mut length,
        kernel::net::MessageFlags::WAIT_ALL,
    );
    if read == Ok(2) {
        let query = &mut query[..usize::from(u16::from_be_bytes(length))];
        let flags = kernel::net::MessageFlags::WAIT_ALL;
        if net.recv(context, connection, query, flags) == Ok(query.len())
            && let Some(reply) = answer(query, true)
        {
            let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&reply);
            let _ = net.write(context, connection, &framed);
        }
    }
    let _ = net.close(context, connection);
}

/// Resolves `name` on `node` and says how long it took.
fn resolve(node: &Node, name: &str) -> (Result<Vec<IpAddr>, ResolveError>, Duration) {
    node.run(|context, net| {
        let started = Instant::now();
        (net.resolve(context, name), started.elapsed())
    })
}

#[test]
fn names_resolve_from_a_server_on_the_bus_over_udp_and_tcp() {
    let bus = Bus::new("resolve");
    let nodes = nodes_on_bus(&bus, 2, "", "dns=10.0.0.2");
    let stop = Arc::new(AtomicBool::new(false));
    let server = serve(&nodes[1], stop.clone(), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let (host, _) = resolve(&nodes[0], "host.test");
    assert_eq!(host, Ok(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 42))]));
    let (big, _) = resolve(&nodes[0], "big.test");
    assert_eq!(big, Ok(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 43))]));
    let (missing, _) = resolve(&nodes[0], "missing.test");
    assert_eq!(missing, Err(ResolveError::NoSuchName));
    assert_eq!(Errno::from(ResolveError::NoSuchName), Errno::NotFound);
    let (again, cached) = resolve(&nodes[0], "host.test");
    assert!(again.is_ok());
    let stats = nodes[0].run(|c, n| n.with_stack(c, |s| s.sockets.resolver.stats));
    assert_eq!(stats.lookups, 4, "the AAAA NODATA had no SOA: not cached");
    assert_eq!(stats.tcp_queries, 2, "A and AAAA of big.test: {stats:?}");
    assert_eq!(stats.cache_hits, 1, "host.test's A: {stats:?}");
    let text = nodes[0].stats();
    for line in ["dns lookups 4", "dns tcp_queries 2", "dns cache_hits 1"] {
        assert!(text.lines().any(|l| l == line), "{line} in /stats:\n{text}");
    }
    assert!(cached < Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
}

#[test]
fn a_missing_server_is_passed_over_and_none_at_all_is_an_error() {
    let bus = Bus::new("resolve-failover");
    let nodes = nodes_on_bus(&bus, 2, "", "dns=10.0.0.9,10.0.0.2");
    let stop = Arc::new(AtomicBool::new(false));
    let server = serve(&nodes[1], stop.clone(), IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let (host, took) = resolve(&nodes[0], "host.test");
    assert_eq!(host, Ok(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 42))]));
    assert!(took >= Duration::from_millis(900), "one 1 s wait: {took:?}");
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
    let lonely = nodes[1].run(|context, net| {
        net.set_name_servers(context, ServerSource::BootParameters, &[]);
        net.resolve(context, "host.test")
    });
    assert_eq!(
        lonely,
        Err(ResolveError::Failed(
            kernel::net::dns::LookupError::NoServers
        ))
    );
    let literal = nodes[1].run(|context, net| net.resolve(context, "localhost"));
    assert_eq!(
        literal.map(|list| list[0]),
        Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
    );
    let invalid = nodes[1].run(|context, net| net.resolve(context, "a..b"));
    assert!(matches!(invalid, Err(ResolveError::InvalidName(_))));
}

#[test]
fn names_resolve_over_ipv6_from_a_server_at_an_ipv6_address() {
    let bus = Bus::new("resolve6");
    let nodes = nodes_on_bus6(&bus, 2, "", "dns=fd00::2");
    let stop = Arc::new(AtomicBool::new(false));
    let server = serve(&nodes[1], stop.clone(), IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let (host, _) = resolve(&nodes[0], "host.test");
    assert_eq!(host, Ok(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 42))]));
    let (big, _) = resolve(&nodes[0], "big.test");
    assert_eq!(big, Ok(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 43))]));
    let stats = nodes[0].run(|c, n| n.with_stack(c, |s| s.sockets.resolver.stats));
    assert_eq!(
        stats.tcp_queries, 2,
        "big.test over TCP over IPv6: {stats:?}"
    );
    assert_eq!(nodes[0].counter("ip delivered"), 0, "nothing over IPv4");
    assert!(nodes[0].counter("udp received") >= 2);
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
}
