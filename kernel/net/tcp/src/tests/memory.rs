//! Memory: every byte the engine holds is charged (the invariant check,
//! run after every call, holds the charges to the sockets' footprints),
//! idle connections give their buffers back and grow them again, and a
//! budget that says no makes calls fail cleanly until it says yes.

use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::vec;

use super::network::{Network, SECOND};
use super::transfer::transfer;
use crate::tcb::SOCKET_BYTES;
use crate::{MemoryBudget, TcpError};

/// A budget of `room` bytes that tests can widen.
struct Room(AtomicUsize);

impl Room {
    fn new(room: usize) -> Arc<Self> {
        Arc::new(Self(AtomicUsize::new(room)))
    }

    fn add(&self, bytes: usize) {
        self.0.fetch_add(bytes, Relaxed);
    }
}

impl MemoryBudget for Room {
    fn charge(&self, bytes: usize) -> bool {
        self.0
            .fetch_update(Relaxed, Relaxed, |room| room.checked_sub(bytes))
            .is_ok()
    }

    fn release(&self, bytes: usize) {
        self.0.fetch_add(bytes, Relaxed);
    }
}

#[test]
fn idle_connections_give_their_buffers_back_and_grow_them_again() {
    let mut network = Network::pair(5);
    let (client, _, server) = network.establish(80);
    for _ in 0..2 {
        network.send(0, client, &[7u8; 20_000]).expect("send");
        network.send(1, server, &[9u8; 3_000]).expect("send");
        network.settle(SECOND);
        assert_eq!(network.read(1, server).map(|data| data.len()), Ok(20_000));
        assert_eq!(network.read(0, client).map(|data| data.len()), Ok(3_000));
    }
    let held = network.tcp(1).memory_held();
    assert!(held > 2 * SOCKET_BYTES + 20_000, "buffers grew: {held}");
    let now = network.now;
    let recent = network.with(1, |tcp, _, _| tcp.shrink_idle(now, 10 * SECOND));
    assert_eq!(recent, 0, "a connection used just now keeps its buffers");
    let freed = network.with(1, |tcp, _, _| tcp.shrink_idle(now, 0));
    assert_eq!(network.tcp(1).memory_held(), held - freed);
    assert!(freed > 20_000, "the receive ring went: {freed}");
    assert_eq!(network.tcp(1).stats().buffers_shrunk, 1);
    // The listener and one connection: boxes, table shares, accept queue.
    let listener = crate::state::Listener::bytes_for(8);
    assert_eq!(network.tcp(1).memory_held(), 2 * SOCKET_BYTES + listener);
    assert!(transfer(&mut network, client, server, 100_000, 30 * SECOND));
    assert!(network.tcp(1).memory_held() > held - freed, "grown again");
}

#[test]
fn a_budget_that_says_no_fails_calls_cleanly_until_it_says_yes() {
    let mut network = Network::pair(6);
    let room = Room::new(0);
    network.hosts[1].tcp.set_memory_budget(room.clone());
    let refused = network.with(1, |tcp, _, _| tcp.open());
    assert_eq!(refused, Err(TcpError::NoBuffers));
    room.add(2 * SOCKET_BYTES + crate::state::Listener::bytes_for(8));
    let listener = network.listen(1, 80, 8);
    let (client, _, server) = {
        let client = network.connect(0, 1, 80);
        let mut server = None;
        let connected = network.run_until(20 * SECOND, |network| {
            server = server.or_else(|| network.with(1, |tcp, _, _| tcp.accept(listener).ok()));
            server.is_some()
        });
        assert!(connected, "the child fits: {:?}", network.tcp(1).stats());
        (client, listener, server.expect("accepted"))
    };
    // No room for the receive ring: data is dropped, not a crash, and the
    // sender retransmits until room appears.
    network
        .send(0, client, &[1u8; 5_000])
        .expect("queued at the client");
    network.settle(3 * SECOND);
    assert_eq!(network.read(1, server), Ok(vec![]));
    assert!(network.tcp(1).stats().memory_refusals > 0);
    room.add(64 << 10);
    network.settle(30 * SECOND);
    assert_eq!(network.read(1, server), Ok(vec![1u8; 5_000]));
    // A SYN past the budget is dropped and counted.
    let drops = network.tcp(1).stats().syn_drops;
    room.0.store(0, Relaxed);
    network.connect(0, 1, 80);
    network.settle(SECOND / 2);
    assert!(network.tcp(1).stats().syn_drops > drops);
    // send() with room in the buffer but no memory says so.
    let held = network.tcp(1).memory_held();
    let result = network.send(1, server, &[2u8; 100]);
    assert_eq!(result, Err(TcpError::NoBuffers));
    assert_eq!(network.tcp(1).memory_held(), held);
}
