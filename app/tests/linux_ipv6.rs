//! The hosted appliance speaks IPv6 with Linux's own stack over a tap:
//! `ping -6` to its link-local and static addresses, SLAAC with RDNSS
//! from `radvd`, DAD against an address Linux already holds, `curl -6`
//! to its link-local address (with the zone) and its SLAAC address, UDP
//! echo, and 64 MiB both ways over IPv6, hash-checked.

mod common;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Appliance, Namespace, chargen_byte, require_privilege};

const GUEST: &str = "192.168.77.2";
const WAIT: Duration = Duration::from_secs(30);

/// The namespace and the appliance with `params` (IPv4 at `GUEST` so
/// that curl reads `/stats`), Linux holding `linux_addresses` on tap0.
fn start(test: &str, linux_addresses: &[&str], params: &[&str]) -> (Namespace, Appliance) {
    let namespace = Namespace::new(test);
    for address in linux_addresses {
        namespace.exec(&["ip", "-6", "addr", "add", address, "dev", "tap0", "nodad"]);
    }
    let mut all = vec!["ip=192.168.77.2/24", "gw=192.168.77.1"];
    all.extend_from_slice(params);
    let mut appliance = Appliance::start(&namespace, &all);
    appliance.expect_line("anykernel: ready", WAIT);
    (namespace, appliance)
}

/// The line containing `text`, seen already or awaited.
fn line_with(appliance: &mut Appliance, text: &str) -> String {
    let seen = appliance
        .log
        .iter()
        .find(|line| line.contains(text))
        .cloned();
    seen.unwrap_or_else(|| appliance.expect_line(text, WAIT))
}

/// The address in a `vif0 has ADDRESS/N …` line.
fn address_in(line: &str) -> String {
    let word = line
        .split_whitespace()
        .skip_while(|word| *word != "has")
        .nth(1)
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    word.split('/').next().expect("ADDRESS/N").to_string()
}

/// `ping -6` from Linux, three echoes; panics with its output unless
/// all three came back.
fn ping6(namespace: &Namespace, destination: &str) {
    let output = namespace
        .command("ping")
        .args(["-6", "-c", "3", "-i", "0.2", "-W", "2", destination])
        .output()
        .expect("ping runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        text.contains("3 received"),
        "ping -6 {destination}:\n{text}"
    );
}

