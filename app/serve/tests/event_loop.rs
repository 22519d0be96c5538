//! The event loop in a hosted kernel, its clients on lo0: many connections
//! on one thread, the connection limit, the idle timeout, back-pressure,
//! and a peer that half-closes while its echo is still on the way.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use hypercall_posix::{ConsoleSink, ExitMode, Posix, PosixConfig};
use kernel::base::thread::THREAD_BYTES;
use kernel::net::{Errno, Fd, Net, PollEvents, PollFd, Shutdown, SocketOption, SocketType};
use kernel::{Context, Kernel};
use serve::{Counters, Io, Limits, Protocol, Service, Want};

const SECOND: u64 = 1_000_000_000;
/// How long a client waits for an answer that should come.
const ANSWER_DEADLINE: u64 = 10 * SECOND;

/// Every byte back, with a send buffer of this size if any.
struct Echo(Option<usize>);

impl Protocol for Echo {
    type Session = ();

    fn open(&self, io: &mut Io<'_, '_>) -> ((), Want) {
        if let Some(bytes) = self.0 {
            let option = SocketOption::SendBuffer(bytes);
            io.net().set_option(io.context(), io.fd(), option).unwrap();
        }
        ((), Want::Input)
    }

    fn advance(&self, _session: &mut (), input: &[u8], io: &mut Io<'_, '_>) -> Want {
        io.send(input);
        Want::Input
    }
}

fn boot() -> Arc<Kernel> {
    let host = Posix::new(PosixConfig {
        console: ConsoleSink::Stderr,
        exit: ExitMode::Unwind,
        ..PosixConfig::default()
    });
    kernel::boot(host).expect("a hosted kernel boots")
}

/// Starts an echo service on `port` with `limits`.
fn echo(context: &Context<'_>, net: &Arc<Net>, port: u16, limits: Limits) -> Arc<Counters> {
    echo_with(context, net, port, limits, Echo(None))
}

fn echo_with(
    context: &Context<'_>,
    net: &Arc<Net>,
    port: u16,
    limits: Limits,
    protocol: Echo,
) -> Arc<Counters> {
    let counters = Arc::new(Counters::default());
    let service = Service {
        name: "echo",
        port,
        limits,
        protocol,
    };
    serve::listen(context, net, service, counters.clone()).expect("the service starts");
    counters
}

fn client(context: &Context<'_>, net: &Net, port: u16) -> Fd {
    let fd = net.socket(context, SocketType::Stream).unwrap();
    let address = std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port);
    net.connect(context, fd, address).expect("connect");
    fd
}

/// Reads exactly `buffer.len()` bytes, or fails past `deadline_ns`
/// (`Err(0)` at end of stream, else how many came).
fn read_exact(context: &Context<'_>, net: &Net, fd: Fd, buffer: &mut [u8]) -> Result<(), usize> {
    let deadline = context.now_ns() + ANSWER_DEADLINE;
    let mut got = 0;
    while got < buffer.len() {
        if !readable_before(context, net, fd, deadline) {
            return Err(got);
        }
        match net.read(context, fd, &mut buffer[got..]) {
            Ok(0) => return Err(0),
            Ok(count) => got += count,
            Err(Errno::WouldBlock) => {}
            Err(error) => panic!("read: {error}"),
        }
    }
    Ok(())
}

fn readable_before(context: &Context<'_>, net: &Net, fd: Fd, deadline: u64) -> bool {
    let mut poll = [PollFd::new(fd, PollEvents::READABLE)];
    let left = deadline.saturating_sub(context.now_ns());
    net.poll(context, &mut poll, Some(left)).unwrap() > 0
}

fn account_bytes(kernel: &Kernel, name: &str) -> usize {
    let accounts = kernel.memory().accounts();
    let account = accounts.iter().find(|account| account.name == name);
    account.map_or(0, |account| account.bytes)
}

#[test]
fn one_thread_serves_a_thousand_connections_each_its_own_echo() {
    let kernel = boot();
    let context = kernel.enter().unwrap();
    let net = Net::of(&context).unwrap();
    let threads_before = account_bytes(&kernel, "threads");
    let counters = echo(&context, &net, 7, Limits::default());
    let clients: Vec<Fd> = (0..1000).map(|_| client(&context, &net, 7)).collect();
    for (number, &fd) in clients.iter().enumerate() {
        let message = format!("client {number:04}");
        net.write(&context, fd, message.as_bytes()).unwrap();
    }
    for (number, &fd) in clients.iter().enumerate() {
        let mut back = [0u8; 11];
        read_exact(&context, &net, fd, &mut back).expect("the echo");
        assert_eq!(back, format!("client {number:04}").as_bytes());
    }
    assert_eq!(counters.open.load(Relaxed), 1000);
    let threads = account_bytes(&kernel, "threads") - threads_before;
    assert_eq!(
        threads, THREAD_BYTES,
        "one thread for the service, none per connection"
    );
}

