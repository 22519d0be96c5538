//! virtio-net offloads against Linux's TCP over a tap (root).
//!
//! virtio-net offloads against Linux's TCP over a tap (root): the
//! appliance on q35 and microvm, with `virtio_net.offload=all` (checksum
//! offload and TSO both ways with QEMU, which hands the tap 64 KiB
//! segments) and with `none`, moves a chargen stream checked byte by byte,
//! an echoed stream checked by hash, and a discard upload counted exactly.

use std::hash::Hasher;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use qemu_tests::clients::http_get;
use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::{Machine, Network, Nic, Qemu, QemuConfig, Verdict, appliance_image, boot};

/// How long the guest may take to boot.
const READY_DEADLINE: Duration = Duration::from_secs(60);
/// The guest's address on the tap.
const GUEST: &str = "192.168.77.2";
/// Bytes each way.
const BULK: u64 = 64 << 20;
/// Bytes through the echo service.
const ECHOED: u64 = 16 << 20;

fn boot_on_tap(machine: Machine, offload: &str, namespace: &Namespace) -> Qemu {
    let config = QemuConfig::kernel(appliance_image())
        .machine(machine)
        .param("ip=192.168.77.2/24")
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
    let mut qemu = boot(&config);
    qemu.expect_line("anykernel: ready", READY_DEADLINE);
    qemu
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect((GUEST, port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

/// The `index`-th byte of the echoed stream: not a short cycle, so a
/// misplaced segment shows in the hash.
fn echo_byte(index: u64) -> u8 {
    let mixed = index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> 56) as u8 ^ (index >> 13) as u8
}

fn download_chargen() {
    let mut download = connect(19);
    let mut buffer = vec![0u8; 256 * 1024];
    let mut offset = 0u64;
    while offset < BULK {
        let count = download.read(&mut buffer).expect("download");
        assert!(count > 0, "chargen closed at {offset}");
        for (index, &byte) in buffer[..count].iter().enumerate() {
            let expected = app::services::chargen_byte(offset + index as u64);
            assert_eq!(byte, expected, "chargen byte {}", offset + index as u64);
        }
        offset += count as u64;
    }
}

/// Writes the echo stream on one thread and hashes what comes back.
fn echo_hashed() -> (u64, u64) {
    let stream = connect(7);
    let mut writer = stream.try_clone().expect("clone");
    let sending = std::thread::spawn(move || {
        let mut hash = std::hash::DefaultHasher::new();
        let mut block = vec![0u8; 64 * 1024];
        let mut offset = 0;
        while offset < ECHOED {
            for (index, byte) in block.iter_mut().enumerate() {
                *byte = echo_byte(offset + index as u64);
            }
            writer.write_all(&block).expect("echo write");
            hash.write(&block);
            offset += block.len() as u64;
        }
        hash.finish()
    });
    let mut reader = stream;
    let mut hash = std::hash::DefaultHasher::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    while received < ECHOED {
        let count = reader.read(&mut buffer).expect("echo read");
        assert!(count > 0, "echo closed at {received}");
        hash.write(&buffer[..count]);
        received += count as u64;
    }
    (sending.join().expect("the echo writer"), hash.finish())
}

/// Uploads to discard; returns the guest's statistics once it counted
/// every byte (or, after a deadline, as they are).
fn upload_discard() -> String {
    let mut upload = connect(9);
    let block = vec![0xa5u8; 256 * 1024];
    for _ in 0..BULK / block.len() as u64 {
        upload.write_all(&block).expect("upload");
    }
    drop(upload);
    // The guest reads the last bytes after the close returns here.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut stream = connect(80);
        let stats = http_get(&mut stream, "/stats").expect("GET /stats");
        let stats = String::from_utf8_lossy(&stats.body).into_owned();
        if stats.contains(&format!("discarded_bytes {BULK}")) || Instant::now() > deadline {
            return stats;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The three transfers over a tap with `offload`.
fn transfers_over_tap(machine: Machine, offload: &'static str) {
    if let Some(reason) = missing_privilege(&[]) {
        panic!("this test needs root and /dev/net/tun: {reason}");
    }
    let namespace = Namespace::new(&format!("of{machine}{}", &offload[..1]));
    let qemu = boot_on_tap(machine, offload, &namespace);
    let on = offload != "none";
    let said = format!("transmit_checksum: {on}");
    assert!(qemu.log().contains(&said), "{said}: {}", qemu.log());
    namespace.run_inside(download_chargen);
    let (sent, echoed) = namespace.run_inside(echo_hashed);
    assert_eq!(sent, echoed, "the echoed stream hashes as sent");
    let stats = namespace.run_inside(upload_discard);
    let discarded = format!("discarded_bytes {BULK}");
    assert!(stats.contains(&discarded), "{stats}\n{}", qemu.log());
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's TCP as the peer"]
fn q35_moves_streams_over_tap_with_offloads() {
    transfers_over_tap(Machine::Q35, "all");
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's TCP as the peer"]
fn microvm_moves_streams_over_tap_with_offloads() {
    transfers_over_tap(Machine::Microvm, "all");
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's TCP as the peer"]
fn q35_moves_streams_over_tap_with_offloads_off() {
    transfers_over_tap(Machine::Q35, "none");
}

#[test]
#[ignore = "needs root: QEMU's tap in a network namespace, Linux's TCP as the peer"]
fn microvm_moves_streams_over_tap_with_offloads_checksum_only() {
    transfers_over_tap(Machine::Microvm, "csum");
}

#[test]
fn an_unknown_offload_setting_fails_the_boot_with_a_message() {
    let config = QemuConfig::kernel(appliance_image())
        .machine(Machine::Microvm)
        .param("virtio_net.offload=fast")
        .nic(Nic::new(Network::User {
            forwards: Vec::new(),
        }));
    let outcome = boot(&config).wait_for_exit(READY_DEADLINE);
    assert_eq!(outcome.verdict, Verdict::Failed(1), "{outcome}");
    outcome.assert_contains("anykernel: boot failed");
    outcome.assert_contains("virtio_net.offload: expected none, csum or all");
    let panicked = outcome.lines.iter().any(|line| line.text.contains("panic"));
    assert!(!panicked, "{outcome}");
}
