//! Path MTU discovery against a real router: Linux in one namespace, a
//! Linux router in another (forwarding on) with the appliance on its tap,
//! the two namespaces joined by a veth of MTU 1,280. The client's route
//! advertises an MSS of 1,460 (`advmss`), so the appliance's full-size
//! segments (1,500 bytes on its tap) meet the 1,280 hop: with ICMP the
//! router says "fragmentation needed" (RFC 1191); with that ICMP dropped
//! by iptables in the router, the path is a black hole the appliance must
//! find by itself (RFC 4821). 16 MiB each way (through echo, checked byte
//! for byte) and 16 MiB from chargen complete either way. Root only.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use qemu_tests::clients::http_get;
use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::{Machine, Qemu};

/// The appliance's address behind the tap, its gateway Linux there.
const BEHIND: [&str; 2] = ["ip=192.168.77.2/24", "gw=192.168.77.1"];

/// Bytes each transfer moves.
const BULK: usize = 16 << 20;
/// The narrow hop.
const HOP_MTU: &str = "1280";
/// How long one read or write may stall: a black hole costs the
/// appliance two retransmission timeouts (under a second) per connection
/// before it shrinks its segments.
const IO_DEADLINE: Duration = Duration::from_secs(30);

/// The client namespace, the router namespace and the booted appliance.
struct Path {
    client: Namespace,
    /// Kept until the end: dropping it deletes the router.
    _router: Namespace,
    qemu: Qemu,
}

/// Sets up client -- veth (MTU 1,280) -- router -- tap -- appliance.
fn path(tag: &str, icmp: bool) -> Path {
    if let Some(reason) = missing_privilege(&["iptables"]) {
        panic!("this test needs root, /dev/net/tun and iptables: {reason}");
    }
    let router = Namespace::new(&format!("{tag}r"));
    let client = Namespace::empty(&format!("{tag}c"));
    join(&router, &client);
    if !icmp {
        let rule = ["iptables", "-A", "OUTPUT", "-p", "icmp"];
        let drop = ["--icmp-type", "fragmentation-needed", "-j", "DROP"];
        router.exec(&[&rule[..], &drop].concat());
    }
    let qemu = router.boot_appliance(Machine::Microvm, &BEHIND);
    Path {
        client,
        _router: router,
        qemu,
    }
}

/// The veth of MTU 1,280 between the namespaces, the router forwarding,
/// and the client's route to the appliance's link.
fn join(router: &Namespace, client: &Namespace) {
    let peer = ["netns", client.name.as_str()];
    router.exec(&[
        "ip", "link", "add", "vr", "type", "veth", "peer", "name", "vc",
    ]);
    router.exec(&[&["ip", "link", "set", "vc"][..], &peer].concat());
    router.exec(&["ip", "addr", "add", "10.77.0.1/24", "dev", "vr"]);
    router.exec(&["ip", "link", "set", "vr", "mtu", HOP_MTU, "up"]);
    router.exec(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    client.exec(&["ip", "addr", "add", "10.77.0.2/24", "dev", "vc"]);
    client.exec(&["ip", "link", "set", "vc", "mtu", HOP_MTU, "up"]);
    // Announce an MSS the hop cannot carry, as a host on a wider link
    // behind it would.
    let route = ["ip", "route", "add", "192.168.77.0/24", "via", "10.77.0.1"];
    client.exec(&[&route[..], &["dev", "vc", "advmss", "1460"]].concat());
}

fn open(port: u16) -> TcpStream {
    let address: SocketAddr = format!("192.168.77.2:{port}").parse().expect("an address");
    let stream = TcpStream::connect_timeout(&address, IO_DEADLINE).expect("connect");
    stream.set_read_timeout(Some(IO_DEADLINE)).unwrap();
    stream.set_write_timeout(Some(IO_DEADLINE)).unwrap();
    stream
}

fn pattern(offset: usize) -> u8 {
    (offset % 251) as u8
}

/// 16 MiB through echo, written by one thread and read back by another;
/// every byte must come back in order.
fn echo_both_ways() {
    let stream = open(7);
    let mut writer = stream.try_clone().expect("a second handle");
    let sending = std::thread::spawn(move || {
        const BLOCK: usize = 64 * 1024;
        for start in (0..BULK).step_by(BLOCK) {
            let block: Vec<u8> = (start..start + BLOCK).map(pattern).collect();
            writer.write_all(&block).expect("echo write");
        }
    });
    let mut reader = stream;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut offset = 0;
    while offset < BULK {
        let count = reader.read(&mut buffer).expect("echo read");
        assert!(count > 0, "echo closed at {offset}");
        for (index, &byte) in buffer[..count].iter().enumerate() {
            assert_eq!(
                byte,
                pattern(offset + index),
                "echo byte {}",
                offset + index
            );
        }
        offset += count;
    }
    sending.join().expect("the writer");
}

/// 16 MiB from chargen, checked against its pattern.
fn download() {
    let mut stream = open(19);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    while offset < BULK as u64 {
        let count = stream.read(&mut buffer).expect("chargen read");
        assert!(count > 0, "chargen closed at {offset}");
        for (index, &byte) in buffer[..count].iter().enumerate() {
            assert_eq!(byte, app::services::chargen_byte(offset + index as u64));
        }
        offset += count as u64;
    }
}

/// Both transfers from the client namespace, then the appliance's
/// `/stats`.
fn transfers(path: &Path) -> String {
    let started = std::time::Instant::now();
    let stats = path.client.run_inside(|| {
        echo_both_ways();
        download();
        let body = http_get(&mut open(80), "/stats").expect("GET /stats").body;
        String::from_utf8_lossy(&body).into_owned()
    });
    let mtu = |line: &&str| {
        let counter = line.starts_with("tcp ") || line.starts_with("ip ");
        counter && (line.contains("mtu") || line.contains(" timeouts"))
    };
    let lines: Vec<&str> = stats.lines().filter(mtu).collect();
    eprintln!("{:?} for 48 MiB; {}", started.elapsed(), lines.join("; "));
    stats
}

/// The value of `LAYER NAME` in `/stats`.
fn counter(stats: &str, layer: &str, name: &str) -> u64 {
    let line = format!("{layer} {name} ");
    stats
        .lines()
        .find_map(|text| text.strip_prefix(&line))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{line}` in {stats}"))
}

#[test]
#[ignore = "needs root: two namespaces, a veth router and iptables around the appliance's tap"]
fn bulk_transfers_cross_a_narrower_hop_that_sends_icmp() {
    let path = path("pmtu", true);
    let stats = transfers(&path);
    let log = path.qemu.log();
    assert!(
        counter(&stats, "tcp", "path_mtu_lowered") >= 1,
        "{stats}\n{log}"
    );
    assert_eq!(counter(&stats, "ip", "path_mtus_cached"), 1, "{stats}");
    assert_eq!(counter(&stats, "tcp", "mtu_black_holes"), 0, "{stats}");
}

#[test]
#[ignore = "needs root: two namespaces, a veth router and iptables around the appliance's tap"]
fn bulk_transfers_cross_a_black_hole_when_icmp_is_filtered() {
    let path = path("hole", false);
    let stats = transfers(&path);
    let log = path.qemu.log();
    assert_eq!(counter(&stats, "tcp", "path_mtu_lowered"), 0, "{stats}");
    assert!(
        counter(&stats, "tcp", "mtu_black_holes") >= 1,
        "{stats}\n{log}"
    );
    assert!(counter(&stats, "tcp", "mtu_probes") >= 1, "{stats}");
}