#[test]
fn at_its_limit_the_service_leaves_connections_in_the_backlog() {
    let kernel = boot();
    let context = kernel.enter().unwrap();
    let net = Net::of(&context).unwrap();
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let counters = echo(&context, &net, 7, limits);
    let clients: Vec<Fd> = (0..3).map(|_| client(&context, &net, 7)).collect();
    for &fd in &clients {
        net.write(&context, fd, b"ping").unwrap();
    }
    let mut back = [0u8; 4];
    for &fd in &clients[..2] {
        read_exact(&context, &net, fd, &mut back).expect("served");
    }
    let soon = context.now_ns() + SECOND / 5;
    assert!(
        !readable_before(&context, &net, clients[2], soon),
        "not served yet"
    );
    net.close(&context, clients[0]).unwrap();
    read_exact(&context, &net, clients[2], &mut back).expect("served once a place is free");
    assert_eq!(&back, b"ping");
    assert_eq!(counters.refused.load(Relaxed), 0, "nobody was turned away");
    assert_eq!(counters.connections.load(Relaxed), 3);
}

#[test]
fn a_connection_silent_past_the_idle_timeout_is_closed() {
    let kernel = boot();
    let context = kernel.enter().unwrap();
    let net = Net::of(&context).unwrap();
    let limits = Limits {
        idle_timeout_ns: SECOND / 10,
        ..Limits::default()
    };
    let counters = echo(&context, &net, 7, limits);
    let fd = client(&context, &net, 7);
    let mut byte = [0u8; 1];
    assert_eq!(read_exact(&context, &net, fd, &mut byte), Err(0), "closed");
    assert_eq!(counters.timed_out.load(Relaxed), 1);
    assert_eq!(counters.open.load(Relaxed), 0);
}

/// Writes the pattern from `offset` until the socket is full; the new
/// offset.
fn fill(context: &Context<'_>, net: &Net, fd: Fd, mut offset: usize) -> usize {
    loop {
        let chunk: Vec<u8> = (offset..offset + 4096).map(pattern).collect();
        match net.write(context, fd, &chunk) {
            Ok(count) => offset += count,
            Err(Errno::WouldBlock) => return offset,
            Err(error) => panic!("write: {error}"),
        }
    }
}

fn pattern(offset: usize) -> u8 {
    (offset % 251) as u8
}

/// Reads until `total` bytes came back, checking the pattern.
fn drain(context: &Context<'_>, net: &Net, fd: Fd, total: usize) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < total {
        let want = (total - got).min(buffer.len());
        read_exact(context, net, fd, &mut buffer[..want]).expect("the echo");
        for (index, &byte) in buffer[..want].iter().enumerate() {
            assert_eq!(byte, pattern(got + index), "byte {}", got + index);
        }
        got += want;
    }
}

#[test]
fn a_peer_that_does_not_read_holds_one_read_of_output_at_most() {
    let kernel = boot();
    let context = kernel.enter().unwrap();
    let net = Net::of(&context).unwrap();
    echo(&context, &net, 7, Limits::default());
    let fd = client(&context, &net, 7);
    net.set_option(&context, fd, SocketOption::NonBlocking(true))
        .unwrap();
    let mut written = fill(&context, &net, fd, 0);
    for _ in 0..3 {
        written = fill(&context, &net, fd, written);
        let held = account_bytes(&kernel, serve::ACCOUNT);
        // The loop's two 16 KiB buffers, its tables, one outbox.
        assert!(held < 96 * 1024, "the service holds {held} bytes");
    }
    drain(&context, &net, fd, written);
}

/// The peer sends its last bytes and its FIN, and does not read yet:
/// the loop reads everything, the FIN included, and is left with output
/// that its full send buffer will not take, a state `poll` reports as a
/// hang-up on every call. The connection is parked instead of polled
/// (which would spin), and all of the echo still arrives.
#[test]
fn a_peer_that_half_closes_with_its_echo_on_the_way_gets_all_of_it() {
    const SMALL: usize = 4096;
    let kernel = boot();
    let context = kernel.enter().unwrap();
    let net = Net::of(&context).unwrap();
    let counters = echo_with(&context, &net, 7, Limits::default(), Echo(Some(SMALL)));
    let fd = net.socket(&context, SocketType::Stream).unwrap();
    net.set_option(&context, fd, SocketOption::ReceiveBuffer(SMALL))
        .unwrap();
    let address = std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 7);
    net.connect(&context, fd, address).unwrap();
    let total = 3 * SMALL;
    let data: Vec<u8> = (0..total).map(pattern).collect();
    assert_eq!(net.write(&context, fd, &data), Ok(total));
    net.shutdown(&context, fd, Shutdown::Write).unwrap();
    let deadline = context.now_ns() + ANSWER_DEADLINE;
    while counters.parked.load(Relaxed) == 0 {
        assert!(
            context.now_ns() < deadline,
            "the connection was never parked"
        );
        context.sleep_until(context.now_ns() + SECOND / 1000);
    }
    drain(&context, &net, fd, total);
    let mut byte = [0u8; 1];
    assert_eq!(
        read_exact(&context, &net, fd, &mut byte),
        Err(0),
        "then closed"
    );
    assert_eq!(counters.open.load(Relaxed), 0);
}
