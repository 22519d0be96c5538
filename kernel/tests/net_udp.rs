//! UDP between hosted kernels on one bus: SO_BROADCAST, broadcasts heard
//! by every socket on their port, shutdown of datagram sockets.

mod common;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use common::{Bus, Node, address, nodes_on_bus};
use kernel::Context;
use kernel::net::{
    Errno, Fd, Net, OptionName, PollEvents, PollFd, Shutdown, Socket, SocketOption, SocketType,
};

const SECOND: u64 = 1_000_000_000;

/// A datagram socket with `options` set, bound to `0.0.0.0:port`.
fn bound(context: &Context<'_>, net: &Net, port: u16, options: &[SocketOption]) -> Fd {
    let fd = net.socket(context, SocketType::Datagram).expect("socket");
    for option in options {
        net.set_option(context, fd, *option).expect("setsockopt");
    }
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
    net.bind(context, fd, any).expect("bind");
    fd
}

/// The next datagram on `fd` within two seconds, or `None`.
fn receive_within(context: &Context<'_>, net: &Net, fd: Fd) -> Option<(Vec<u8>, SocketAddr)> {
    let mut poll = [PollFd::new(fd, PollEvents::READABLE)];
    let ready = net
        .poll(context, &mut poll, Some(2 * SECOND))
        .expect("poll");
    if ready == 0 {
        return None;
    }
    let mut buffer = [0u8; 1500];
    let (count, from) = net
        .receive_from(context, fd, &mut buffer)
        .expect("recvfrom");
    Some((buffer[..count].to_vec(), from))
}

#[test]
fn a_broadcast_needs_so_broadcast_and_reaches_every_socket_on_its_port() {
    let bus = Bus::new("udp-broadcast");
    let nodes = nodes_on_bus(&bus, 3, "", "");
    let reuse_address = [SocketOption::ReuseAddress(true)];
    let reuse_port = [SocketOption::ReusePort(true)];
    let listeners = [
        (1, nodes[1].run(|c, n| bound(c, n, 5000, &reuse_address))),
        (1, nodes[1].run(|c, n| bound(c, n, 5000, &reuse_address))),
        (2, nodes[2].run(|c, n| bound(c, n, 5000, &reuse_port))),
        (2, nodes[2].run(|c, n| bound(c, n, 5000, &reuse_port))),
    ];
    let taken = nodes[2].run(|context, net| {
        let fd = net.socket(context, SocketType::Datagram).unwrap();
        net.bind(context, fd, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 5000))
    });
    assert_eq!(taken, Err(Errno::AddressInUse), "without SO_REUSEPORT");
    nodes[0].run(|context, net| {
        let fd = bound(context, net, 0, &[]);
        let everyone = SocketAddrV4::new(Ipv4Addr::BROADCAST, 5000);
        let subnet = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 255), 5000);
        for to in [everyone, subnet] {
            assert_eq!(
                net.send_to(context, fd, b"x", to),
                Err(Errno::PermissionDenied)
            );
        }
        let off = net.option(context, fd, OptionName::Broadcast);
        assert_eq!(off, Ok(SocketOption::Broadcast(false)));
        net.set_option(context, fd, SocketOption::Broadcast(true))
            .unwrap();
        net.send_to(context, fd, b"to everyone", everyone).unwrap();
        net.send_to(context, fd, b"to the subnet", subnet).unwrap();
    });
    for (node, fd) in listeners {
        let heard: Vec<_> = nodes[node].run(|context, net| {
            (0..2)
                .filter_map(|_| receive_within(context, net, fd))
                .collect()
        });
        let texts: Vec<&[u8]> = heard.iter().map(|(data, _)| &data[..]).collect();
        assert_eq!(
            texts,
            [&b"to everyone"[..], b"to the subnet"],
            "node {}",
            node + 1
        );
        assert!(heard.iter().all(|(_, from)| from.ip() == address(1)));
    }
}

