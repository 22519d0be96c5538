//! `TcpStream` on lo0 of a hosted kernel, through the embedded-io traits.
//!
//! A client and a server thread exchange data with `Read` and `Write`
//! only (the sockets are opened, connected and closed with [`Net`]'s
//! calls): a request to end of stream, an answer to end of stream, then a
//! write after the peer has gone. The whole exchange runs under one
//! deadline, so a hang fails the test instead of stalling it.

use core::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use std::vec::Vec;

use base::{BootConfig, Kernel};
use embedded_io::{Error as _, ErrorKind, Read, ReadReady, Write, WriteReady};
use hypercall_posix::{Posix, PosixConfig};

use super::TcpStream;
use crate::components;
use crate::socket::{Errno, PollEvents, PollFd, Shutdown, SocketType};
use crate::{Fd, Net};

const PORT: u16 = 7000;
const REQUEST: usize = 300 * 1024;
const ANSWER: usize = 200 * 1024;
/// How long any one test may take, waits included.
const DEADLINE: Duration = Duration::from_secs(60);

/// A hosted kernel with the net faction and lo0 only.
fn boot() -> Arc<Kernel> {
    let host = Posix::new(PosixConfig::default());
    let config = BootConfig {
        components: &components::ALL,
    };
    Kernel::boot(host, config).expect("a hosted kernel with lo0 boots")
}

/// Runs `test` on its own thread; fails if it takes longer than DEADLINE.
fn within_deadline(test: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        test();
        let _ = done.send(());
    });
    if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(DEADLINE) {
        panic!("the exchange did not finish within {DEADLINE:?}");
    }
    // Finished, or panicked (which the join passes on).
    thread.join().expect("the test thread");
}

/// Byte `index` of a stream seeded with `seed`.
fn pattern(seed: u8, index: usize) -> u8 {
    (index as u8).wrapping_mul(31).wrapping_add(seed) ^ (index >> 8) as u8
}

fn patterned(seed: u8, length: usize) -> Vec<u8> {
    (0..length).map(|index| pattern(seed, index)).collect()
}

/// Reads to end of stream through the trait.
fn read_to_end(stream: &mut impl Read) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer).expect("read") {
            0 => return bytes,
            count => bytes.extend_from_slice(&buffer[..count]),
        }
    }
}

fn listen(context: &base::Context<'_>, net: &Net) -> Fd {
    let fd = net.socket(context, SocketType::Stream).expect("socket");
    let here = SocketAddrV4::new(Ipv4Addr::LOCALHOST, PORT);
    net.bind(context, fd, here).expect("bind");
    net.listen(context, fd, 1).expect("listen");
    fd
}

/// Accepts one connection, reads the request to its end, answers, closes.
fn serve(kernel: &Kernel, listener: Fd) -> Vec<u8> {
    let context = kernel.enter().expect("enter");
    let net = Net::of(&context).expect("net");
    let (fd, _) = net.accept(&context, listener).expect("accept");
    let mut stream = TcpStream::new(&net, &context, fd).expect("a TCP socket");
    let request = read_to_end(&mut stream);
    stream.write_all(&patterned(2, ANSWER)).expect("answer");
    stream.flush().expect("flush");
    net.close(&context, fd).expect("close");
    request
}

#[test]
fn client_and_server_exchange_through_the_traits_to_end_of_stream() {
    within_deadline(|| {
        let kernel = boot();
        let listener = {
            let context = kernel.enter().expect("enter");
            listen(&context, &Net::of(&context).expect("net"))
        };
        let server = {
            let kernel = kernel.clone();
            std::thread::spawn(move || serve(&kernel, listener))
        };
        let context = kernel.enter().expect("enter");
        let net = Net::of(&context).expect("net");
        let fd = net.socket(&context, SocketType::Stream).expect("socket");
        let there = SocketAddrV4::new(Ipv4Addr::LOCALHOST, PORT);
        net.connect(&context, fd, there).expect("connect");
        let mut stream = TcpStream::new(&net, &context, fd).expect("a TCP socket");
        assert_eq!(stream.write_ready(), Ok(true), "a new connection has room");
        assert_eq!(stream.write(&[]), Ok(0));
        stream.write_all(&patterned(1, REQUEST)).expect("request");
        net.shutdown(&context, fd, Shutdown::Write)
            .expect("end the request");
        let answer = read_to_end(&mut stream);
        assert_eq!(answer, patterned(2, ANSWER), "the answer arrives whole");
        assert_eq!(stream.read(&mut [0u8; 16]), Ok(0), "end of stream stays");
        assert_eq!(stream.read_ready(), Ok(true), "end of stream is ready");
        let request = server.join().expect("the server thread");
        assert_eq!(request, patterned(1, REQUEST), "the request arrives whole");
        // The stream only borrowed the socket: it is still open.
        assert!(net.local_address(&context, fd).is_ok(), "the fd is open");
        net.close(&context, fd).expect("close");
        drop(context);
        kernel.shutdown();
    });
}

