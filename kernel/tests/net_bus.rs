//! Hosted kernels on one shared-memory bus: ping, UDP, TCP.

mod common;

use common::{Bus, address, connect, listener, nodes_on_bus, receive_all, send_pattern};
use kernel::net::{Errno, SocketOption, SocketType};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

const SECOND: u64 = 1_000_000_000;

#[test]
fn kernels_on_one_bus_ping_each_other() {
    let bus = Bus::new("ping");
    let nodes = nodes_on_bus(&bus, 3, "", "");
    for (from, to) in [(0, 2), (1, 3), (2, 1)] {
        let rtt = nodes[from].run(|context, net| net.ping(context, address(to), 1, 5 * SECOND));
        assert!(rtt.is_ok(), "node{} -> 10.0.0.{to}: {rtt:?}", from + 1);
    }
    let silent = nodes[0].run(|context, net| net.ping(context, address(99), 1, SECOND / 2));
    assert_eq!(silent, Err(Errno::TimedOut));
}

#[test]
fn udp_datagrams_reach_their_port_and_a_closed_port_is_refused() {
    let bus = Bus::new("udp");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let fd = nodes[1].run(|context, net| {
        let fd = net.socket(context, SocketType::Datagram).unwrap();
        net.bind(context, fd, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7))
            .unwrap();
        fd
    });
    let server = nodes[1].clone().spawn(move |context, net| {
        let mut buffer = [0u8; 2048];
        for _ in 0..3 {
            let (count, from) = net.receive_from(context, fd, &mut buffer).unwrap();
            net.send_to(context, fd, &buffer[..count], from).unwrap();
        }
    });
    nodes[0].run(|context, net| {
        let fd = net.socket(context, SocketType::Datagram).unwrap();
        net.connect(context, fd, SocketAddrV4::new(address(2), 7))
            .unwrap();
        for message in [&b"one"[..], &[7u8; 1400], b"three"] {
            let mut buffer = [0u8; 2048];
            net.write(context, fd, message).unwrap();
            let count = net.read(context, fd, &mut buffer).unwrap();
            assert_eq!(&buffer[..count], message);
        }
    });
    server.join().unwrap();
}

#[test]
fn tcp_moves_data_both_ways_and_closes_in_order() {
    let bus = Bus::new("tcp");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let fd = nodes[1].run(|context, net| listener(context, net, 5000, 8));
    let server = nodes[1].clone().spawn(move |context, net| {
        let (connection, peer) = net.accept(context, fd).unwrap();
        assert_eq!(peer.ip(), address(1));
        let received = receive_all(context, net, connection);
        let sent = send_pattern(context, net, connection, 2, 3 * 1024 * 1024);
        net.close(context, connection).unwrap();
        (received, sent)
    });
    let (sent, received) = nodes[0].run(|context, net| {
        let fd = connect(context, net, 2, 5000).expect("connect");
        let sent = send_pattern(context, net, fd, 1, 5 * 1024 * 1024);
        net.shutdown(context, fd, kernel::net::Shutdown::Write)
            .unwrap();
        let received = receive_all(context, net, fd);
        net.close(context, fd).unwrap();
        (sent, received)
    });
    let (server_received, server_sent) = server.join().unwrap();
    assert_eq!(server_received, (5 * 1024 * 1024, sent));
    assert_eq!(received, (3 * 1024 * 1024, server_sent));
}

#[test]
fn a_closed_port_answers_with_a_reset() {
    let bus = Bus::new("rst");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let result = nodes[0].run(|context, net| connect(context, net, 2, 4444));
    assert_eq!(result.err(), Some(Errno::ConnectionRefused));
}

#[test]
fn two_hundred_connections_at_once_all_echo() {
    let bus = Bus::new("many");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let server_node = nodes[1].clone();
    let fd = nodes[1].run(|context, net| listener(context, net, 7, 256));
    let server = nodes[1].clone().spawn(move |context, net| {
        let mut workers = Vec::new();
        for _ in 0..200 {
            let (connection, _) = net.accept(context, fd).unwrap();
            workers.push(server_node.clone().spawn(move |context, net| {
                let mut buffer = [0u8; 256];
                loop {
                    let count = net.read(context, connection, &mut buffer).unwrap();
                    if count == 0 {
                        break;
                    }
                    net.write(context, connection, &buffer[..count]).unwrap();
                }
                net.close(context, connection).unwrap();
            }));
        }
        // Joined outside: a thread inside the kernel must not block on
        // the host while it holds the virtual CPU.
        workers
    });
    let clients: Vec<_> = (0..200u32)
        .map(|client| {
            nodes[0].clone().spawn(move |context, net| {
                let fd = connect(context, net, 2, 7)
                    .unwrap_or_else(|error| panic!("client {client}: {error}"));
                let message = format!("hello from client {client}");
                net.write(context, fd, message.as_bytes()).unwrap();
                let mut buffer = [0u8; 64];
                let mut got = 0;
                while got < message.len() {
                    got += net.read(context, fd, &mut buffer[got..]).unwrap();
                }
                assert_eq!(&buffer[..got], message.as_bytes());
                net.close(context, fd).unwrap();
            })
        })
        .collect();
    clients.into_iter().for_each(|c| c.join().unwrap());
    for worker in server.join().unwrap() {
        worker.join().unwrap();
    }
}

