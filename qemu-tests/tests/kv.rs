//! The kv appliance (memcached text protocol) in QEMU, served to real
//! memcached clients on the host through user networking: Debian's
//! `memccapable` (libmemcached's protocol conformance suite) and
//! `memcslap` (a load generator), and clients that misbehave: garbage,
//! a value too large, a client that vanishes in the middle of a value.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use qemu_tests::clients::{connect, free_port};
use qemu_tests::{Forward, Machine, Network, Nic, Qemu, QemuConfig, boot, kv_image};

/// How long the guest may take to boot and get its DHCP lease.
const LEASE_DEADLINE: Duration = Duration::from_secs(60);
/// How long a client tool may run.
const TOOL_DEADLINE_SECONDS: &str = "120";

/// A booted kv appliance and the host port of its service.
struct Served {
    qemu: Qemu,
    port: u16,
}

fn serve(machine: Machine) -> Served {
    let port = free_port();
    let forwards = vec![Forward {
        host_port: port,
        guest_port: 11211,
    }];
    let config = QemuConfig::kernel(kv_image())
        .machine(machine)
        .nic(Nic::new(Network::User { forwards }));
    let mut qemu = boot(&config);
    qemu.expect_line("vioif0 is 10.0.2.15/24", LEASE_DEADLINE);
    Served { qemu, port }
}

/// Runs a libmemcached tool against the appliance; its output.
fn tool(program: &str, args: &[String], served: &Served) -> String {
    let output = Command::new("timeout")
        .arg(TOOL_DEADLINE_SECONDS)
        .arg(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (Debian: libmemcached-tools): {e}"));
    let text = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} failed ({}): {text}\n{}",
        output.status,
        served.qemu.log()
    );
    text.into_owned()
}

/// Sends `request` on a fresh connection and reads until `reply_end`.
fn exchange(port: u16, request: &[u8], reply_end: &[u8]) -> Vec<u8> {
    let mut stream = connect(port).expect("connect");
    stream.write_all(request).expect("send");
    read_until(&mut stream, reply_end)
}

fn read_until(stream: &mut TcpStream, end: &[u8]) -> Vec<u8> {
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while !reply.ends_with(end) {
        let count = stream.read(&mut chunk).expect("a reply before the timeout");
        assert_ne!(
            count,
            0,
            "closed early after {:?}",
            String::from_utf8_lossy(&reply)
        );
        reply.extend_from_slice(&chunk[..count]);
    }
    reply
}

fn conformance_and_load(machine: Machine) {
    let served = serve(machine);
    let address = [
        "-h".into(),
        "127.0.0.1".into(),
        "-p".into(),
        served.port.to_string(),
    ];
    let mut capable = address.to_vec();
    capable.extend(["-a".into(), "-t".into(), "10".into()]);
    let report = tool("memccapable", &capable, &served);
    assert!(report.contains("All tests passed"), "{report}");
    let servers = format!("--servers=127.0.0.1:{}", served.port);
    let load = [
        servers,
        "--concurrency=8".into(),
        "--execute-number=500".into(),
    ];
    let report = tool("memcslap", &load, &served);
    assert!(report.contains("Time to set"), "{report}");
    let stats = exchange(served.port, b"stats\r\n", b"END\r\n");
    let stats = String::from_utf8_lossy(&stats);
    assert!(stats.contains("STAT cmd_set "), "{stats}");
}

#[test]
fn q35_passes_memccapable_and_serves_memcslap() {
    conformance_and_load(Machine::Q35);
}

#[test]
fn microvm_passes_memccapable_and_serves_memcslap() {
    conformance_and_load(Machine::Microvm);
}

#[test]
fn misbehaving_clients_get_errors_and_lose_nothing() {
    let served = serve(Machine::Microvm);
    let port = served.port;
    let stored = exchange(port, b"set kept 5 0 4\r\nsafe\r\n", b"\r\n");
    assert_eq!(stored, b"STORED\r\n");
    // Garbage: an unknown command, a malformed one, a bad data chunk.
    let garbage = b"frobnicate\r\nset broken x 0 1\r\nset chunk 0 0 2\r\nabcd\r\nversion\r\n";
    let replies = exchange(port, garbage, b"VERSION 1.6.0-anykernel\r\n");
    let replies = String::from_utf8_lossy(&replies);
    assert!(replies.starts_with("ERROR\r\nCLIENT_ERROR "), "{replies}");
    assert!(
        replies.contains("CLIENT_ERROR bad data chunk\r\n"),
        "{replies}"
    );
    // A value over the 1 MiB item limit is refused; the session goes on.
    let mut large = b"set large 0 0 2000000\r\n".to_vec();
    large.extend(std::iter::repeat_n(b'x', 2_000_000));
    large.extend_from_slice(b"\r\nget kept\r\n");
    let replies = exchange(port, &large, b"END\r\n");
    let replies = String::from_utf8_lossy(&replies);
    assert!(
        replies.starts_with("SERVER_ERROR object too large for cache\r\n"),
        "{replies}"
    );
    assert!(replies.contains("VALUE kept 5 4\r\nsafe\r\n"), "{replies}");
    // A client that vanishes in the middle of a value stores nothing.
    let mut vanishing = connect(port).expect("connect");
    vanishing
        .write_all(b"set half 0 0 100\r\n0123456789")
        .expect("send");
    drop(vanishing);
    let after = exchange(port, b"get half kept\r\n", b"END\r\n");
    assert_eq!(after, b"VALUE kept 5 4\r\nsafe\r\nEND\r\n");
    let log = served.qemu.log();
    assert!(!log.contains("panicked"), "{log}");
}
