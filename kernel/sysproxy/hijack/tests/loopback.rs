//! Unmodified Linux programs (curl, nc) on a hosted kernel's stack, over
//! its lo0: the peer is a socket the test opens in the same kernel with
//! the client library, so what the program reaches exists only there.
//! No root needed.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

use anykernel_client::{TcpListener, TcpStream, UdpSocket};
use common::{
    Scratch, Served, background, connect_when_listening, finish, hash, hijacked, pattern, python,
    require,
};

/// Reads a request head from `stream` (up to the blank line).
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let count = stream.read(&mut byte).expect("a request");
        assert_eq!(count, 1, "the request ended early: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[test]
fn curl_fetches_a_page_served_in_the_kernel_over_a_connection_the_kernel_made() {
    require("curl", "curl");
    let served = Served::lo0("curl");
    let client = served.client();
    let listener = TcpListener::bind(&client, "127.0.0.1:8080").expect("listens");
    let opened = served.counter("tcp active_opens");
    let server = background(move || {
        let (mut stream, _) = listener.accept().expect("curl connects");
        let head = read_head(&mut stream);
        let body = "served by the anykernel\n";
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).expect("answers");
        head
    });
    let mut curl = hijacked(&served, "curl");
    curl.args(["-sS", "--max-time", "20", "http://127.0.0.1:8080/page"])
        .env("ANYKERNEL_HIJACK_TRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = finish(curl.spawn().expect("curl starts"), 30, "curl");
    let trace = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "curl failed:\n{trace}");
    assert_eq!(output.stdout, b"served by the anykernel\n");
    let head = server.wait(10, "the server");
    assert!(head.starts_with("GET /page HTTP/1.1\r\n"), "{head}");
    assert_eq!(served.counter("tcp active_opens"), opened + 1);
    for call in [
        "socket(-1)",
        "connect(",
        "poll(-1)",
        "getsockopt(",
        "sendto(",
        "recvfrom(",
    ] {
        assert!(
            trace.contains(&format!("anykernel-hijack: {call}")),
            "no {call} in:\n{trace}"
        );
    }
}

