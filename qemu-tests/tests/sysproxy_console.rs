//! The appliance driven from host-side Rust over its virtio console.
//!
//! Each test boots the appliance with `sysproxy=console` and Unix sockets
//! as ports of its virtio console (`ConsoleSocket`), then makes system
//! calls in the guest's kernel through the client library, exactly as
//! against a hosted kernel's socket: a TCP connection from the guest's
//! stack to Linux's in a namespace, hash-checked both ways; an address
//! and a route changed on the running guest, taking effect; a client
//! gone mid-call, cleaned up, the port's next client served while a
//! client on another port stays. q35's virtio-serial-pci and microvm's
//! virtio-mmio both serve. The first two need root (a tap in a network
//! namespace): they are `#[ignore = "needs root: …"]` and run in the
//! root-only QEMU stage of `cargo xtask test`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anykernel_client::proto::calls::call;
use anykernel_client::proto::frame;
use anykernel_client::proto::handshake::{Greeting, Hello};
use anykernel_client::proto::types::{Descriptor, InterfaceAddress, SocketKind};
use anykernel_client::proto::{FrameReader, Status};
use anykernel_client::{Client, Stubs, TcpListener, TcpStream};
use qemu_tests::netns::{HOST_ADDRESS, Namespace, missing_privilege};
use qemu_tests::protocol::READY_MARKER;
use qemu_tests::{ConsoleSocket, Machine, Qemu, QemuConfig, appliance_image, boot};

/// The guest's address on the tap.
const GUEST: &str = "192.168.77.2";
/// How long a boot or an exchange may take.
const DEADLINE: Duration = Duration::from_secs(60);
/// Bytes moved each way in the transfer test.
const TRANSFER: usize = 512 * 1024;

/// A booted appliance and its console sockets.
struct Guest {
    _qemu: Qemu,
    sockets: Vec<PathBuf>,
}

impl Guest {
    /// Boots `config` with `count` console sockets named after `tag`.
    fn boot(config: QemuConfig, tag: &str, count: usize) -> Guest {
        let sockets: Vec<PathBuf> = (0..count)
            .map(|index| {
                let name = format!(
                    "anykernel-console-{tag}-{}-{index}.sock",
                    std::process::id()
                );
                std::env::temp_dir().join(name)
            })
            .collect();
        let mut config = config.param(ConsoleSocket::PARAMETER);
        for path in &sockets {
            let _ = std::fs::remove_file(path);
            config = config.console(ConsoleSocket::new(path));
        }
        let mut qemu = boot(&config);
        qemu.expect_line(READY_MARKER, DEADLINE);
        Guest {
            _qemu: qemu,
            sockets,
        }
    }

    /// The address of console socket `index` for the client library.
    fn address(&self, index: usize) -> String {
        format!("unix:{}", self.sockets[index].display())
    }

