//! Path MTU discovery against a real router, over IPv4 and then IPv6 on
//! one boot: Linux in one namespace, a Linux router in another
//! (forwarding both families) with the appliance on its tap, the two
//! namespaces joined by a veth of MTU 1,280. The client's routes
//! advertise an MSS for 1,500-byte packets (`advmss`), so the appliance's
//! full-size segments meet the 1,280 hop: with ICMP the router says
//! "fragmentation needed" (RFC 1191) or Packet Too Big (RFC 8201); with
//! those dropped by iptables and ip6tables in the router, the path is a
//! black hole the appliance must find by itself (RFC 4821). 16 MiB each
//! way (through echo, checked byte for byte) and 16 MiB from chargen
//! complete either way, in each family. Root only.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use qemu_tests::clients::http_get;
use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::{Machine, Qemu};

/// The appliance's addresses behind the tap, its gateways Linux there.
const BEHIND: [&str; 4] = [
    "ip=192.168.77.2/24",
    "gw=192.168.77.1",
    "ip6=fd77::2/64",
    "gw6=fd77::1",
];
/// The appliance's address in each family.
const GUESTS: [&str; 2] = ["192.168.77.2", "fd77::2"];

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
    if let Some(reason) = missing_privilege(&["iptables", "ip6tables"]) {
        panic!("this test needs root, /dev/net/tun and iptables: {reason}");
    }
    let router = Namespace::new(&format!("{tag}r"));
    let client = Namespace::empty(&format!("{tag}c"));
    join(&router, &client);
    if !icmp {
        let rule = ["iptables", "-A", "OUTPUT", "-p", "icmp"];
        let drop = ["--icmp-type", "fragmentation-needed", "-j", "DROP"];
        router.exec(&[&rule[..], &drop].concat());
        let rule = ["ip6tables", "-A", "OUTPUT", "-p", "icmpv6"];
        let drop = ["--icmpv6-type", "packet-too-big", "-j", "DROP"];
        router.exec(&[&rule[..], &drop].concat());
    }
    let mut qemu = router.boot_appliance(Machine::Microvm, &BEHIND);
    // Its IPv6 address is usable once DAD is done.
    let usable = "has fd77::2/64 preferred static";
    if !qemu.lines().iter().any(|line| line.text.contains(usable)) {
        qemu.expect_line(usable, IO_DEADLINE);
    }
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
    join6(router, client);
}

/// The same for IPv6: fd77::/64 on the tap, fd78::/64 on the veth.
fn join6(router: &Namespace, client: &Namespace) {
    let add = ["ip", "-6", "addr", "add"];
    router.exec(&[&add[..], &["fd77::1/64", "dev", "tap0", "nodad"]].concat());
    router.exec(&[&add[..], &["fd78::1/64", "dev", "vr", "nodad"]].concat());
    router.exec(&["sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
    client.exec(&[&add[..], &["fd78::2/64", "dev", "vc", "nodad"]].concat());
    let route = ["ip", "-6", "route", "add", "fd77::/64", "via", "fd78::1"];
    client.exec(&[&route[..], &["dev", "vc", "advmss", "1440"]].concat());
}

fn open(guest: IpAddr, port: u16) -> TcpStream {
    let address = SocketAddr::new(guest, port);
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
fn echo_both_ways(guest: IpAddr) {
    let stream = open(guest, 7);
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
fn download(guest: IpAddr) {
    let mut stream = open(guest, 19);
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

/// Both transfers from the client namespace to `guest`, then the
/// appliance's `/stats`.
fn transfers(path: &Path, guest: &str) -> String {
    let guest: IpAddr = guest.parse().expect("an address");
    let started = std::time::Instant::now();
    let stats = path.client.run_inside(move || {
        echo_both_ways(guest);
        download(guest);
        let body = http_get(&mut open(guest, 80), "/stats").expect("GET /stats");
        String::from_utf8_lossy(&body.body).into_owned()
    });
    let mtu = |line: &&str| {
        let counter = ["tcp ", "ip ", "ipv6 "]
            .iter()
            .any(|layer| line.starts_with(layer));
        counter && (line.contains("mtu") || line.contains(" timeouts"))
    };
    let lines: Vec<&str> = stats.lines().filter(mtu).collect();
    eprintln!(
        "{guest}: {:?} for 48 MiB; {}",
        started.elapsed(),
        lines.join("; ")
    );
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
    let mut before = 0;
    for (guest, layer) in GUESTS.into_iter().zip(["ip", "ipv6"]) {
        let stats = transfers(&path, guest);
        let log = path.qemu.log();
        let lowered = counter(&stats, "tcp", "path_mtu_lowered");
        assert!(lowered > before, "{guest}: {stats}\n{log}");
        before = lowered;
        assert_eq!(counter(&stats, layer, "path_mtus_cached"), 1, "{stats}");
        assert_eq!(counter(&stats, "tcp", "mtu_black_holes"), 0, "{stats}");
    }
}

#[test]
#[ignore = "needs root: two namespaces, a veth router and iptables around the appliance's tap"]
fn bulk_transfers_cross_a_black_hole_when_icmp_is_filtered() {
    let path = path("hole", false);
    let mut before = 0;
    for guest in GUESTS {
        let stats = transfers(&path, guest);
        let log = path.qemu.log();
        assert_eq!(counter(&stats, "tcp", "path_mtu_lowered"), 0, "{stats}");
        let black_holes = counter(&stats, "tcp", "mtu_black_holes");
        assert!(black_holes > before, "{guest}: {stats}\n{log}");
        before = black_holes;
        assert!(counter(&stats, "tcp", "mtu_probes") >= 1, "{stats}");
        assert_eq!(counter(&stats, "ipv6", "path_mtus_cached"), 0, "{stats}");
    }
}
