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
    const BULK: usize = 64 * 1024 * 1024;
    let (sent, echoed) = namespace.run_inside(|| {
        let stream = TcpStream::connect((GUEST, 7)).expect("connect to echo");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut reader = stream.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let mut stream = stream;
            let mut hash = fnv_start();
            let mut block = vec![0u8; 64 * 1024];
            for round in 0..BULK / block.len() {
                block
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, b)| *b = (round * 31 + i * 7) as u8);
                stream.write_all(&block).expect("write to echo");
                hash = fnv(hash, &block);
            }
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            hash
        });
        let mut hash = fnv_start();
        let mut total = 0;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let count = reader.read(&mut buffer).expect("read from echo");
            if count == 0 {
                break;
            }
            hash = fnv(hash, &buffer[..count]);
            total += count;
        }
        assert_eq!(total, BULK);
        (writer.join().unwrap(), hash)
    });
    assert_eq!(sent, echoed, "echoed bytes differ from those sent");
    let received = namespace.run_inside(|| {
        let mut stream = TcpStream::connect((GUEST, 19)).expect("connect to source");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut offset = 0u64;
        while offset < BULK as u64 {
            let count = stream.read(&mut buffer).expect("read from source");
            assert!(count > 0, "source closed early at {offset}");
            for (index, &byte) in buffer[..count].iter().enumerate() {
                assert_eq!(
                    byte,
                    chargen_byte(offset + index as u64),
                    "byte {}",
                    offset + index as u64
                );
            }
            offset += count as u64;
        }
        offset
    });
    assert!(received >= BULK as u64);
}

fn fnv_start() -> u64 {
    0xcbf2_9ce4_8422_2325
}

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[test]
#[ignore = "needs root: a tap in a network namespace, with Linux's stack as the peer"]
fn linux_uses_udp_echo_discard_keep_alive_http_and_gets_resets_on_closed_ports() {
    let (namespace, _appliance) = start("services");
    namespace.run_inside(|| {
        let udp = std::net::UdpSocket::bind("192.168.77.1:0").unwrap();
        udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for size in [1usize, 512, 1472, 4000] {
            let datagram: Vec<u8> = (0..size).map(|i| i as u8).collect();
            udp.send_to(&datagram, (GUEST, 7)).unwrap();
            let mut buffer = vec![0u8; 8192];
            let (count, from) = udp.recv_from(&mut buffer).expect("an echoed datagram");
            assert_eq!(&buffer[..count], &datagram[..], "{size} bytes from {from}");
        }
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
