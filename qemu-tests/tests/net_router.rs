//! The appliance as a router in QEMU: two virtio NICs on two taps in two
//! network namespaces, forwarding on by boot parameters alone, routing
//! between Linux on either side (root only). Ping and a curl of 8 MiB
//! from a Python `http.server` cross it in both families, checked byte
//! for byte; a TTL or hop limit of 1 is answered with time exceeded from
//! the appliance; its `/stats` counts what it forwarded. Linux on both
//! sides (a host: `accept_ra=1`, forwarding off) takes an address of the
//! appliance's prefix and a default route from its router
//! advertisements.
//!
//! The setup is `qemu_tests::router`'s (also the bench's): QEMU in the
//! left namespace with both taps, the second moved to the right one once
//! the guest is up.

use std::path::PathBuf;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::router::{NEAR, RIGHT, Routed};
use qemu_tests::{Machine, appliance_image};

/// Bytes the transfers move.
const BLOB: usize = 8 << 20;

/// A Python `http.server` in a namespace; killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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
        // http.server announces nothing we read: ask again shortly.
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

/// Waits until Linux in `namespace` formed an address of `prefix` on
/// `device` and took a default route from router advertisements.
fn autoconfigured(namespace: &Namespace, device: &str, prefix: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let shown =
        |words: &[&str]| String::from_utf8_lossy(&output(namespace, words).stdout).into_owned();
    loop {
        let addresses = shown(&["ip", "-6", "addr", "show", "dev", device]);
        let formed =
            (addresses.lines()).any(|line| line.contains(prefix) && line.contains("dynamic"));
        let routes = shown(&["ip", "-6", "route", "show", "default"]);
        let routed = routes.contains("proto ra") && routes.contains(device);
        if formed && routed {
            return;
        }
        let state = format!("{addresses}{routes}");
        assert!(
            Instant::now() < deadline,
            "no SLAAC from the appliance: {state}"
        );
        // Linux reports SLAAC only to `ip monitor`; its state is read
        // again instead, within the deadline.
        std::thread::sleep(Duration::from_millis(200));
    }
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
    let routed = Routed::boot(appliance_image(), Machine::Q35, "rt");
    let (left, right) = (&routed.left, &routed.right);
    autoconfigured(left, "tap0", "fd77:");
    autoconfigured(right, "tap1", "fd78:");
    for (far, near) in RIGHT.into_iter().zip(NEAR) {
        left.exec(&["ping", "-c", "3", "-W", "5", far]);
        let expired = output(left, &["ping", "-c", "1", "-W", "5", "-t", "1", far]);
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
    let server = serve(right, &directory);
    let into: PathBuf = directory.join("fetched");
    for url in [
        "http://192.168.78.1:8000/blob",
        "http://[fd78::1]:8000/blob",
    ] {
        assert!(fetch(left, url, &into) == blob, "{url}: the bytes differ");
    }
    drop(server);
    let stats = fetch(left, "http://192.168.77.2/stats", &into);
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
    assert!(
        counter(&stats, "nd router_advertisements_sent") >= 2,
        "{stats}"
    );
    assert_eq!(
        counter(&stats, "forward refused"),
        0,
        "{stats}\n{}",
        routed.qemu.log()
    );
    for far in RIGHT {
        let through = routed.throughput(far.parse().unwrap(), BLOB);
        let mib = through.unwrap_or_else(|error| panic!("TCP to {far}: {error}"));
        eprintln!("through the appliance to {far}: {mib:.1} MiB/s");
    }
}
