//! The hosted appliance takes its address from a real DHCP server
//! (dnsmasq) on a tap, and serves on it.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Appliance, Namespace, require_privilege};

#[test]
#[ignore = "needs root: a tap in a network namespace, with dnsmasq serving DHCP on it"]
fn the_appliance_leases_an_address_from_dnsmasq_and_serves_on_it() {
    require_privilege(&["dnsmasq"]);
    let namespace = Namespace::new("dhcp");
    let leases = std::env::temp_dir().join(format!("{}.leases", namespace.name));
    let mut dnsmasq = namespace
        .command("dnsmasq")
        .args([
            "--no-daemon",
            "--port=0",
            "--interface=tap0",
            "--bind-interfaces",
            "--dhcp-range=192.168.77.50,192.168.77.99,255.255.255.0,1h",
            "--dhcp-authoritative",
        ])
        .arg(format!("--dhcp-leasefile={}", leases.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnsmasq starts");
    let mut appliance = Appliance::start(&namespace, &["ip=dhcp"]);
    let line = appliance.expect_line("dhcp: vif0 is 192.168.77.", Duration::from_secs(30));
    assert!(
        line.contains("via 192.168.77.1"),
        "the router option: {line}"
    );
    let address = line
        .split_whitespace()
        .find(|word| word.starts_with("192.168.77.") && word.contains('/'))
        .and_then(|word| word.split('/').next())
        .expect("the leased address")
        .to_string();
    let page = namespace.exec(&[
        "curl",
        "-sS",
        "--max-time",
        "10",
        &format!("http://{address}/"),
    ]);
    assert!(String::from_utf8_lossy(&page.stdout).contains("anykernel"));
    let _ = dnsmasq.kill();
    let _ = dnsmasq.wait();
    let _ = std::fs::remove_file(leases);
}
