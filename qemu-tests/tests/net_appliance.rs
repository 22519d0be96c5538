//! The appliance on a virtio NIC in QEMU, served to real clients on the
//! host: pages, keep-alive, bulk transfers both ways and echo through user
//! networking, and 200 connections at once from Linux's TCP over a tap
//! (root: those two are `#[ignore = "needs root: …"]` and run in the
//! root-only QEMU stage of `cargo xtask test`); on q35 and on microvm.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use qemu_tests::clients::{connect, free_port, http_get};
use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::{Forward, Machine, Network, Nic, Qemu, QemuConfig, appliance_image, boot};

/// How long the guest may take to boot and get its DHCP lease.
const LEASE_DEADLINE: Duration = Duration::from_secs(60);

/// A booted appliance and the host ports of its HTTP and echo services.
struct Served {
    qemu: Qemu,
    http: u16,
    echo: u16,
    discard: u16,
    source: u16,
}

fn serve(machine: Machine, params: &[&str]) -> Served {
    let (http, echo, discard, source) = (free_port(), free_port(), free_port(), free_port());
    let forwards =
        [(http, 80), (echo, 7), (discard, 9), (source, 19)].map(|(host_port, guest_port)| {
            Forward {
                host_port,
                guest_port,
            }
        });
    let config = QemuConfig::kernel(appliance_image())
        .machine(machine)
        .params(params.iter().copied())
        .nic(Nic::new(Network::User {
            forwards: forwards.to_vec(),
        }));
    let mut qemu = boot(&config);
    qemu.expect_line("vioif0 is 10.0.2.15/24 via 10.0.2.2", LEASE_DEADLINE);
    Served {
        qemu,
        http,
        echo,
        discard,
        source,
    }
}

fn pages_and_keep_alive(machine: Machine) {
    let served = serve(machine, &[]);
    let mut stream = connect(served.http).expect("connect");
    let page = http_get(&mut stream, "/").expect("GET /");
    assert_eq!(page.status, 200, "{}", served.qemu.log());
    assert!(String::from_utf8_lossy(&page.body).contains("<h1>anykernel</h1>"));
    assert_date_is_now(&page.head);
    let stats = http_get(&mut stream, "/stats").expect("GET /stats");
    let stats = String::from_utf8_lossy(&stats.body).into_owned();
    assert!(stats.contains("if vioif0 up inet 10.0.2.15/24"), "{stats}");
    for request in 0..1000 {
        let response =
            http_get(&mut stream, "/").unwrap_or_else(|e| panic!("request {request}: {e}"));
        assert_eq!(response.status, 200);
    }
}

/// The response's `Date` is an IMF-fixdate within a few minutes of the
/// host's clock (QEMU starts the guest's RTC at the host's UTC time).
fn assert_date_is_now(head: &str) {
    let date = head.lines().find_map(|line| line.strip_prefix("Date: "));
    let date = date.unwrap_or_else(|| panic!("no Date header in {head}"));
    let sent = httpdate::parse_http_date(date).unwrap_or_else(|e| panic!("{date}: {e}"));
    let now = std::time::SystemTime::now();
    let skew = now
        .duration_since(sent)
        .or_else(|early| Ok::<_, ()>(early.duration()));
    let skew = skew.expect("a duration either way");
    assert!(
        skew.as_secs() < 300,
        "Date {date} is {skew:?} off the host's clock"
    );
}

