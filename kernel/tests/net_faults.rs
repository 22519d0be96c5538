//! Hosted kernels on a bad bus: 10 % loss, 10 % reordering, 10 %
//! duplication and 1 % corrupted frames on every receiver. Every byte
//! must arrive intact, over IPv4 and IPv6, and nothing may hang.

mod common;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use common::{
    Bus, Node, address, address6, connect_to, listener_at, nodes_on_bus, nodes_on_bus6,
    receive_all, send_pattern,
};
use kernel::net::SocketType;

const FAULTS: &str = ",loss=0.1,reorder=0.1,duplicate=0.1,corrupt=0.01,seed=7";
const SECOND: u64 = 1_000_000_000;

/// Node 0 sends `LENGTH` bytes to a listener of node 1 at `local`,
/// reached at `remote`, and gets as many back; both hashes must match.
fn tcp_both_ways(nodes: &[Arc<Node>], local: SocketAddr, remote: SocketAddr) {
    const LENGTH: u64 = 2 * 1024 * 1024;
    let fd = nodes[1].run(|context, net| listener_at(context, net, local, 4));
    let server = nodes[1].clone().spawn(move |context, net| {
        let (connection, _) = net.accept(context, fd).unwrap();
        let received = receive_all(context, net, connection);
        let sent = send_pattern(context, net, connection, 8, LENGTH);
        net.close(context, connection).unwrap();
        (received, sent)
    });
    let (sent, received) = nodes[0].run(|context, net| {
        let fd = connect_to(context, net, remote).expect("connect over a bad link");
        let sent = send_pattern(context, net, fd, 9, LENGTH);
        net.shutdown(context, fd, kernel::net::Shutdown::Write)
            .unwrap();
        let received = receive_all(context, net, fd);
        net.close(context, fd).unwrap();
        (sent, received)
    });
    let (server_received, server_sent) = server.join().unwrap();
    assert_eq!(server_received, (LENGTH, sent));
    assert_eq!(received, (LENGTH, server_sent));
}

#[test]
fn tcp_delivers_every_byte_both_ways_over_a_bad_link() {
    let bus = Bus::new("faults-tcp");
    let nodes = nodes_on_bus(&bus, 2, FAULTS, "");
    let local = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5000));
    tcp_both_ways(&nodes, local, SocketAddr::from((address(2), 5000)));
    let stats = nodes[0].stats() + &nodes[1].stats();
    assert!(
        nodes[0].counter("tcp retransmitted_segments") > 0,
        "{stats}"
    );
    let corrupt = nodes[0].counter("tcp bad_checksums")
        + nodes[1].counter("tcp bad_checksums")
        + nodes[0].counter("ip bad_checksum")
        + nodes[1].counter("ip bad_checksum");
    assert!(
        corrupt > 0,
        "corrupted frames are caught by checksums: {stats}"
    );
}

#[test]
fn tcp_over_ipv6_delivers_every_byte_both_ways_over_a_bad_link() {
    let bus = Bus::new("faults-tcp6");
    let nodes = nodes_on_bus6(&bus, 2, FAULTS, "");
    let local: SocketAddr = "[::]:5000".parse().unwrap();
    tcp_both_ways(&nodes, local, SocketAddr::from((address6(2), 5000)));
    let stats = nodes[0].stats() + &nodes[1].stats();
    assert!(
        nodes[0].counter("tcp retransmitted_segments") > 0,
        "{stats}"
    );
    let corrupt = nodes[0].counter("tcp bad_checksums") + nodes[1].counter("tcp bad_checksums");
    assert!(
        corrupt > 0,
        "the IPv6 pseudo-header checksum caught them: {stats}"
    );
    assert_eq!(
        nodes[1].counter("ip delivered"),
        0,
        "nothing over IPv4: {stats}"
    );
    assert!(nodes[1].counter("ipv6 delivered") > 1000, "{stats}");
}

#[test]
fn ping_gets_through_a_lossy_link_with_retries() {
    let bus = Bus::new("faults-ping");
    let nodes = nodes_on_bus(&bus, 2, FAULTS, "");
    let answered = nodes[0].run(|context, net| {
        (0..20u16)
            .filter(|&sequence| net.ping(context, address(2), sequence, SECOND / 2).is_ok())
            .count()
    });
    // Each ping crosses the link twice: about 80 % get through.
    assert!(answered >= 10, "only {answered} of 20 pings answered");
}

#[test]
fn udp_datagrams_arrive_intact_or_not_at_all() {
    let bus = Bus::new("faults-udp");
    let nodes = nodes_on_bus(&bus, 2, FAULTS, "");
    let receiver = nodes[1].run(|context, net| {
        let fd = net.socket(context, SocketType::Datagram).unwrap();
        net.bind(context, fd, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 9000))
            .unwrap();
        net.set_option(context, fd, kernel::net::SocketOption::NonBlocking(true))
            .unwrap();
        net.set_option(
            context,
            fd,
            kernel::net::SocketOption::ReceiveBuffer(4 << 20),
        )
        .unwrap();
        fd
    });
    nodes[0].run(|context, net| {
        // Resolve the neighbour first: ARP holds only a few packets.
        let resolved =
            (0..50u16).any(|sequence| net.ping(context, address(2), sequence, SECOND / 5).is_ok());
        assert!(resolved, "no ping got through");
        let fd = net.socket(context, SocketType::Datagram).unwrap();
        for number in 0..1000u32 {
            let mut datagram = [0u8; 512];
            for (index, byte) in datagram.iter_mut().enumerate() {
                *byte = (number as usize * 13 + index) as u8;
            }
            datagram[..4].copy_from_slice(&number.to_be_bytes());
            net.send_to(context, fd, &datagram, SocketAddrV4::new(address(2), 9000))
                .unwrap();
            if number % 50 == 0 {
                // Let the receiver drain: its queue is bounded.
                context.yield_now();
            }
        }
    });
    // The last datagrams may still be in flight: ping waits a round trip.
    let _ = nodes[0].run(|context, net| net.ping(context, address(2), 999, SECOND / 2));
    let received = nodes[1].run(|context, net| {
        let mut good = 0;
        let mut buffer = [0u8; 1024];
        while let Ok(count) = net.read(context, receiver, &mut buffer) {
            assert_eq!(count, 512);
            let number = u32::from_be_bytes(buffer[..4].try_into().unwrap());
            for (index, &byte) in buffer[4..count].iter().enumerate() {
                assert_eq!(
                    byte,
                    (number as usize * 13 + index + 4) as u8,
                    "datagram {number}"
                );
            }
            good += 1;
        }
        good
    });
    assert!(received > 700, "only {received} of 1000 datagrams arrived");
}