/// Waits (at most 5 s) until a thread sleeps on `fd`'s wait queue.
fn wait_for_sleeper(node: &Node, fd: Fd) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let sleeping = node.run(|context, _| {
            let socket = context.process().descriptor::<Socket>(fd);
            socket.is_ok_and(|socket| socket.has_sleepers())
        });
        if sleeping {
            return;
        }
        assert!(Instant::now() < deadline, "the reader never blocked");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn shutdown_wakes_a_blocked_reader_with_end_of_file_and_fails_later_sends() {
    let bus = Bus::new("udp-shutdown");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let fd = nodes[1].run(|context, net| bound(context, net, 7, &[]));
    let reader = nodes[1].spawn(move |context, net| {
        let mut buffer = [0u8; 64];
        net.receive_from(context, fd, &mut buffer)
    });
    wait_for_sleeper(&nodes[1], fd);
    nodes[1].run(|context, net| net.shutdown(context, fd, Shutdown::Read).unwrap());
    let end = reader.join().unwrap();
    assert_eq!(end, Ok((0, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))));
    nodes[0].run(|context, net| {
        let client = bound(context, net, 0, &[]);
        net.connect(context, client, SocketAddrV4::new(address(2), 7))
            .unwrap();
        net.write(context, client, b"dropped").unwrap();
        net.shutdown(context, client, Shutdown::Write).unwrap();
        assert_eq!(net.write(context, client, b"no"), Err(Errno::BrokenPipe));
        let to = SocketAddrV4::new(address(2), 7);
        assert_eq!(
            net.send_to(context, client, b"no", to),
            Err(Errno::BrokenPipe)
        );
    });
    let dropped = |node: &Node| node.run(|c, n| n.with_stack(c, |stack| stack.udp.stats.shut_down));
    let deadline = Instant::now() + Duration::from_secs(5);
    while dropped(&nodes[1]) == 0 {
        assert!(Instant::now() < deadline, "the datagram never arrived");
        std::thread::sleep(Duration::from_millis(1));
    }
    let again = nodes[1].run(|context, net| {
        let mut buffer = [0u8; 64];
        net.receive_from(context, fd, &mut buffer)
    });
    assert_eq!(again, Ok((0, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))));
}

#[test]
fn a_peeked_datagram_is_received_again_whole() {
    use kernel::net::MessageFlags;
    let bus = Bus::new("udp-peek");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let fd = nodes[1].run(|context, net| bound(context, net, 5001, &[]));
    nodes[0].run(|context, net| {
        let sender = bound(context, net, 0, &[]);
        let to = SocketAddrV4::new(address(2), 5001);
        net.send_to(context, sender, b"first datagram", to).unwrap();
        net.send_to(context, sender, b"second", to).unwrap();
    });
    let (peeked, whole, next, short) = nodes[1].run(move |context, net| {
        let mut poll = [PollFd::new(fd, PollEvents::READABLE)];
        net.poll(context, &mut poll, Some(2 * SECOND))
            .expect("poll");
        let mut part = [0u8; 5];
        let peek = MessageFlags::PEEK;
        let peeked = net.receive_from_with(context, fd, &mut part, peek);
        let mut buffer = [0u8; 64];
        let whole = net
            .receive_from(context, fd, &mut buffer)
            .map(|(n, _)| buffer[..n].to_vec());
        let next = receive_within(context, net, fd).map(|(data, _)| data);
        let idle = MessageFlags::PEEK.with(MessageFlags::DONT_WAIT);
        let short = net.receive_from_with(context, fd, &mut part, idle);
        (
            peeked.map(|(n, from)| (part[..n].to_vec(), from.ip())),
            whole,
            next,
            short,
        )
    });
    assert_eq!(
        peeked,
        Ok((b"first".to_vec(), std::net::IpAddr::V4(address(1))))
    );
    assert_eq!(whole, Ok(b"first datagram".to_vec()));
    assert_eq!(next.as_deref(), Some(&b"second"[..]));
    assert_eq!(short.map(|_| ()), Err(Errno::WouldBlock));
}