/// 200 connections open at once from Linux's TCP over a tap, each served
/// by its own guest thread. (Not over user networking: QEMU's slirp
/// listens with a backlog of one, so connects queue for a second each.)
fn parallel_connections_over_tap(machine: Machine) {
    if let Some(reason) = missing_privilege(&[]) {
        panic!("this test needs root and /dev/net/tun: {reason}");
    }
    let namespace = Namespace::new(&format!("vm{machine}"));
    let config = QemuConfig::kernel(appliance_image())
        .machine(machine)
        .param("ip=192.168.77.2/24")
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
    let mut qemu = boot(&config);
    qemu.expect_line("vioif0 is 192.168.77.2/24", LEASE_DEADLINE);
    // A static address is set when the NIC attaches, before the services
    // listen: connect once the appliance says it is ready.
    qemu.expect_line("anykernel: ready", LEASE_DEADLINE);
    let statuses = namespace.run_inside(|| {
        let streams: Vec<TcpStream> = (0..200)
            .map(|_| {
                let stream = TcpStream::connect(("192.168.77.2", 80)).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .unwrap();
                stream
            })
            .collect();
        let clients: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                std::thread::spawn(move || http_get(&mut stream, "/").map(|r| r.status))
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().expect("a client").ok())
            .collect::<Vec<_>>()
    });
    let answered = statuses
        .iter()
        .filter(|&&status| status == Some(200))
        .count();
    assert_eq!(answered, 200, "{}", qemu.log());
}

fn bulk_both_ways_and_echo(machine: Machine) {
    const BULK: u64 = 256 << 20;
    let served = serve(machine, &[]);
    let mut upload = connect(served.discard).expect("connect to discard");
    let block = vec![0x5au8; 256 * 1024];
    for _ in 0..BULK / block.len() as u64 {
        upload.write_all(&block).expect("upload");
    }
    drop(upload);
    let mut download = connect(served.source).expect("connect to source");
    let mut buffer = vec![0u8; 256 * 1024];
    let mut offset = 0u64;
    while offset < BULK {
        let count = download.read(&mut buffer).expect("download");
        assert!(count > 0, "source closed at {offset}");
        for (index, &byte) in buffer[..count].iter().enumerate() {
            assert_eq!(byte, app::services::chargen_byte(offset + index as u64));
        }
        offset += count as u64;
    }
    drop(download);
    let mut echo = connect(served.echo).expect("connect to echo");
    for number in 0..10_000u32 {
        let message = format!("{number:05}");
        echo.write_all(message.as_bytes()).expect("echo write");
        let mut back = [0u8; 5];
        echo.read_exact(&mut back).expect("echo read");
        assert_eq!(&back, message.as_bytes(), "echo {number}");
    }
    let mut stream = connect(served.http).expect("connect");
    let stats = http_get(&mut stream, "/stats").expect("GET /stats");
    let stats = String::from_utf8_lossy(&stats.body).into_owned();
    assert!(
        stats.contains(&format!("discarded_bytes {BULK}")),
        "{stats}"
    );
}

#[test]
fn q35_serves_pages_and_1000_keep_alive_requests() {
    pages_and_keep_alive(Machine::Q35);
}

#[test]
fn microvm_serves_pages_and_1000_keep_alive_requests() {
    pages_and_keep_alive(Machine::Microvm);
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's TCP as the client"]
fn q35_serves_200_connections_at_once_over_tap() {
    parallel_connections_over_tap(Machine::Q35);
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's TCP as the client"]
fn microvm_serves_200_connections_at_once_over_tap() {
    parallel_connections_over_tap(Machine::Microvm);
}

#[test]
fn q35_moves_256_mib_each_way_and_echoes_in_order() {
    bulk_both_ways_and_echo(Machine::Q35);
}

#[test]
fn microvm_moves_256_mib_each_way_and_echoes_in_order() {
    bulk_both_ways_and_echo(Machine::Microvm);
}

#[test]
fn the_appliance_serves_with_8_mib_of_memory() {
    let (http, _) = (free_port(), ());
    let config = QemuConfig::kernel(appliance_image())
        .machine(Machine::Microvm)
        .memory_mib(8)
        .nic(Nic::new(Network::User {
            forwards: vec![Forward {
                host_port: http,
                guest_port: 80,
            }],
        }));
    let mut qemu = boot(&config);
    qemu.expect_line("vioif0 is 10.0.2.15/24", LEASE_DEADLINE);
    let mut stream = connect(http).expect("connect");
    assert_eq!(
        http_get(&mut stream, "/").expect("GET /").status,
        200,
        "{}",
        qemu.log()
    );
}
