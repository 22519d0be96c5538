//! The hosted appliance interoperates with Linux's TCP/IP over a tap:
//! ping, curl, bulk transfers both ways with a hash check.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Appliance, Namespace, chargen_byte, require_privilege};

const GUEST: &str = "192.168.77.2";

fn start(test: &str) -> (Namespace, Appliance) {
    require_privilege(&[]);
    let namespace = Namespace::new(test);
    let mut appliance = Appliance::start(&namespace, &["ip=192.168.77.2/24", "gw=192.168.77.1"]);
    appliance.expect_line("anykernel: ready", Duration::from_secs(20));
    (namespace, appliance)
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with Linux's stack as the peer"]
fn linux_pings_the_appliance_and_curl_gets_both_pages() {
    let (namespace, _appliance) = start("curl");
    let ping = namespace.exec(&["ping", "-c", "3", "-i", "0.2", "-W", "2", GUEST]);
    assert!(String::from_utf8_lossy(&ping.stdout).contains("3 received"));
    let page = namespace.exec(&[
        "curl",
        "-sS",
        "--max-time",
        "10",
        &format!("http://{GUEST}/"),
    ]);
    assert!(String::from_utf8_lossy(&page.stdout).contains("<h1>anykernel</h1>"));
    let stats = namespace.exec(&[
        "curl",
        "-sS",
        "--max-time",
        "10",
        &format!("http://{GUEST}/stats"),
    ]);
    let stats = String::from_utf8_lossy(&stats.stdout).into_owned();
    assert!(stats.contains("if vif0 up inet 192.168.77.2/24"), "{stats}");
    assert!(stats.contains("icmp received"), "{stats}");
    let missing = namespace.exec(&[
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "10",
        &format!("http://{GUEST}/nothing"),
    ]);
    assert_eq!(String::from_utf8_lossy(&missing.stdout), "404");
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with Linux's stack as the peer"]
fn bulk_transfers_to_and_from_linux_arrive_intact() {
    let (namespace, _appliance) = start("bulk");
    qemu_tests::bulk::echo_and_source_intact(&namespace, GUEST.parse().unwrap(), chargen_byte);
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with Linux's stack as the peer"]
fn linux_uses_udp_echo_discard_keep_alive_http_and_gets_resets_on_closed_ports() {
    let (namespace, _appliance) = start("services");
    namespace.run_inside(|| {
        let local = "192.168.77.1:0".parse().unwrap();
        qemu_tests::bulk::udp_echoes(local, GUEST.parse().unwrap());
        let mut discard = TcpStream::connect((GUEST, 9)).unwrap();
        discard.write_all(&[1u8; 1_000_000]).unwrap();
        drop(discard);
        let mut http = TcpStream::connect((GUEST, 80)).unwrap();
        http.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        for _ in 0..100 {
            http.write_all(b"GET / HTTP/1.1\r\nHost: appliance\r\n\r\n")
                .unwrap();
            let response = read_response(&mut http);
            assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
            assert!(response.contains("Connection: keep-alive"), "{response}");
        }
        let refused = TcpStream::connect((GUEST, 4444)).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    });
    let stats = namespace.exec(&[
        "curl",
        "-sS",
        "--max-time",
        "10",
        &format!("http://{GUEST}/stats"),
    ]);
    let stats = String::from_utf8_lossy(&stats.stdout).into_owned();
    assert!(stats.contains("discarded_bytes 1000000"), "{stats}");
}

/// Reads one HTTP response with a Content-Length body.
fn read_response(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("a response head");
        bytes.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&bytes).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .and_then(|value| value.trim().parse().ok())
        .expect("a Content-Length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("the body");
    head + &String::from_utf8_lossy(&body)
}
