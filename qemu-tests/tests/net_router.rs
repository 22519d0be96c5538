//! The appliance as a router in QEMU: two virtio NICs on two taps in two
//! network namespaces, forwarding on by boot parameters alone, routing
//! between Linux on either side (root only). Ping and a curl of 8 MiB
//! from a Python `http.server` cross it in both families, checked byte
//! for byte; a TTL or hop limit of 1 is answered with time exceeded from
//! the appliance; its `/stats` counts what it forwarded.
//!
//! QEMU runs in the left namespace and opens both taps there; once the
//! guest is up, the second tap moves to the right namespace (a tap keeps
//! its open file across the move).

use std::path::PathBuf;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::{Machine, Network, Nic, Qemu, QemuConfig, appliance_image, boot};

/// The appliance's boot parameters: the router appliance's.
const ROUTER: [&str; 6] = [
    "ip=192.168.77.2/24",
    "ip6=fd77::2/64",
    "ip.1=192.168.78.2/24",
    "ip6.1=fd78::2/64",
    "ip.forwarding=1",
    "ip6.forwarding=1",
];
/// Linux on the right, behind the appliance.
const RIGHT: [&str; 2] = ["192.168.78.1", "fd78::1"];
/// The appliance's left addresses, where its errors come from.
const NEAR: [&str; 2] = ["192.168.77.2", "fd77::2"];
/// Boot, DAD and the services.
const READY: Duration = Duration::from_secs(60);
/// Bytes the transfer moves.
const BLOB: usize = 8 << 20;

/// A Python `http.server` in a namespace; killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The appliance in `left`, its second NIC on `tap1` (made there).
fn boot_router(left: &Namespace) -> Qemu {
    left.exec(&["ip", "tuntap", "add", "dev", "tap1", "mode", "tap"]);
    let tap = |name: &str| {
        Nic::new(Network::Tap {
            name: name.to_string(),
        })
    };
    let config = QemuConfig::kernel(appliance_image())
        .machine(Machine::Q35)
        .params(ROUTER)
        .program("ip")
        .program_args(["netns", "exec", left.name.as_str()])
        .program_args([qemu_tests::QEMU_PROGRAM])
        .nic(tap("tap0"))
        .nic(tap("tap1"));
    let mut qemu = boot(&config);
    qemu.expect_line(qemu_tests::protocol::READY_MARKER, READY);
    qemu
}

/// Linux's addresses and routes on both sides, the second tap moved.
fn wire(left: &Namespace, right: &Namespace) {
    left.exec(&["ip", "link", "set", "tap1", "netns", right.name.as_str()]);
    left.exec(&[
        "ip",
        "-6",
        "addr",
        "add",
        "fd77::1/64",
        "dev",
        "tap0",
        "nodad",
    ]);
    right.exec(&["ip", "addr", "add", "192.168.78.1/24", "dev", "tap1"]);
    right.exec(&[
        "ip",
        "-6",
        "addr",
        "add",
        "fd78::1/64",
        "dev",
        "tap1",
        "nodad",
    ]);
    right.exec(&["ip", "link", "set", "tap1", "up"]);
    left.exec(&[
        "ip",
        "route",
        "add",
        "192.168.78.0/24",
        "via",
        "192.168.77.2",
    ]);
    left.exec(&["ip", "-6", "route", "add", "fd78::/64", "via", "fd77::2"]);
    right.exec(&[
        "ip",
        "route",
        "add",
        "192.168.77.0/24",
        "via",
        "192.168.78.2",
    ]);
    right.exec(&["ip", "-6", "route", "add", "fd77::/64", "via", "fd78::2"]);
}

/// Waits until the appliance's line with `text` was printed.
fn line_with(qemu: &mut Qemu, text: &str) {
    if !qemu.lines().iter().any(|line| line.text.contains(text)) {
        qemu.expect_line(text, READY);
    }
}

