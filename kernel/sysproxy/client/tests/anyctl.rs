//! anyctl against running hosted kernels: it shows what is there in the
//! BSD tools' shapes, and its changes take effect at once, as another
//! kernel on the same bus sees.

mod common;

use std::net::Ipv4Addr;
use std::process::Command;

use anykernel_client::{Client, TcpListener};
use common::Served;

/// A bus file of the test's own.
struct Bus(std::path::PathBuf);

impl Bus {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "anykernel-anyctl-{}-{name}.bus",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    fn spec(&self) -> String {
        format!("bus:{}", self.0.display())
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs anyctl against `served`: its exit code and standard output.
fn anyctl(served: &Served, arguments: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_anyctl"))
        .args(["--server", &served.address()])
        .args(arguments)
        .output()
        .expect("anyctl runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("$ anyctl {}\n{stdout}{stderr}", arguments.join(" "));
    (output.status.code().unwrap_or(-1), stdout)
}

fn succeeds(served: &Served, arguments: &[&str]) -> String {
    let (code, stdout) = anyctl(served, arguments);
    assert_eq!(code, 0, "anyctl {} failed", arguments.join(" "));
    stdout
}

/// B's count of IPv4 packets that arrived for an address it lacks.
fn not_for_us(served: &Served) -> u64 {
    let stats = served.stats();
    let line = stats
        .lines()
        .find(|line| line.starts_with("ip not_for_us "));
    line.and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .expect("the counter")
}

fn ping(served: &Served, destination: Ipv4Addr) -> bool {
    let context = served.kernel.enter().expect("enters");
    (0..3).any(|sequence| {
        served
            .net
            .ping(&context, destination, sequence, 1_000_000_000)
            .is_ok()
    })
}

#[test]
fn anyctl_changes_an_address_and_a_route_of_a_running_kernel() {
    let bus = Bus::new("change");
    let a = Served::boot("ctl-a", "ip=10.0.0.2/24", &[bus.spec()]);
    let b = Served::boot("ctl-b", "ip=10.0.0.3/24", &[bus.spec()]);
    let shown = succeeds(&a, &["ifconfig"]);
    assert!(shown.contains("lo0: flags=<UP,LOOPBACK"), "{shown}");
    assert!(
        shown.contains("inet 10.0.0.2 netmask 0xffffff00 broadcast 10.0.0.255"),
        "{shown}"
    );
    assert!(shown.contains("\tether 02:"), "{shown}");

    succeeds(&a, &["ifconfig", "vif0", "10.0.0.9/24"]);
    assert!(
        ping(&b, Ipv4Addr::new(10, 0, 0, 9)),
        "B reaches A's new address"
    );
    assert!(succeeds(&a, &["ifconfig", "vif0"]).contains("inet 10.0.0.9 "));

    let (code, _) = anyctl(&a, &["ping", "-c", "1", "-W", "200", "10.9.0.1"]);
    assert_eq!(code, 2, "no route yet: no reply");
    let before = not_for_us(&b);
    succeeds(&a, &["route", "add", "10.9.0.0/16", "10.0.0.3"]);
    let table = succeeds(&a, &["route"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("10.9.0.0/16") && l.contains("10.0.0.3") && l.ends_with("vif0")),
        "{table}"
    );
    anyctl(&a, &["ping", "-c", "2", "-W", "300", "10.9.0.1"]);
    assert!(
        not_for_us(&b) > before,
        "A's pings went to B, its new route's gateway"
    );
    let neighbors = succeeds(&a, &["arp"]);
    assert!(neighbors.contains("? (10.0.0.3) at 02:"), "{neighbors}");
    succeeds(&a, &["route", "delete", "10.9.0.0/16"]);
    assert!(!succeeds(&a, &["netstat", "-r"]).contains("10.9.0.0/16"));
    let (code, _) = anyctl(&a, &["route", "delete", "10.9.0.0/16"]);
    assert_eq!(code, 1, "deleting it twice is an error");
}

#[test]
fn anyctl_lists_sockets_with_their_states_and_the_counters() {
    let a = Served::lo0("ctl-list");
    let client = Client::connect(&a.address()).expect("connects");
    let _listener = TcpListener::bind(&client, "0.0.0.0:7500").expect("binds");
    let sockets = succeeds(&a, &["netstat"]);
    assert!(
        sockets.starts_with("Active Internet connections"),
        "{sockets}"
    );
    assert!(
        sockets
            .lines()
            .any(|l| l.starts_with("tcp4") && l.contains("*.7500") && l.ends_with("LISTEN")),
        "{sockets}"
    );
    let stats = succeeds(&a, &["stats"]);
    assert!(
        stats.contains("tcp ") && stats.contains("sysproxy clients 2"),
        "{stats}"
    );
    let pinged = succeeds(&a, &["ping", "-c", "2", "127.0.0.1"]);
    assert!(
        pinged.contains("2 packets transmitted, 2 packets received, 0.0% packet loss"),
        "{pinged}"
    );
    let (code, _) = anyctl(&a, &["ifconfig", "nosuch0", "10.1.1.1/8"]);
    assert_eq!(code, 1);
}

#[test]
fn ls_and_cat_show_the_kernels_files() {
    use anykernel_client::Stubs;
    use anykernel_client::proto::types::Bytes;
    let served = Served::lo0("anyctl-files");
    let client = served.client();
    let (write_only, create) = (0o1, 0o100);
    let fd = client.open("/notes.txt".into(), write_only | create, 0o644);
    let fd = fd.expect("made in the kernel's tmpfs");
    let text = b"kept in the kernel\n";
    let written = client.write(fd, Bytes(text.to_vec())).ok();
    assert_eq!(written, Some(19));
    client.close(fd).expect("closed");
    let (code, listing) = anyctl(&served, &["ls", "/"]);
    assert_eq!(code, 0, "{listing}");
    let line = listing.lines().find(|line| line.ends_with(" notes.txt"));
    let line = line.unwrap_or_else(|| panic!("no notes.txt in {listing}"));
    assert!(line.starts_with("-rw-r--r--"), "{line}");
    assert!(line.contains(" 19 "), "{line}");
    let (code, shown) = anyctl(&served, &["cat", "/notes.txt"]);
    assert_eq!((code, shown.as_str()), (0, "kept in the kernel\n"));
    let (code, _) = anyctl(&served, &["cat", "/missing"]);
    assert_eq!(code, 1, "a missing file fails");
}
