//! Remote clients of a hosted kernel: sockets through the client
//! library, several clients at once, and blocking calls that hold up
//! nobody else.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use anykernel_client::proto::types::SocketKind;
use anykernel_client::{Client, Stubs, TcpListener, TcpStream, UdpSocket};
use common::{Served, fnv1a, pattern, within};

/// Bytes each client moves through the kernel.
const TRANSFER: usize = 512 * 1024;

/// One client: a listener and a connection to it over lo0 in the remote
/// kernel, `TRANSFER` bytes one way and their hash back.
fn transfer(address: &str, port: u16, seed: u64) -> (u64, u64) {
    let client = Client::connect(address).expect("connects");
    let listener = TcpListener::bind(&client, ("127.0.0.1", port)).expect("binds");
    let data = pattern(seed, TRANSFER);
    let sent_hash = fnv1a(&data);
    let sender_client = client.clone();
    let sender = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(&sender_client, ("127.0.0.1", port)).expect("connects");
        stream.write_all(&data).expect("sends");
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("shuts down");
    });
    let (mut stream, _) = listener.accept().expect("accepts");
    let mut received = Vec::with_capacity(TRANSFER);
    stream.read_to_end(&mut received).expect("receives");
    sender.join().expect("the sender ends");
    (sent_hash, fnv1a(&received))
}

#[test]
fn concurrent_clients_move_hash_checked_streams_over_lo0() {
    let served = Arc::new(Served::lo0("concurrent"));
    let threads = served.account("threads");
    let clients: Vec<_> = (0..4u16)
        .map(|index| {
            let address = served.address();
            std::thread::spawn(move || transfer(&address, 7100 + index, u64::from(index)))
        })
        .collect();
    for client in clients {
        let (sent, received) = client.join().expect("the client ends");
        assert_eq!(sent, received);
    }
    served.wait_idle(threads);
    assert_eq!(served.sockets(), 0, "every socket closed");
}

#[test]
fn a_blocked_accept_holds_up_neither_its_client_nor_another() {
    let served = Served::lo0("blocked");
    let address = served.address();
    let waiting = Client::connect(&address).expect("connects");
    let listener = Arc::new(TcpListener::bind(&waiting, "127.0.0.1:7200").expect("binds"));
    let accepted = Arc::new(AtomicBool::new(false));
    let (blocked, flag) = (listener.clone(), accepted.clone());
    let acceptor = std::thread::spawn(move || {
        let result = blocked.accept().map(|(_, peer)| peer);
        flag.store(true, SeqCst);
        result
    });
    // The same client goes on with other calls while its accept waits…
    within(10, {
        let waiting = waiting.clone();
        move || {
            for _ in 0..100 {
                waiting.null().expect("a null call");
            }
            let socket = UdpSocket::bind(&waiting, "127.0.0.1:0").expect("binds");
            socket.local_addr().expect("an address");
        }
    });
    // …and so does another client, through a whole transfer.
    let (sent, received) = within(30, move || transfer(&address, 7201, 9));
    assert_eq!(sent, received);
    assert!(!accepted.load(SeqCst), "nothing connected to 7200 yet");
    let other = Client::connect(&served.address()).expect("connects");
    let _stream = TcpStream::connect(&other, "127.0.0.1:7200").expect("connects");
    let peer = within(10, move || acceptor.join().expect("no panic")).expect("accepted");
    assert_eq!(peer.ip().to_string(), "127.0.0.1");
}

#[test]
fn datagrams_and_socket_calls_behave_as_in_std() {
    let served = Served::lo0("datagrams");
    let client = Client::connect(&served.address()).expect("connects");
    let one = UdpSocket::bind(&client, "127.0.0.1:7300").expect("binds");
    let two = UdpSocket::bind(&client, "127.0.0.1:0").expect("binds");
    two.send_to(b"over there", "127.0.0.1:7300").expect("sends");
    let mut buffer = [0u8; 64];
    let (length, from) = one.recv_from(&mut buffer).expect("receives");
    assert_eq!(
        (&buffer[..length], from),
        (&b"over there"[..], two.local_addr().expect("bound"))
    );
    let refused = TcpStream::connect(&client, "127.0.0.1:1").expect_err("nobody listens");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let taken = TcpListener::bind(&client, "127.0.0.1:7301").expect("binds");
    let again = TcpListener::bind(&client, "127.0.0.1:7301").expect_err("in use");
    assert_eq!(again.kind(), std::io::ErrorKind::AddrInUse);
    taken.set_nonblocking(true).expect("sets");
    let would_block = taken.accept().expect_err("no connection yet");
    assert_eq!(would_block.kind(), std::io::ErrorKind::WouldBlock);
    let bad = client.close(anykernel_client::proto::types::Descriptor(999));
    assert!(matches!(
        bad,
        Err(anykernel_client::Error::Errno(
            anykernel_client::proto::Errno::BadDescriptor
        ))
    ));
}

#[test]
fn a_client_reaches_only_its_own_descriptors_and_loses_them_when_it_goes() {
    let served = Served::lo0("descriptors");
    let threads = served.account("threads");
    let sessions = served.account("sysproxy");
    assert_eq!(sessions, 0);
    let first = Client::connect(&served.address()).expect("connects");
    let second = Client::connect(&served.address()).expect("connects");
    let mine = first.socket(SocketKind::Stream).expect("a socket");
    assert!(
        second.local_address(mine).is_err(),
        "the other client's number means nothing here"
    );
    for _ in 0..10 {
        first.socket(SocketKind::Datagram).expect("a socket");
    }
    assert_eq!(served.sockets(), 11);
    drop(first);
    common::wait_for("the gone client's sockets to close", || {
        served.sockets() == 0
    });
    second.null().expect("the other client goes on");
    drop(second);
    served.wait_idle(threads);
}