/// Runs `words` in `namespace`, whatever its exit status.
fn output(namespace: &Namespace, words: &[&str]) -> Output {
    let mut command = namespace.command(words[0]);
    command.args(&words[1..]);
    command.output().expect("the command starts")
}

/// Serves `directory` on port 8000, both families, from `namespace`;
/// returns once it answers.
fn serve(namespace: &Namespace, directory: &std::path::Path) -> Server {
    let mut command = namespace.command("/usr/bin/python3");
    let directory = directory.to_string_lossy().into_owned();
    let arguments = ["-m", "http.server", "8000", "--bind", "::", "--directory"];
    command.args(arguments).arg(&directory);
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let server = Server(command.spawn().expect("python3 starts"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let probe = [
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "--max-time",
        "2",
        "http://[::1]:8000/",
    ];
    while !output(namespace, &probe).status.success() {
        assert!(Instant::now() < deadline, "http.server never answered");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// The blob from the right, fetched from the left through the appliance.
fn fetch(left: &Namespace, url: &str, into: &std::path::Path) -> Vec<u8> {
    let into_text = into.to_string_lossy().into_owned();
    let words = [
        "curl",
        "-g",
        "-sS",
        "--max-time",
        "120",
        "-o",
        &into_text,
        url,
    ];
    let fetched = output(left, &words);
    let complaint = String::from_utf8_lossy(&fetched.stderr).into_owned();
    assert!(fetched.status.success(), "curl {url}: {complaint}");
    std::fs::read(into).expect("the fetched file")
}

/// The value of `LAYER NAME` in a `/stats` text.
fn counter(stats: &str, name: &str) -> u64 {
    stats
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{name}` in {stats}"))
}

#[test]
#[ignore = "needs root: two network namespaces with a tap each, the appliance routing between them"]
fn the_appliance_routes_between_two_namespaces_in_both_families() {
    if let Some(reason) = missing_privilege(&["ping", "curl", "python3"]) {
        panic!("this test needs root, /dev/net/tun, ping, curl and python3: {reason}");
    }
    let left = Namespace::new("rtl");
    let right = Namespace::empty("rtr");
    let mut qemu = boot_router(&left);
    wire(&left, &right);
    line_with(&mut qemu, "has fd77::2/64 preferred static");
    line_with(&mut qemu, "has fd78::2/64 preferred static");
    for (far, near) in RIGHT.into_iter().zip(NEAR) {
        left.exec(&["ping", "-c", "3", "-W", "5", far]);
        let expired = output(&left, &["ping", "-c", "1", "-W", "5", "-t", "1", far]);
        let text = String::from_utf8_lossy(&expired.stdout).into_owned();
        let exceeded = text.contains("Time to live exceeded") || text.contains("Time exceeded");
        assert!(
            exceeded && text.contains(&format!("From {near}")),
            "ping -t 1 {far}: {text}"
        );
    }
    let directory = std::env::temp_dir().join(format!("anykernel-router-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let blob: Vec<u8> = (0..BLOB).map(|at| (at * 7 % 251) as u8).collect();
    std::fs::write(directory.join("blob"), &blob).unwrap();
    let server = serve(&right, &directory);
    let into: PathBuf = directory.join("fetched");
    for url in [
        "http://192.168.78.1:8000/blob",
        "http://[fd78::1]:8000/blob",
    ] {
        assert!(fetch(&left, url, &into) == blob, "{url}: the bytes differ");
    }
    drop(server);
    let stats = fetch(&left, "http://192.168.77.2/stats", &into);
    let stats = String::from_utf8_lossy(&stats).into_owned();
    let _ = std::fs::remove_dir_all(&directory);
    for family in ["forward", "forward6"] {
        assert!(
            counter(&stats, &format!("{family} forwarded")) > 2_000,
            "{stats}"
        );
        assert_eq!(
            counter(&stats, &format!("{family} ttl_exceeded")),
            1,
            "{stats}"
        );
    }
    assert_eq!(
        counter(&stats, "forward refused"),
        0,
        "{stats}\n{}",
        qemu.log()
    );
}
