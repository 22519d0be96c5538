//! A DNS relay that lies first: the guest asks it, it answers every query
//! three times with a forged address before it relays dnsmasq's answer.
//!
//! The forgeries come from the relay's own address and port 53, so the
//! guest's connected socket lets them through and only the resolver's
//! checks stand in their way: one with another id, one for another name
//! (the right id), and one from another port of the same address (which
//! the socket itself drops). Then the query goes to dnsmasq and its
//! answer back to the guest. The relay notes each query's source port and
//! id.

use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use qemu_tests::netns::Namespace;

use super::{DNSMASQ, RELAY};

/// The address every forgery claims.
pub const FORGED: [u8; 4] = [6, 6, 6, 6];

/// A query as the relay saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The guest's source port.
    pub port: u16,
    /// The query id.
    pub id: u16,
}

/// The relay's thread; stopped on drop.
pub struct Relay {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// Listens on [`RELAY`]:53 (inside the namespace) and starts relaying.
    pub fn start(namespace: &Namespace) -> Relay {
        let sockets = namespace.run_inside(|| {
            let listen = UdpSocket::bind((RELAY, 53)).expect("the relay's port 53");
            let aside = UdpSocket::bind((RELAY, 5353)).expect("the relay's second port");
            let upstream = UdpSocket::bind((RELAY, 0)).expect("the upstream socket");
            (listen, aside, upstream)
        });
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::spawn(move || serve(sockets, &stop, &seen))
        };
        Relay {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    /// The queries relayed so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the relay's log").clone()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(sockets: (UdpSocket, UdpSocket, UdpSocket), stop: &AtomicBool, seen: &Mutex<Vec<Seen>>) {
    let (listen, aside, upstream) = sockets;
    let poll = Some(Duration::from_millis(50));
    listen.set_read_timeout(poll).expect("a timeout");
    upstream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("a timeout");
    let mut query = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        let Ok((length, SocketAddr::V4(guest))) = listen.recv_from(&mut query) else {
            continue;
        };
        let query = &query[..length];
        let id = u16::from_be_bytes([query[0], query[1]]);
        seen.lock().expect("the log").push(Seen {
            port: guest.port(),
            id,
        });
        lie(&listen, &aside, guest, query);
        relay(&upstream, &listen, guest, query);
    }
}

/// The three forgeries.
fn lie(listen: &UdpSocket, aside: &UdpSocket, guest: SocketAddrV4, query: &[u8]) {
    let mut wrong_id = forged_answer(query);
    wrong_id[0] ^= 0x5a;
    let _ = listen.send_to(&wrong_id, guest);
    let mut wrong_name = forged_answer(query);
    wrong_name[13] ^= 0x01; // the first letter of the question's name
    let _ = listen.send_to(&wrong_name, guest);
    let _ = aside.send_to(&forged_answer(query), guest);
}

/// Asks dnsmasq and hands its answer to the guest.
fn relay(upstream: &UdpSocket, listen: &UdpSocket, guest: SocketAddrV4, query: &[u8]) {
    if upstream.send_to(query, (DNSMASQ, 53)).is_err() {
        return;
    }
    let mut answer = [0u8; 1500];
    if let Ok(length) = upstream.recv(&mut answer) {
        let _ = listen.send_to(&answer[..length], guest);
    }
}

/// `query` answered with one record of its type holding [`FORGED`] (an
/// AAAA question gets it in its first four bytes).
fn forged_answer(query: &[u8]) -> Vec<u8> {
    let question_end = 12 + name_length(&query[12..]) + 4;
    let kind = [query[question_end - 4], query[question_end - 3]];
    let mut answer = query[..question_end].to_vec();
    answer[2] = 0x81; // QR, RD
    answer[3] = 0x80; // RA
    answer[6..12].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
    answer.extend_from_slice(&[0xc0, 12, kind[0], kind[1], 0, 1, 0, 0, 0x0e, 0x10]);
    let data: Vec<u8> = match kind {
        [0, 28] => FORGED.iter().copied().chain([0; 12]).collect(),
        _ => FORGED.to_vec(),
    };
    answer.extend_from_slice(&(data.len() as u16).to_be_bytes());
    answer.extend_from_slice(&data);
    answer
}

/// The length of the uncompressed name at the start of `bytes`.
fn name_length(bytes: &[u8]) -> usize {
    let mut at = 0;
    while let Some(&length) = bytes.get(at) {
        at += 1 + usize::from(length);
        if length == 0 {
            break;
        }
    }
    at
}
