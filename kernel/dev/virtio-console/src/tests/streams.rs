//! Streams on the fake console: accept, data both ways, ends and reuse.

use alloc::sync::Arc;
use alloc::vec::Vec;

use base::hypercall::StreamError;

use super::{Harness, within};
use crate::ConsolePort;
use crate::console::RECEIVE_LIMIT;

/// Accepts the next client, within the deadline.
fn accept(harness: &Arc<Harness>) -> ConsolePort {
    let harness = harness.clone();
    within(move || {
        let listener = harness.listener();
        listener.accept(&harness.context()).expect("a client")
    })
}

/// Reads from `port` until `length` bytes or the end.
fn read_all(harness: &Harness, port: &ConsolePort, length: usize) -> Vec<u8> {
    let context = harness.context();
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 3000];
    while bytes.len() < length {
        match port.read(&context, &mut buffer).expect("read") {
            0 => break,
            read => bytes.extend_from_slice(&buffer[..read]),
        }
    }
    bytes
}

fn pattern(length: usize, seed: u8) -> Vec<u8> {
    (0..length)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn a_client_is_accepted_and_bytes_cross_both_ways() {
    let harness = Arc::new(Harness::new(2));
    harness.host(|model| model.host_connect(1));
    let port = accept(&harness);
    assert_eq!(port.port(), 1);
    harness.wait_device("our PORT_OPEN", |state| state.device.ports[1].guest_open);
    harness.host(|model| model.host_write(1, b"hello"));
    assert_eq!(read_all(&harness, &port, 5), b"hello");
    port.send(&harness.context(), b"world").expect("sent");
    harness.wait_device("the reply", |state| {
        state.device.ports[1].from_driver == b"world"
    });
}

#[test]
fn large_transfers_arrive_whole_past_the_receive_limit() {
    let harness = Arc::new(Harness::new(2));
    harness.host(|model| model.host_connect(1));
    let port = accept(&harness);
    let incoming = pattern(3 * RECEIVE_LIMIT + 123, 7);
    harness.host(|model| model.host_write(1, &incoming));
    assert!(read_all(&harness, &port, incoming.len()) == incoming);
    let outgoing = pattern(100_000, 9);
    port.send(&harness.context(), &outgoing).expect("sent");
    harness.wait_device("the frame", |state| {
        state.device.ports[1].from_driver == outgoing
    });
}

#[test]
fn a_host_close_wakes_a_blocked_read_and_the_port_takes_a_new_client() {
    let harness = Arc::new(Harness::new(2));
    harness.host(|model| model.host_connect(1));
    let port = Arc::new(accept(&harness));
    let (reader, blocked) = (harness.clone(), port.clone());
    let (sender, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16];
        let _ = sender.send(blocked.read(&reader.context(), &mut buffer));
    });
    harness.host(|model| model.host_disconnect(1));
    assert_eq!(ended.recv_timeout(super::DEADLINE).expect("woken"), Ok(0));
    harness.wait_device("our PORT_OPEN 0", |state| !state.device.ports[1].guest_open);
    let refused = port.send(&harness.context(), b"late");
    assert_eq!(refused, Err(StreamError::Disconnected));
    harness.host(|model| model.host_connect(1));
    let second = accept(&harness);
    harness.host(|model| model.host_write(1, b"again"));
    assert_eq!(read_all(&harness, &second, 5), b"again");
    assert_eq!(
        read_all(&harness, &port, 1),
        b"",
        "the old stream stays ended"
    );
}

#[test]
fn several_ports_serve_several_clients_apart() {
    let harness = Arc::new(Harness::new(3));
    harness.host(|model| {
        model.host_connect(1);
        model.host_connect(2);
    });
    let first = accept(&harness);
    let second = accept(&harness);
    let mut numbers = [first.port(), second.port()];
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2]);
    harness.host(|model| {
        model.host_write(1, b"one");
        model.host_write(2, b"two");
    });
    let by_port = |port: &ConsolePort| {
        if port.port() == 1 {
            &b"one"[..]
        } else {
            b"two"
        }
    };
    assert_eq!(read_all(&harness, &first, 3), by_port(&first));
    assert_eq!(read_all(&harness, &second, 3), by_port(&second));
}

#[test]
fn our_close_fails_blocked_calls_and_tells_the_host() {
    let harness = Arc::new(Harness::new(2));
    harness.host(|model| model.host_connect(1));
    let port = Arc::new(accept(&harness));
    let (reader, blocked) = (harness.clone(), port.clone());
    let (sender, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16];
        let _ = sender.send(blocked.read(&reader.context(), &mut buffer));
    });
    port.close();
    let result = ended.recv_timeout(super::DEADLINE).expect("woken");
    assert_eq!(result, Err(StreamError::Closed));
    harness.wait_device("our PORT_OPEN 0", |state| !state.device.ports[1].guest_open);
}

#[test]
fn closing_the_listener_ends_a_blocked_accept() {
    let harness = Arc::new(Harness::new(2));
    let listener = Arc::new(harness.listener());
    let (waiting, blocked) = (harness.clone(), listener.clone());
    let (sender, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(blocked.accept(&waiting.context()).err());
    });
    listener.close();
    let result = ended.recv_timeout(super::DEADLINE).expect("woken");
    assert_eq!(result, Some(StreamError::Closed));
}