#[test]
fn a_full_backlog_turns_syns_away_until_the_server_accepts() {
    let bus = Bus::new("backlog");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let fd = nodes[1].run(|context, net| listener(context, net, 6000, 2));
    // Each client speaks first, as an HTTP client does: a SYN answered
    // with a cookie whose ACK met the full accept queue comes back as
    // that data segment, the cookie in its ACK (RFC 4987).
    let clients: Vec<_> = (0..6)
        .map(|_| {
            nodes[0].clone().spawn(|context, net| {
                let fd = connect(context, net, 2, 6000)?;
                net.write(context, fd, b"?").map(|_| fd)
            })
        })
        .collect();
    // The server accepts only once its queue has turned a SYN away (it
    // must: six clients, two places; dropped or answered with a cookie).
    let refused = || nodes[1].counter("tcp syn_drops") + nodes[1].counter("tcp syn_cookies_sent");
    let deadline = Instant::now() + Duration::from_secs(20);
    while refused() == 0 {
        assert!(Instant::now() < deadline, "no SYN turned away in 20 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The server accepts all of them, two at a time at most in its queue:
    // the ones dropped retransmit their SYN (or data), or wait in the SYN
    // queue for their SYN-ACK to bring the ACK back, and get in later.
    nodes[1].run(|context, net| {
        for _ in 0..6 {
            let (connection, _) = net.accept(context, fd).expect("accept");
            let mut byte = [0u8; 1];
            assert_eq!(net.read(context, connection, &mut byte), Ok(1));
        }
    });
    for client in clients {
        assert!(client.join().unwrap().is_ok());
    }
}

#[test]
fn a_time_wait_address_is_reused_with_reuse_address() {
    let bus = Bus::new("timewait");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let fd = nodes[1].run(|context, net| listener(context, net, 7000, 4));
    let server = nodes[1].clone().spawn(move |context, net| {
        for _ in 0..2 {
            let (connection, _) = net.accept(context, fd).unwrap();
            receive_all(context, net, connection);
            net.close(context, connection).unwrap();
        }
    });
    nodes[0].run(|context, net| {
        for round in 0..2 {
            let fd = net.socket(context, SocketType::Stream).unwrap();
            net.set_option(context, fd, SocketOption::ReuseAddress(true))
                .unwrap();
            net.bind(context, fd, SocketAddrV4::new(address(1), 40000))
                .unwrap_or_else(|e| panic!("round {round}: bind: {e}"));
            let target = SocketAddrV4::new(address(2), 7000);
            net.connect(context, fd, target)
                .unwrap_or_else(|e| panic!("round {round}: connect: {e}"));
            // The client closes first and then sees the server's FIN, so
            // its side of the 4-tuple is in TIME_WAIT for the next round.
            net.shutdown(context, fd, kernel::net::Shutdown::Write)
                .unwrap();
            assert_eq!(receive_all(context, net, fd).0, 0);
            net.close(context, fd).unwrap();
        }
    });
    server.join().unwrap();
    assert_eq!(nodes[0].counter("tcp time_wait_reuses"), 1);
}

#[test]
fn a_hundred_mebibytes_cross_the_bus_intact() {
    const LENGTH: u64 = 100 * 1024 * 1024;
    let bus = Bus::new("bulk");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let fd = nodes[1].run(|context, net| listener(context, net, 5001, 1));
    let server = nodes[1].clone().spawn(move |context, net| {
        let (connection, _) = net.accept(context, fd).unwrap();
        let received = receive_all(context, net, connection);
        net.close(context, connection).unwrap();
        received
    });
    let sent = nodes[0].run(|context, net| {
        let fd = connect(context, net, 2, 5001).expect("connect");
        let hash = send_pattern(context, net, fd, 3, LENGTH);
        net.close(context, fd).unwrap();
        hash
    });
    assert_eq!(server.join().unwrap(), (LENGTH, sent));
}

#[test]
fn send_and_recv_flags_dont_wait_and_wait_all() {
    use kernel::net::MessageFlags;
    let bus = Bus::new("flags");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let fd = nodes[1].run(|context, net| listener(context, net, 5002, 1));
    let server = nodes[1].clone().spawn(move |context, net| {
        let (connection, _) = net.accept(context, fd).unwrap();
        let mut buffer = [0u8; 10_000];
        let all = net.recv(context, connection, &mut buffer, MessageFlags::WAIT_ALL);
        net.close(context, connection).unwrap();
        (all, buffer.iter().all(|&b| b == 9))
    });
    nodes[0].run(|context, net| {
        let fd = connect(context, net, 2, 5002).expect("connect");
        // Ten writes: the receiver's WAIT_ALL must gather them all.
        for _ in 0..10 {
            net.send(context, fd, &[9u8; 1000], MessageFlags::NONE)
                .unwrap();
        }
        // The server sends nothing: an immediate receive finds nothing.
        let mut buffer = [0u8; 16];
        let idle = net.recv(context, fd, &mut buffer, MessageFlags::DONT_WAIT);
        assert_eq!(idle, Err(Errno::WouldBlock));
        assert_eq!(
            net.recv(context, fd, &mut buffer, MessageFlags::NONE),
            Ok(0)
        );
        net.close(context, fd).unwrap();
    });
    let (all, intact) = server.join().unwrap();
    assert_eq!(all, Ok(10_000));
    assert!(intact);
}

#[test]
fn a_peek_leaves_the_bytes_for_the_next_receive() {
    use kernel::net::MessageFlags;
    let bus = Bus::new("peek");
    let nodes = nodes_on_bus(&bus, 2, "", "");
    let fd = nodes[1].run(|context, net| listener(context, net, 5003, 1));
    let server = nodes[1].clone().spawn(move |context, net| {
        let (connection, _) = net.accept(context, fd).unwrap();
        let mut peeked = [0u8; 5];
        // A blocking peek waits for data, then leaves it there.
        let first = net.recv(context, connection, &mut peeked, MessageFlags::PEEK);
        let mut again = [0u8; 5];
        let dont_wait = MessageFlags::PEEK.with(MessageFlags::DONT_WAIT);
        let second = net.recv(context, connection, &mut again, dont_wait);
        let mut read = [0u8; 5];
        let taken = net.recv(context, connection, &mut read, MessageFlags::WAIT_ALL);
        let after = net.recv(context, connection, &mut again, dont_wait);
        net.close(context, connection).unwrap();
        (first, second, taken, after, peeked, read)
    });
    nodes[0].run(|context, net| {
        let fd = connect(context, net, 2, 5003).expect("connect");
        net.send(context, fd, b"hello", MessageFlags::NONE).unwrap();
        let mut end = [0u8; 1];
        assert_eq!(net.recv(context, fd, &mut end, MessageFlags::NONE), Ok(0));
        net.close(context, fd).unwrap();
    });
    let (first, second, taken, after, peeked, read) = server.join().unwrap();
    assert_eq!((first, second, taken), (Ok(5), Ok(5), Ok(5)));
    assert_eq!((&peeked, &read), (b"hello", b"hello"));
    assert_eq!(after, Err(Errno::WouldBlock), "the read took the bytes");
}

#[test]
fn boot_parameters_size_new_sockets_buffers_and_refuse_nonsense() {
    use kernel::net::{OptionName, SocketOption, SocketType};
    let bus = Bus::new("buffers");
    let params = "tcp.receive_buffer=64K tcp.send_buffer=1G";
    let nodes = nodes_on_bus(&bus, 1, "", params);
    let (receive, send) = nodes[0].run(|context, net| {
        let fd = net.socket(context, SocketType::Stream).unwrap();
        let receive = net.option(context, fd, OptionName::ReceiveBuffer);
        let send = net.option(context, fd, OptionName::SendBuffer);
        net.close(context, fd).unwrap();
        (receive, send)
    });
    assert_eq!(receive, Ok(SocketOption::ReceiveBuffer(64 << 10)));
    // 1 GiB is past the 4 MiB most: the default stays.
    assert_eq!(send, Ok(SocketOption::SendBuffer(256 << 10)));
}
