//! The start of every run: engine A holds a socket in every TCP state.
//!
//! Each state is reached the way a network would reach it, by choosing
//! which segments arrive: a SYN lost (SYN-SENT), SYNs crossing with their
//! SYN-ACKs lost (SYN-RECEIVED, a simultaneous open), a FIN or its ACK
//! lost (FIN-WAIT-1, LAST-ACK), FINs crossing (CLOSING), and so on. The
//! handles stay with their owner (shutdown, not close), so `status` shows
//! each state; `the_setup_holds_a_socket_in_every_state` checks it.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use tcp::{Shutdown, SocketHandle, State};

use crate::world::{A, B, World, address};

/// A's listening port; B listens on [`PEER_PORT`].
pub const LISTEN_PORT: u16 = 80;
pub const PEER_PORT: u16 = 90;
/// A port nobody listens on.
pub const CLOSED_PORT: u16 = 91;

/// A's sockets after [`setup`].
pub struct Sockets {
    /// Each socket with the state it was put in.
    pub states: Vec<(State, SocketHandle)>,
    /// A's listener on [`LISTEN_PORT`].
    pub listener: SocketHandle,
}

fn listen(world: &mut World, host: usize, port: u16) -> SocketHandle {
    world.with(host, |tcp, _, _| {
        let handle = tcp.open().expect("a socket");
        let local = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port));
        tcp.bind(handle, local).expect("bound");
        tcp.listen(handle, 8).expect("listening");
        handle
    })
}

/// Opens a socket on `host`, bound to `local_port` unless it is 0, and
/// connects it to the other host's `port`.
fn connect(world: &mut World, host: usize, local_port: u16, port: u16) -> SocketHandle {
    world.with(host, |tcp, now, tx| {
        let handle = tcp.open().expect("a socket");
        if local_port != 0 {
            let local = SocketAddr::V4(SocketAddrV4::new(address(host), local_port));
            tcp.bind(handle, local).expect("bound");
        }
        let remote = SocketAddr::V4(SocketAddrV4::new(address(1 - host), port));
        tcp.connect(now, handle, remote, tx).expect("connecting");
        handle
    })
}

/// B connects to A's listener and A accepts: (A's end, B's end).
fn connection(world: &mut World, listener: SocketHandle) -> (SocketHandle, SocketHandle) {
    let peer = connect(world, B, 0, LISTEN_PORT);
    world.pump();
    let accepted = world.with(A, |tcp, _, _| tcp.accept(listener));
    (accepted.expect("the handshake completed"), peer)
}

fn shut_down(world: &mut World, host: usize, handle: SocketHandle) {
    world
        .with(host, |tcp, now, tx| {
            tcp.shutdown(now, handle, Shutdown::Write, tx)
        })
        .expect("shut down");
}

/// Delivers what is in flight now, once; what that sends stays queued.
fn deliver_once(world: &mut World) {
    for sent in std::mem::take(&mut world.in_flight) {
        world.deliver(1 - sent.from, sent.source, sent.destination, &sent.bytes);
    }
}

/// Puts a socket of A in every state.
pub fn setup(world: &mut World) -> Sockets {
    let listener = listen(world, A, LISTEN_PORT);
    listen(world, B, PEER_PORT);
    let mut states = opening(world, listener);
    states.extend(closing(world, listener));
    Sockets { states, listener }
}

/// CLOSED, LISTEN, SYN-SENT, SYN-RECEIVED and ESTABLISHED with data.
fn opening(world: &mut World, listener: SocketHandle) -> Vec<(State, SocketHandle)> {
    let closed = world.with(A, |tcp, _, _| tcp.open().expect("a socket"));
    let syn_sent = connect(world, A, 0, CLOSED_PORT);
    world.drop_in_flight();
    let syn_received = connect(world, A, 5000, 6000);
    connect(world, B, 6000, 5000);
    deliver_once(world);
    world.drop_in_flight();
    let (established, peer) = connection(world, listener);
    let data = [0x5a; 1000];
    world
        .with(A, |tcp, now, tx| tcp.send(now, established, &data, tx))
        .expect("sent");
    world
        .with(B, |tcp, now, tx| tcp.send(now, peer, &data, tx))
        .expect("sent");
    world.pump();
    vec![
        (State::Closed, closed),
        (State::Listen, listener),
        (State::SynSent, syn_sent),
        (State::SynReceived, syn_received),
        (State::Established, established),
    ]
}

/// Every state of closing, each reached by losing the right segment.
fn closing(world: &mut World, listener: SocketHandle) -> Vec<(State, SocketHandle)> {
    let (fin_wait_1, _) = connection(world, listener);
    shut_down(world, A, fin_wait_1);
    world.drop_in_flight();
    let (fin_wait_2, _) = connection(world, listener);
    shut_down(world, A, fin_wait_2);
    world.pump();
    let (close_wait, peer) = connection(world, listener);
    shut_down(world, B, peer);
    world.pump();
    let (last_ack, peer) = connection(world, listener);
    shut_down(world, B, peer);
    world.pump();
    shut_down(world, A, last_ack);
    world.drop_in_flight();
    let (closing, peer) = connection(world, listener);
    shut_down(world, A, closing);
    shut_down(world, B, peer);
    deliver_once(world);
    world.drop_in_flight();
    let (time_wait, peer) = connection(world, listener);
    shut_down(world, A, time_wait);
    world.pump();
    shut_down(world, B, peer);
    world.pump();
    vec![
        (State::FinWait1, fin_wait_1),
        (State::FinWait2, fin_wait_2),
        (State::CloseWait, close_wait),
        (State::Closing, closing),
        (State::LastAck, last_ack),
        (State::TimeWait, time_wait),
    ]
}