fn stats(namespace: &Namespace) -> String {
    let url = format!("http://{GUEST}/stats");
    let output = namespace.exec(&["curl", "-sS", "--max-time", "10", &url]);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with Linux's stack as the peer"]
fn linux_pings_the_appliance_over_ipv6_link_local_and_static() {
    require_privilege(&[]);
    let linux = ["fd00:77::1/64"];
    let (namespace, mut appliance) = start("ping6", &linux, &["ip6=fd00:77::2/64"]);
    line_with(&mut appliance, "has fd00:77::2/64 preferred static");
    let link_local = address_in(&line_with(&mut appliance, "preferred link-local"));
    ping6(&namespace, "fd00:77::2");
    ping6(&namespace, &format!("{link_local}%tap0"));
    let stats = stats(&namespace);
    assert!(
        stats.contains("inet6 vif0 fd00:77::2/64 preferred static"),
        "{stats}"
    );
    assert!(stats.contains("icmp6 echo_replies 6"), "{stats}");
    assert!(stats.contains("nd dad_conflicts 0"), "{stats}");
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with radvd advertising on it"]
fn the_appliance_forms_an_address_from_radvd_and_keeps_its_dns_server() {
    require_privilege(&[]);
    assert!(
        qemu_tests::netns::on_path("radvd"),
        "`radvd` must be installed (Debian package radvd) for this test"
    );
    let (namespace, mut appliance) = start("slaac", &["fd00:78::1/64"], &[]);
    namespace.exec(&["sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"]);
    wait_for_linux_link_local(&namespace);
    let _radvd = Radvd::start(&namespace);
    let line = line_with(&mut appliance, "preferred slaac");
    let formed = address_in(&line);
    assert!(formed.starts_with("fd00:78:"), "{line}");
    assert!(
        !formed.ends_with("::2"),
        "a stable-privacy identifier: {formed}"
    );
    ping6(&namespace, &formed);
    let stats = stats(&namespace);
    assert!(stats.contains("dns6 fd00:78::53 if "), "RDNSS: {stats}");
    assert!(stats.contains("prefix6 fd00:78::/64 if "), "{stats}");
    assert!(stats.contains("router6 fe80::"), "{stats}");
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with Linux's stack as the peer"]
fn dad_finds_the_address_linux_already_holds() {
    require_privilege(&[]);
    let linux = ["fd00:77::2/64"];
    let (namespace, mut appliance) = start("dad", &linux, &["ip6=fd00:77::2/64"]);
    let line = line_with(&mut appliance, "duplicate address fd00:77::2");
    assert!(
        line.contains("vif0"),
        "the line names the interface: {line}"
    );
    let stats = stats(&namespace);
    assert!(
        stats.contains("inet6 vif0 fd00:77::2/64 duplicate static"),
        "{stats}"
    );
    assert!(stats.contains("nd dad_conflicts 1"), "{stats}");
}

/// `curl -6 -g` of `url` from Linux: the body, or a panic with curl's
/// complaint.
fn curl6(namespace: &Namespace, url: &str) -> String {
    let output = namespace.exec(&["curl", "-6", "-g", "-sS", "--max-time", "10", url]);
    let body = String::from_utf8_lossy(&output.stdout).into_owned();
    let complaint = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "curl -6 {url}: {complaint}");
    body
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with radvd advertising on it"]
fn curl_and_udp_reach_the_appliance_over_ipv6_link_local_and_slaac() {
    require_privilege(&[]);
    assert!(
        qemu_tests::netns::on_path("radvd"),
        "`radvd` must be installed (Debian package radvd) for this test"
    );
    let (namespace, mut appliance) = start("curl6", &["fd00:78::1/64"], &[]);
    wait_for_linux_link_local(&namespace);
    let _radvd = Radvd::start(&namespace);
    let formed = address_in(&line_with(&mut appliance, "preferred slaac"));
    let link_local = address_in(&line_with(&mut appliance, "preferred link-local"));
    let page = curl6(&namespace, &format!("http://[{formed}]/"));
    assert!(page.contains("<h1>anykernel</h1>"), "{page}");
    let page = curl6(&namespace, &format!("http://[{link_local}%25tap0]/"));
    assert!(page.contains("<h1>anykernel</h1>"), "{page}");
    let guest: IpAddr = formed.parse().unwrap();
    namespace.run_inside(move || {
        qemu_tests::bulk::udp_echoes("[fd00:78::1]:0".parse().unwrap(), guest);
    });
    let stats = curl6(&namespace, &format!("http://[{formed}]/stats"));
    assert!(stats.contains("udp received 4\n"), "{stats}");
    assert!(stats.contains("udp malformed 0"), "{stats}");
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with Linux's stack as the peer"]
fn sixty_four_mebibytes_cross_ipv6_both_ways_intact() {
    require_privilege(&[]);
    let linux = ["fd00:77::1/64"];
    let (namespace, mut appliance) = start("bulk6", &linux, &["ip6=fd00:77::2/64"]);
    line_with(&mut appliance, "has fd00:77::2/64 preferred static");
    let guest = "fd00:77::2".parse().unwrap();
    qemu_tests::bulk::echo_and_source_intact(&namespace, guest, chargen_byte);
    let stats = curl6(&namespace, "http://[fd00:77::2]/stats");
    assert!(stats.contains("tcp bad_checksums 0"), "{stats}");
}

/// Waits until Linux's link-local address on tap0 passed its own DAD
/// (radvd sends from it).
fn wait_for_linux_link_local(namespace: &Namespace) {
    let deadline = Instant::now() + WAIT;
    loop {
        let shown = namespace.exec(&["ip", "-6", "addr", "show", "dev", "tap0", "scope", "link"]);
        let text = String::from_utf8_lossy(&shown.stdout).into_owned();
        if text.contains("fe80::") && !text.contains("tentative") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "tap0 has no link-local address:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// radvd advertising fd00:78::/64 and a DNS server on tap0; killed on
/// drop.
struct Radvd {
    child: Child,
    config: PathBuf,
}

impl Radvd {
    fn start(namespace: &Namespace) -> Radvd {
        let config = std::env::temp_dir().join(format!("{}.radvd.conf", namespace.name));
        let text = "interface tap0 {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  \
                    MaxRtrAdvInterval 4;\n  prefix fd00:78::/64 {\n    AdvOnLink on;\n    \
                    AdvAutonomous on;\n  };\n  RDNSS fd00:78::53 {\n  };\n};\n";
        std::fs::write(&config, text).expect("the radvd configuration");
        let pid = std::env::temp_dir().join(format!("{}.radvd.pid", namespace.name));
        let child = namespace
            .command("radvd")
            .args(["--nodaemon", "--logmethod", "stderr", "--config"])
            .arg(&config)
            .arg("--pidfile")
            .arg(&pid)
            .stdout(Stdio::null())
            .spawn()
            .expect("radvd starts");
        Radvd { child, config }
    }
}

impl Drop for Radvd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}