#[test]
fn curl_reaches_a_server_in_the_kernel_over_ipv6() {
    require("curl", "curl");
    let served = Served::lo0("curl6");
    let client = served.client();
    let listener = TcpListener::bind(&client, "[::1]:8086").expect("listens");
    let server = background(move || {
        let (mut stream, peer) = listener.accept().expect("curl connects");
        read_head(&mut stream);
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nsix";
        stream.write_all(response.as_bytes()).expect("answers");
        peer
    });
    let mut curl = hijacked(&served, "curl");
    curl.args(["-sS", "--max-time", "20", "http://[::1]:8086/"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = finish(curl.spawn().expect("curl starts"), 30, "curl");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "curl failed:\n{said}");
    assert_eq!(output.stdout, b"six");
    let peer = server.wait(10, "the server");
    assert_eq!(peer.ip(), "::1".parse::<std::net::IpAddr>().unwrap());
}

/// Bytes nc moves each way here (the 64 MiB run is the root test's).
const TRANSFER: usize = 1 << 20;

#[test]
fn nc_moves_a_stream_both_ways_intact() {
    require("nc", "netcat-openbsd");
    let served = Served::lo0("nc");
    let client = served.client();
    let data = pattern(1, TRANSFER);
    let scratch = Scratch::new("loopback-nc");
    let file = scratch.file("data");
    std::fs::write(&file, &data).expect("the input file");
    // nc connects out and sends; the kernel side reads to the end.
    let listener = TcpListener::bind(&client, "127.0.0.1:7001").expect("listens");
    let reader = background(move || {
        let (mut stream, _) = listener.accept().expect("nc connects");
        let mut received = Vec::new();
        stream.read_to_end(&mut received).expect("reads to the end");
        received
    });
    let mut nc = hijacked(&served, "nc");
    nc.args(["-N", "127.0.0.1", "7001"])
        .stdin(std::fs::File::open(&file).expect("the input"))
        .stderr(Stdio::piped());
    let output = finish(nc.spawn().expect("nc starts"), 60, "nc sending");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let received = reader.wait(10, "the reader");
    assert_eq!((received.len(), hash(&received)), (TRANSFER, hash(&data)));
    // nc listens and receives; the kernel side connects and sends.
    let mut nc = hijacked(&served, "nc");
    nc.args(["-l", "127.0.0.1", "7002"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let receiver = nc.spawn().expect("nc starts");
    let writer = background(move || {
        let mut stream = connect_when_listening(&client, 7002);
        stream.write_all(&data).expect("sends");
        stream.shutdown(std::net::Shutdown::Write).expect("ends");
        data
    });
    let output = finish(receiver, 60, "nc receiving");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let data = writer.wait(10, "the writer");
    assert_eq!(
        (output.stdout.len(), hash(&output.stdout)),
        (TRANSFER, hash(&data))
    );
}

#[test]
fn nc_sends_a_datagram_to_a_udp_socket_in_the_kernel() {
    require("nc", "netcat-openbsd");
    let served = Served::lo0("udp");
    let client = served.client();
    let socket = UdpSocket::bind(&client, "127.0.0.1:7003").expect("binds");
    let mut nc = hijacked(&served, "nc");
    nc.args(["-u", "-q", "0", "127.0.0.1", "7003"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = nc.spawn().expect("nc starts");
    let mut input = child.stdin.take().expect("piped");
    input.write_all(b"hello over udp\n").expect("nc reads");
    drop(input);
    let output = finish(child, 30, "nc -u");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut buffer = [0u8; 64];
    let (count, from) = socket.recv_from(&mut buffer).expect("a datagram");
    assert_eq!(&buffer[..count], b"hello over udp\n");
    assert!(from.ip().is_loopback(), "{from}");
}

/// What `python3` does on a remote socket: the calls curl and nc do not
/// make (dup through fcntl64, select over a socket and a pipe, FIONREAD,
/// MSG_PEEK on TCP and UDP, SO_TYPE, getpeername), each checked by the
/// script (epoll and time limits: waiting.rs).
const SCRIPT: &str = r#"
import fcntl, os, select, socket, struct, sys, termios
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", port))
assert s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM
assert s.getpeername() == ("127.0.0.1", port), s.getpeername()
pipe_read, pipe_write = os.pipe()
s.sendall(b"ping")
ready, _, _ = select.select([pipe_read, s], [], [], 20)
assert ready == [s], ready
queued = struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\0\0\0\0"))[0]
assert queued == 4, queued
assert s.recv(16, socket.MSG_PEEK) == b"pong", "a peek"
assert s.recv(16) == b"pong", "the peeked bytes, read"
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
u.sendto(b"datagram", u.getsockname())
data, sender = u.recvfrom(4, socket.MSG_PEEK)
assert (data, sender) == (b"data", u.getsockname()), (data, sender)
assert u.recvfrom(64) == (b"datagram", u.getsockname()), "the peeked datagram, whole"
u.close()
os.write(pipe_write, b"x")
ready, _, _ = select.select([pipe_read, s], [], [], 0)
assert ready == [pipe_read], ready
copy = socket.socket(fileno=os.dup(s.fileno()))
s.close()
copy.sendall(b"still open")
copy.close()
print("ok")
"#;

#[test]
fn python_uses_dup_select_fionread_and_options_on_a_remote_socket() {
    require("python3", "python3");
    let served = Served::lo0("python");
    let client = served.client();
    let listener = TcpListener::bind(&client, "127.0.0.1:7004").expect("listens");
    let server = background(move || {
        let (mut stream, _) = listener.accept().expect("python connects");
        let mut ping = [0u8; 4];
        stream.read_exact(&mut ping).expect("a ping");
        stream.write_all(b"pong").expect("answers");
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).expect("reads to the end");
        (ping, rest)
    });
    python(&served, SCRIPT, 7004);
    let (ping, rest) = server.wait(10, "the server");
    assert_eq!((&ping, rest.as_slice()), (b"ping", &b"still open"[..]));
}

#[test]
fn without_a_server_sockets_fail_with_enetdown_and_the_library_says_why() {
    require("curl", "curl");
    let missing = std::env::temp_dir().join("anykernel-hijack-nobody.sock");
    let mut curl = std::process::Command::new("curl");
    curl.args(["-sS", "--max-time", "10", "http://127.0.0.1:9/"])
        .env("LD_PRELOAD", common::library())
        .env("ANYKERNEL_SERVER", format!("unix:{}", missing.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = finish(curl.spawn().expect("curl starts"), 30, "curl");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("anykernel-hijack: cannot reach the kernel at unix:"),
        "{said}"
    );
    assert_eq!(
        said.matches("anykernel-hijack:").count(),
        1,
        "said once: {said}"
    );
}

#[test]
fn a_kernel_with_a_key_serves_only_programs_that_present_it() {
    require("curl", "curl");
    let served = Served::boot::<&str>("keyed", "sysproxy.key=opensesame", &[]);
    let run_curl = |key: Option<&str>| {
        let mut curl = hijacked(&served, "curl");
        curl.args(["-sS", "--max-time", "10", "http://127.0.0.1:9/"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(key) = key {
            curl.env("ANYKERNEL_KEY", key);
        }
        let output = finish(curl.spawn().expect("curl starts"), 30, "curl");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // With the key the kernel's own stack answers: nothing listens on
    // its port 9, so it resets the connection.
    let said = run_curl(Some("opensesame"));
    assert!(!said.contains("anykernel-hijack"), "{said}");
    assert!(said.contains("Couldn't connect to server"), "{said}");
    let said = run_curl(Some("wrong"));
    assert!(
        said.contains("anykernel-hijack: cannot reach the kernel at unix:"),
        "{said}"
    );
    assert!(said.contains("Key"), "{said}");
}
