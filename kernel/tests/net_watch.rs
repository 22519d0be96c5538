//! Watch sets in a hosted kernel over lo0: a wait reports exactly the
//! sockets that became ready, with their tokens, level-triggered; closed
//! descriptors and sets, unwatching, one set per descriptor, and a waiter
//! woken by an event from another thread.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use common::{Node, listener};
use kernel::Context;
use kernel::net::{Errno, Fd, Net, PollEvents, Ready, SocketType, WatchSet};

const SECOND: u64 = 1_000_000_000;

/// A connected pair on lo0: (client, server side).
fn pair(context: &Context<'_>, net: &Net, listening: Fd, port: u16) -> (Fd, Fd) {
    let client = net.socket(context, SocketType::Stream).expect("socket");
    let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    net.connect(context, client, address).expect("connect");
    let (server, _) = net.accept(context, listening).expect("accept");
    (client, server)
}

/// What one wait of up to `timeout_ns` finds, sorted by token.
fn wait(context: &Context<'_>, net: &Net, set: WatchSet, timeout_ns: u64) -> Vec<Ready> {
    let mut ready = Vec::with_capacity(64);
    net.wait_ready(context, set, &mut ready, 64, Some(timeout_ns))
        .expect("wait");
    ready.sort_by_key(|ready| ready.token);
    ready
}

fn tokens(ready: &[Ready]) -> Vec<u64> {
    ready.iter().map(|ready| ready.token).collect()
}

#[test]
fn a_wait_reports_the_sockets_that_became_ready_and_keeps_reporting_them() {
    let node = Node::boot("watch-ready", "", &[]);
    node.run(|context, net| {
        let listening = listener(context, net, 7100, 16);
        let pairs: Vec<_> = (0..8)
            .map(|_| pair(context, net, listening, 7100))
            .collect();
        let set = net.watch_set(context).expect("a set");
        for (token, (_, server)) in pairs.iter().enumerate() {
            net.watch(context, set, *server, PollEvents::READABLE, token as u64)
                .expect("watch");
        }
        assert!(wait(context, net, set, 0).is_empty(), "nothing sent yet");
        for token in [2, 5] {
            net.write(context, pairs[token].0, b"hello").expect("write");
        }
        let ready = wait(context, net, set, SECOND);
        assert_eq!(tokens(&ready), [2, 5]);
        assert!(ready.iter().all(|r| r.events == PollEvents::READABLE));
        assert_eq!(ready[0].fd, pairs[2].1);
        assert_eq!(
            tokens(&wait(context, net, set, 0)),
            [2, 5],
            "level-triggered"
        );
        let mut buffer = [0u8; 16];
        assert_eq!(net.read(context, pairs[2].1, &mut buffer), Ok(5));
        assert_eq!(tokens(&wait(context, net, set, 0)), [5], "2 was drained");
        assert_eq!(tokens(&wait(context, net, set, 0)), [5]);
    });
}

#[test]
fn hang_ups_are_reported_and_closed_or_unwatched_descriptors_are_not() {
    let node = Node::boot("watch-close", "", &[]);
    node.run(|context, net| {
        let listening = listener(context, net, 7101, 16);
        let (client_a, server_a) = pair(context, net, listening, 7101);
        let (client_b, server_b) = pair(context, net, listening, 7101);
        let (client_c, server_c) = pair(context, net, listening, 7101);
        let set = net.watch_set(context).expect("a set");
        // Watched for nothing: only what is always reported.
        net.watch(context, set, server_a, PollEvents::NONE, 1)
            .unwrap();
        net.watch(context, set, server_b, PollEvents::READABLE, 2)
            .unwrap();
        net.watch(context, set, server_c, PollEvents::READABLE, 3)
            .unwrap();
        net.unwatch(context, server_b).unwrap();
        net.close(context, server_c).unwrap();
        // Unread data when a client closes: it resets the connection.
        net.write(context, server_a, b"unread").unwrap();
        net.write(context, server_b, b"unread").unwrap();
        for client in [client_a, client_b, client_c] {
            net.write(context, client, b"x").unwrap();
            net.close(context, client).unwrap();
        }
        let ready = wait(context, net, set, SECOND);
        assert_eq!(tokens(&ready), [1]);
        let gone = PollEvents::HANGUP | PollEvents::ERROR;
        assert_eq!(ready[0].events, gone, "{ready:?}");
    });
}

#[test]
fn a_descriptor_is_in_one_set_and_a_closed_set_is_a_bad_descriptor() {
    let node = Node::boot("watch-sets", "", &[]);
    node.run(|context, net| {
        let listening = listener(context, net, 7102, 16);
        let (client, server) = pair(context, net, listening, 7102);
        let first = net.watch_set(context).unwrap();
        let second = net.watch_set(context).unwrap();
        net.watch(context, first, server, PollEvents::READABLE, 1)
            .unwrap();
        let taken = net.watch(context, second, server, PollEvents::READABLE, 2);
        assert_eq!(taken, Err(Errno::InvalidArgument));
        net.watch(context, first, server, PollEvents::READABLE, 7)
            .unwrap();
        net.write(context, client, b"x").unwrap();
        assert_eq!(
            tokens(&wait(context, net, first, SECOND)),
            [7],
            "the new token"
        );
        net.close_watch_set(context, first).unwrap();
        let mut ready = Vec::new();
        let closed = net.wait_ready(context, first, &mut ready, 8, Some(0));
        assert_eq!(closed, Err(Errno::BadDescriptor));
        net.watch(context, second, server, PollEvents::READABLE, 2)
            .unwrap();
        assert_eq!(
            tokens(&wait(context, net, second, SECOND)),
            [2],
            "free again"
        );
    });
}

#[test]
fn a_waiter_wakes_for_an_event_from_another_thread_and_times_out_without() {
    let node = std::sync::Arc::new(Node::boot("watch-wake", "", &[]));
    let (client, set) = node.run(|context, net| {
        let listening = listener(context, net, 7103, 16);
        let (client, server) = pair(context, net, listening, 7103);
        let set = net.watch_set(context).unwrap();
        net.watch(context, set, server, PollEvents::READABLE, 9)
            .unwrap();
        let started = context.now_ns();
        assert!(wait(context, net, set, SECOND / 10).is_empty());
        assert!(context.now_ns() - started >= SECOND / 10, "it waited");
        (client, set)
    });
    let waiter = node.spawn(move |context, net| wait(context, net, set, 10 * SECOND));
    node.run(|context, net| {
        // Most likely the waiter sleeps by now; if not, it finds the
        // data queued when it looks, which is as right.
        context.sleep_until(context.now_ns() + SECOND / 20);
        net.write(context, client, b"wake").unwrap();
    });
    let ready = waiter.join().expect("the waiter");
    assert_eq!(tokens(&ready), [9]);
}
