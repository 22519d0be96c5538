//! Waiting on remote sockets: Python's `select.epoll` through each rule
//! (mixed with a local pipe, time limits, one-shot, errors), Debian's
//! ncat, whose event engine is epoll, moving a stream both ways, and
//! SO_RCVTIMEO and SO_SNDTIMEO. The peers are sockets the test opens in a
//! hosted kernel over its lo0; no root needed.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

use anykernel_client::TcpListener;
use common::{
    Served, background, connect_when_listening, finish, hash, hijacked, pattern, python, require,
};

/// Bytes ncat moves each way.
const TRANSFER: usize = 1 << 20;

/// Every rule of the remote epoll, asserted from inside the program; the
/// server answers "ping" with "pong" and then ends its side.
const SCRIPT: &str = r#"
import os, select, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ep = select.epoll()
r, w = os.pipe()
ep.register(s.fileno(), select.EPOLLIN)
ep.register(r, select.EPOLLIN)
try:
    ep.register(s.fileno(), select.EPOLLIN); sys.exit("added twice")
except FileExistsError: pass
try:
    ep.modify(other.fileno(), select.EPOLLIN); sys.exit("modified what is not there")
except FileNotFoundError: pass
assert ep.poll(0.2) == [], "nothing is ready yet"
os.write(w, b"x")
assert ep.poll(5) == [(r, select.EPOLLIN)], "the local pipe alone"
os.read(r, 1)
s.sendall(b"ping")
assert ep.poll(5) == [(s.fileno(), select.EPOLLIN)], "the remote socket alone"
assert s.recv(4) == b"pong"
ep.modify(s.fileno(), select.EPOLLOUT | select.EPOLLONESHOT)
os.write(w, b"y")
got = sorted(ep.poll(5))
assert got == sorted([(s.fileno(), select.EPOLLOUT), (r, select.EPOLLIN)]), got
os.read(r, 1)
assert ep.poll(0.1) == [], "a one-shot interest reports once"
ep.modify(s.fileno(), select.EPOLLIN | select.EPOLLET)
s.sendall(b"done")
events = dict(ep.poll(5))
assert events.get(s.fileno(), 0) & select.EPOLLIN, events
assert s.recv(16) == b"", "the server ended its side"
ep.unregister(s.fileno())
try:
    ep.unregister(s.fileno()); sys.exit("removed twice")
except FileNotFoundError: pass
s.close(); other.close(); ep.close()
print("ok")
"#;

#[test]
fn python_epoll_mixes_local_and_remote_with_linux_rules() {
    require("python3", "python3");
    let served = Served::lo0("epoll");
    let client = served.client();
    let listener = TcpListener::bind(&client, "127.0.0.1:7101").expect("listens");
    let server = background(move || {
        let (mut stream, _) = listener.accept().expect("python connects");
        let mut word = [0u8; 4];
        stream.read_exact(&mut word).expect("a ping");
        stream.write_all(b"pong").expect("answers");
        stream.read_exact(&mut word).expect("a done");
        stream.shutdown(std::net::Shutdown::Write).expect("ends");
        word
    });
    let said = python(&served, SCRIPT, 7101);
    assert!(said.contains("epoll_wait"), "no remote epoll_wait:\n{said}");
    assert_eq!(&server.wait(10, "the server"), b"done");
}

#[test]
fn ncat_on_its_epoll_engine_moves_a_stream_both_ways_intact() {
    require("ncat", "ncat");
    let served = Served::lo0("ncat");
    let client = served.client();
    let data = pattern(3, TRANSFER);
    let listener = TcpListener::bind(&client, "127.0.0.1:7102").expect("listens");
    let reader = background(move || {
        let (mut stream, _) = listener.accept().expect("ncat connects");
        let mut received = Vec::new();
        stream.read_to_end(&mut received).expect("reads to the end");
        received
    });
    let mut ncat = hijacked(&served, "ncat");
    // A pipe, not a file, on standard input: epoll refuses regular files.
    ncat.args([
        "--nsock-engine",
        "epoll",
        "--send-only",
        "127.0.0.1",
        "7102",
    ])
    .stdin(Stdio::piped())
    .stderr(Stdio::piped());
    let mut sender = ncat.spawn().expect("ncat starts");
    let mut input = sender.stdin.take().expect("a pipe");
    let sent = data.clone();
    let feeder = background(move || input.write_all(&sent).expect("ncat reads its input"));
    let output = finish(sender, 60, "ncat sending");
    feeder.wait(10, "the feeder");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    let received = reader.wait(10, "the reader");
    assert_eq!((received.len(), hash(&received)), (TRANSFER, hash(&data)));
    let mut ncat = hijacked(&served, "ncat");
    ncat.args([
        "--nsock-engine",
        "epoll",
        "--recv-only",
        "-l",
        "127.0.0.1",
        "7103",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let receiver = ncat.spawn().expect("ncat starts");
    let writer = background(move || {
        let mut stream = connect_when_listening(&client, 7103);
        stream.write_all(&data).expect("sends");
        stream.shutdown(std::net::Shutdown::Write).expect("ends");
        data
    });
    let output = finish(receiver, 60, "ncat receiving");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    let data = writer.wait(10, "the writer");
    let received = (output.stdout.len(), hash(&output.stdout));
    assert_eq!(received, (TRANSFER, hash(&data)));
}

/// SO_RCVTIMEO on a receive and an accept, SO_SNDTIMEO kept, from the
/// program's side; the server answers "ping" with "pong".
const TIMEOUTS: &str = r#"
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
limit = struct.pack("ll", 0, 200000)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
assert s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16) == limit
started = time.monotonic()
try:
    s.recv(4); sys.exit("a receive with nothing there returned")
except BlockingIOError: pass
waited = time.monotonic() - started
assert 0.15 < waited < 10, waited
s.sendall(b"ping")
assert s.recv(4) == b"pong"
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 1, 0))
sent = struct.unpack("ll", s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, 16))
assert sent == (1, 0), sent
try:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 1000000))
    sys.exit("a timeval past a second was taken")
except OSError as error:
    assert error.errno == 33, error
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
try:
    listener.accept(); sys.exit("an accept with nobody there returned")
except BlockingIOError: pass
print("ok")
"#;

#[test]
fn receive_and_send_time_limits_end_blocking_calls_with_eagain() {
    require("python3", "python3");
    let served = Served::lo0("timeouts");
    let client = served.client();
    let listener = TcpListener::bind(&client, "127.0.0.1:7104").expect("listens");
    let server = background(move || {
        let (mut stream, _) = listener.accept().expect("python connects");
        let mut ping = [0u8; 4];
        stream.read_exact(&mut ping).expect("a ping");
        stream.write_all(b"pong").expect("answers");
        ping
    });
    python(&served, TIMEOUTS, 7104);
    assert_eq!(&server.wait(10, "the server"), b"ping");
}
