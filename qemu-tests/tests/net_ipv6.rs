//! The bare-metal appliance speaks IPv6 on its virtio NIC in QEMU, with
//! Linux's stack over a tap as the peer (root: `#[ignore = "needs root:
//! …"]`, run in the root-only QEMU stage of `cargo xtask test`): `curl
//! -6` to its static and its link-local address (with the zone), UDP
//! echo, and 64 MiB through echo both ways, hash-checked, over IPv6, with
//! `virtio_net.offload=none`; and the same bulk with
//! `virtio_net.offload=all`, TSO6 negotiated (the driver's line) and used
//! (`/stats`: `tx_tso6`).

use std::net::IpAddr;
use std::time::Duration;

use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::{Machine, Network, Nic, Qemu, QemuConfig, appliance_image, boot};

/// Boot, DAD and the services.
const READY: Duration = Duration::from_secs(60);

/// The appliance's static IPv6 address; Linux holds `::1` of its prefix.
const GUEST: &str = "fd00:79::2";

/// The appliance on microvm, its tap in `namespace`, IPv4, `ip6=` and
/// `virtio_net.offload=offload`.
fn boot_on_tap(namespace: &Namespace, offload: &str) -> Qemu {
    let config = QemuConfig::kernel(appliance_image())
        .machine(Machine::Microvm)
        .param("ip=192.168.77.2/24")
        .param(format!("ip6={GUEST}/64"))
        .param(format!("virtio_net.offload={offload}"))
        .program("ip")
        .program_args([
            "netns",
            "exec",
            namespace.name.as_str(),
            qemu_tests::QEMU_PROGRAM,
        ])
        .nic(Nic::new(Network::Tap {
            name: "tap0".into(),
        }));
    boot(&config)
}

/// The address in a `vioif0 has ADDRESS/N …` line.
fn address_in(line: &str) -> String {
    let word = line.split_whitespace().skip_while(|word| *word != "has");
    let word = word.clone().nth(1).unwrap_or_else(|| panic!("{line:?}"));
    word.split('/').next().expect("ADDRESS/N").to_string()
}

/// The serial line containing `text`, seen already or awaited.
fn line_with(qemu: &mut Qemu, text: &str) -> String {
    let seen = qemu.lines().iter().find(|line| line.text.contains(text));
    match seen {
        Some(line) => line.text.clone(),
        None => qemu.expect_line(text, READY).text,
    }
}

/// `curl -6 -g` of `url` inside `namespace`: the body.
fn curl6(namespace: &Namespace, url: &str) -> String {
    let output = namespace.exec(&["curl", "-6", "-g", "-sS", "--max-time", "20", url]);
    let complaint = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "curl -6 {url}: {complaint}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A namespace named `name` whose tap holds `fd00:79::1/64` (no DAD).
fn namespace_with_linux(name: &str) -> Namespace {
    if let Some(reason) = missing_privilege(&["curl"]) {
        panic!("this test needs root, /dev/net/tun and curl: {reason}");
    }
    let namespace = Namespace::new(name);
    let linux = [
        "ip",
        "-6",
        "addr",
        "add",
        "fd00:79::1/64",
        "dev",
        "tap0",
        "nodad",
    ];
    namespace.exec(&linux);
    namespace
}

/// The value after `key` on the `/stats` line starting with `line`.
fn stat(stats: &str, line: &str, key: &str) -> u64 {
    let found = stats.lines().find(|l| l.starts_with(line));
    let mut words = found
        .unwrap_or_else(|| panic!("no {line}: {stats}"))
        .split(' ');
    let value = words.find(|word| *word == key).and_then(|_| words.next());
    value
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key}: {stats}"))
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's IPv6 as the client"]
fn microvm_serves_curl_udp_and_bulk_over_ipv6() {
    let namespace = namespace_with_linux("vm6");
    let mut qemu = boot_on_tap(&namespace, "none");
    line_with(&mut qemu, &format!("has {GUEST}/64 preferred static"));
    let link_local = address_in(&line_with(&mut qemu, "preferred link-local"));
    line_with(&mut qemu, "anykernel: ready");
    let page = curl6(&namespace, &format!("http://[{GUEST}]/"));
    assert!(page.contains("<h1>anykernel</h1>"), "{}", qemu.log());
    let page = curl6(&namespace, &format!("http://[{link_local}%25tap0]/"));
    assert!(page.contains("<h1>anykernel</h1>"), "{}", qemu.log());
    let guest: IpAddr = GUEST.parse().expect("an address");
    namespace.run_inside(move || {
        let local = "[fd00:79::1]:0".parse().expect("an address");
        qemu_tests::bulk::udp_echoes(local, guest);
    });
    qemu_tests::bulk::echo_and_source_intact(&namespace, guest, app::services::chargen_byte);
    let stats = curl6(&namespace, &format!("http://[{GUEST}]/stats"));
    assert!(stats.contains("tcp bad_checksums 0"), "{stats}");
    assert!(stats.contains("udp received 4\n"), "{stats}");
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's IPv6 as the client"]
fn microvm_moves_bulk_over_ipv6_in_tso6_bursts_with_offloads() {
    let namespace = namespace_with_linux("vo6");
    let mut qemu = boot_on_tap(&namespace, "all");
    line_with(&mut qemu, &format!("has {GUEST}/64 preferred static"));
    line_with(&mut qemu, "anykernel: ready");
    let negotiated = "segmentation_ipv6: true";
    assert!(qemu.log().contains(negotiated), "{}", qemu.log());
    let guest: IpAddr = GUEST.parse().expect("an address");
    qemu_tests::bulk::echo_and_source_intact(&namespace, guest, app::services::chargen_byte);
    let stats = curl6(&namespace, &format!("http://[{GUEST}]/stats"));
    assert!(stats.contains("tcp bad_checksums 0"), "{stats}");
    let bursts = stat(&stats, "if vioif0", "tx_tso6");
    assert!(bursts > 0, "no TSO6 burst went to the device: {stats}");
    assert_eq!(stat(&stats, "if vioif0", "tx_tso4"), 0, "{stats}");
}