#[test]
fn a_write_after_the_peer_is_gone_fails_with_an_error_kind() {
    within_deadline(|| {
        let kernel = boot();
        let context = kernel.enter().expect("enter");
        let net = Net::of(&context).expect("net");
        let listener = listen(&context, &net);
        let fd = net.socket(&context, SocketType::Stream).expect("socket");
        let there = SocketAddrV4::new(Ipv4Addr::LOCALHOST, PORT);
        net.connect(&context, fd, there).expect("connect");
        let (peer, _) = net.accept(&context, listener).expect("accept");
        net.close(&context, peer).expect("the peer closes");
        let mut stream = TcpStream::new(&net, &context, fd).expect("a TCP socket");
        assert_eq!(
            read_to_end(&mut stream),
            Vec::<u8>::new(),
            "the peer's FIN: end of stream"
        );
        // The peer's TCP answers data for a closed socket with a reset.
        stream
            .write_all(b"anyone there?")
            .expect("the first write goes out");
        let mut gone = [PollFd::new(fd, PollEvents::NONE)];
        let waited = net.poll(&context, &mut gone, Some(10_000_000_000));
        assert_eq!(waited, Ok(1), "the reset arrives within 10 s");
        assert_eq!(stream.write_ready(), Ok(true), "the error is ready");
        let error = stream
            .write(b"hello?")
            .expect_err("a write after the reset");
        assert_eq!(error, Errno::ConnectionReset);
        assert_eq!(error.kind(), ErrorKind::ConnectionReset);
        let error = stream.write(b"hello?").expect_err("and after that");
        assert_eq!(error.kind(), ErrorKind::NotConnected);
        drop(context);
        kernel.shutdown();
    });
}

#[test]
fn only_open_tcp_sockets_become_streams() {
    let kernel = boot();
    let context = kernel.enter().expect("enter");
    let net = Net::of(&context).expect("net");
    let udp = net.socket(&context, SocketType::Datagram).expect("socket");
    let refused = TcpStream::new(&net, &context, udp).map(|_| ());
    assert_eq!(refused, Err(Errno::NotSupported));
    net.close(&context, udp).expect("close");
    let closed = TcpStream::new(&net, &context, udp).map(|_| ());
    assert_eq!(closed, Err(Errno::BadDescriptor));
    assert_eq!(closed.unwrap_err().kind(), ErrorKind::InvalidInput);
    drop(context);
    kernel.shutdown();
}

#[test]
fn errnos_map_to_the_nearest_kind() {
    let kinds = [
        (Errno::ConnectionRefused, ErrorKind::ConnectionRefused),
        (Errno::BrokenPipe, ErrorKind::BrokenPipe),
        (Errno::TimedOut, ErrorKind::TimedOut),
        (Errno::NotConnected, ErrorKind::NotConnected),
        (Errno::NoBuffers, ErrorKind::OutOfMemory),
        (Errno::NoNetwork, ErrorKind::Unsupported),
        (Errno::WouldBlock, ErrorKind::Other),
        (Errno::PermissionDenied, ErrorKind::PermissionDenied),
        (Errno::NotFound, ErrorKind::NotFound),
    ];
    for (errno, kind) in kinds {
        assert_eq!(errno.kind(), kind, "{errno}");
    }
}