    fn client(&self, index: usize) -> Client {
        Client::connect(&self.address(index)).expect("the guest's kernel greets the client")
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        for path in &self.sockets {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The appliance on the tap of `namespace` at [`GUEST`].
fn on_tap(namespace: &Namespace, tag: &str) -> Guest {
    if let Some(reason) = missing_privilege(&[]) {
        panic!("this test needs root and /dev/net/tun: {reason}");
    }
    let config = namespace.appliance_config(Machine::Q35, &[&format!("ip={GUEST}/24")]);
    Guest::boot(config, tag, 1)
}

/// `length` bytes of a stream seeded by `seed`.
fn pattern(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    (0..length).map(|_| next()).collect()
}

/// FNV-1a over `bytes`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A listener of Linux's inside `namespace` on `address`, port chosen.
fn linux_listener(namespace: &Namespace, address: &str) -> std::net::TcpListener {
    let address = format!("{address}:0");
    namespace
        .run_inside(move || std::net::TcpListener::bind(address))
        .expect("Linux listens")
}

/// Linux's side of the transfer: reads `TRANSFER` bytes, answers
/// `reply`, returns the hash of what it read.
fn linux_peer(listener: std::net::TcpListener, reply: Vec<u8>) -> u64 {
    let (mut stream, _) = listener.accept().expect("the guest connects");
    stream.set_read_timeout(Some(DEADLINE)).expect("a deadline");
    let mut received = vec![0; TRANSFER];
    stream.read_exact(&mut received).expect("the guest's bytes");
    stream.write_all(&reply).expect("Linux's bytes go");
    stream.shutdown(Shutdown::Write).expect("shuts down");
    fnv1a(&received)
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's TCP as the peer"]
fn a_guest_socket_moves_hashed_data_both_ways_with_a_linux_peer() {
    let namespace = Namespace::new("spctcp");
    let guest = on_tap(&namespace, "tcp");
    let listener = linux_listener(&namespace, HOST_ADDRESS);
    let port = listener.local_addr().expect("bound").port();
    let (up, down) = (pattern(1, TRANSFER), pattern(2, TRANSFER));
    let reply = down.clone();
    let peer = std::thread::spawn(move || linux_peer(listener, reply));
    let client = guest.client(0);
    let mut stream = TcpStream::connect(&client, (HOST_ADDRESS, port)).expect("the guest connects");
    stream.write_all(&up).expect("the guest's bytes go");
    let mut received = Vec::new();
    stream.read_to_end(&mut received).expect("Linux's bytes");
    assert_eq!(
        peer.join().expect("the peer"),
        fnv1a(&up),
        "Linux got the guest's bytes"
    );
    assert_eq!(received.len(), TRANSFER);
    assert_eq!(
        fnv1a(&received),
        fnv1a(&down),
        "the guest got Linux's bytes"
    );
}

/// One echo through the appliance's echo service at `address` from
/// inside `namespace`.
fn echoes(namespace: &Namespace, address: &str) -> bool {
    let address = format!("{address}:7");
    namespace.run_inside(move || {
        let target = address.parse().expect("an address");
        let Ok(mut stream) = std::net::TcpStream::connect_timeout(&target, DEADLINE) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(DEADLINE));
        let mut answer = [0u8; 5];
        stream.write_all(b"hello").is_ok()
            && stream.read_exact(&mut answer).is_ok()
            && &answer == b"hello"
    })
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's TCP as the peer"]
fn an_address_and_a_route_changed_remotely_take_effect() {
    let namespace = Namespace::new("spcctl");
    namespace.exec(&["ip", "addr", "add", "10.99.0.1/32", "dev", "lo"]);
    let guest = on_tap(&namespace, "ctl");
    let client = guest.client(0);
    let moved = InterfaceAddress {
        address: Ipv4Addr::new(192, 168, 77, 9),
        prefix_length: 24,
    };
    client
        .set_interface_address("vioif0".into(), Some(moved))
        .expect("the address changes");
    assert!(
        echoes(&namespace, "192.168.77.9"),
        "the guest answers at its new address"
    );
    let listener = linux_listener(&namespace, "10.99.0.1");
    let port = listener.local_addr().expect("bound").port();
    let unrouted = TcpStream::connect(&client, ("10.99.0.1", port));
    assert!(unrouted.is_err(), "no route to 10.99.0.0/24 yet");
    let (destination, gateway) = (Ipv4Addr::new(10, 99, 0, 0), HOST_ADDRESS.parse().ok());
    client
        .add_route(destination, 24, gateway, "vioif0".into())
        .expect("the route is added");
    let accepted = std::thread::spawn(move || listener.accept().map(|(_, peer)| peer));
    let stream = TcpStream::connect(&client, ("10.99.0.1", port)).expect("routed now");
    let peer = accepted.join().expect("the listener").expect("accepted");
    assert_eq!(
        peer.ip().to_string(),
        "192.168.77.9",
        "from the new address"
    );
    drop(stream);
}

/// A raw client on `path` that says hello, then leaves an `accept` in
/// flight on 127.0.0.1:`port` and hangs up.
fn leave_mid_call(path: &PathBuf, port: u16) {
    let mut stream = UnixStream::connect(path).expect("connects");
    stream.set_read_timeout(Some(DEADLINE)).expect("a deadline");
    let mut reader = FrameReader::new();
    stream
        .write_all(&frame::encode::<_, ()>(&Hello::new(None), None))
        .expect("hello");
    let greeting: Greeting = frame::decode(&next_body(&mut stream, &mut reader)).expect("decodes");
    assert!(matches!(greeting, Greeting::Welcome(_)), "{greeting:?}");
    let fd = Descriptor(0);
    let address = format!("127.0.0.1:{port}").parse().expect("an address");
    let kind = SocketKind::Stream;
    stream
        .write_all(&frame::request(1, &call::Socket { kind }))
        .expect("sent");
    stream
        .write_all(&frame::request(2, &call::Bind { fd, address }))
        .expect("sent");
    stream
        .write_all(&frame::request(3, &call::Listen { fd, backlog: 4 }))
        .expect("sent");
    stream
        .write_all(&frame::request(4, &call::Accept { fd }))
        .expect("sent");
    for _ in 1..=3 {
        let body = next_body(&mut stream, &mut reader);
        let header = frame::split_reply(&body).expect("a reply").0;
        assert_eq!(header.status, Status::Done);
    }
}

/// The next frame's body from `stream`.
fn next_body(stream: &mut UnixStream, reader: &mut FrameReader) -> Vec<u8> {
    loop {
        if let Some(body) = reader.next_frame().expect("well-formed frames") {
            return body;
        }
        let count = stream.read(reader.spare()).expect("within the deadline");
        assert_ne!(count, 0, "the guest hung up");
        reader.filled(count);
    }
}

#[test]
fn a_client_gone_mid_call_is_cleaned_up_and_the_next_served_on_microvm() {
    let config = QemuConfig::kernel(appliance_image()).machine(Machine::Microvm);
    let guest = Guest::boot(config, "midcall", 2);
    let staying = guest.client(0);
    leave_mid_call(&guest.sockets[1], 7400);
    let next = guest.client(1);
    let started = Instant::now();
    let listener = loop {
        match TcpListener::bind(&next, ("127.0.0.1", 7400)) {
            Ok(listener) => break listener,
            Err(error) if started.elapsed() < DEADLINE => {
                eprintln!("port 7400 not free yet: {error}");
                // The guest frees the gone client's listener on its own
                // and tells the host nothing: try again within the deadline.
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(error) => panic!("the gone client's listener was never closed: {error}"),
        }
    };
    drop(listener);
    next.null().expect("the next client is served");
    staying
        .null()
        .expect("the client on the other port stays served");
}
