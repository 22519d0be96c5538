//! The tap backend against a real Linux tap and the host's own IP stack.
//!
//! Needs root and /dev/net/tun: the test is `#[ignore = "needs root: …"]`,
//! `cargo xtask test` runs it in its own stage, and without root it fails
//! saying why. It creates the tap `akt0` with `ip tuntap`,
//! gives the host side 10.213.77.1/24 and checks both directions through
//! the host's stack: a datagram the host sends to 10.213.77.2 makes it ARP
//! on the tap, which the NIC receives; a UDP frame the NIC sends arrives at
//! a host socket. Then the same with the offloads on: frames cross with a
//! virtio-net header, and one sent with its UDP checksum left partial
//! arrives. The tap is deleted on drop.

use std::net::UdpSocket;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use hypercall::{NicError, NicOffloads, VIRTIO_HEADER_LENGTH, VirtualNic};
use hypercall_posix::nic::{FaultSpec, TapNic};

use crate::common::{DEADLINE, run_with_deadline};

const NAME: &str = "akt0";
const HOST_ADDRESS: [u8; 4] = [10, 213, 77, 1];
const NIC_ADDRESS: [u8; 4] = [10, 213, 77, 2];
const NIC_MAC: [u8; 6] = [2, 0, 0, 0x77, 0, 2];
const NIC_PORT: u16 = 4000;

/// Why this machine cannot run the tap test, if it cannot.
fn missing_privilege() -> Option<&'static str> {
    let root = std::fs::metadata("/proc/self").is_ok_and(|status| status.uid() == 0);
    if !root {
        return Some("not running as root");
    }
    (!Path::new("/dev/net/tun").exists()).then_some("/dev/net/tun is missing")
}

fn ip(arguments: &[&str]) -> bool {
    Command::new("ip")
        .args(arguments)
        .status()
        .is_ok_and(|status| status.success())
}

/// The tap `akt0`, deleted on drop.
struct Tap;

impl Tap {
    fn create() -> Tap {
        ip(&["tuntap", "del", "dev", NAME, "mode", "tap"]);
        assert!(
            ip(&["tuntap", "add", "dev", NAME, "mode", "tap"]),
            "ip tuntap add"
        );
        let tap = Tap;
        assert!(
            ip(&["addr", "add", "10.213.77.1/24", "dev", NAME]),
            "ip addr add"
        );
        assert!(ip(&["link", "set", NAME, "up"]), "ip link set up");
        tap
    }

    fn mac(&self) -> [u8; 6] {
        let text =
            std::fs::read_to_string(format!("/sys/class/net/{NAME}/address")).expect("sysfs");
        let bytes: Vec<u8> = text
            .trim()
            .split(':')
            .map(|part| u8::from_str_radix(part, 16).expect("hex"))
            .collect();
        bytes.try_into().expect("six bytes")
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        ip(&["tuntap", "del", "dev", NAME, "mode", "tap"]);
    }
}

/// The Internet checksum of `bytes` (RFC 1071).
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|pair| u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0)))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An Ethernet frame carrying a UDP datagram (no UDP checksum) from the
/// NIC to the host's `port`.
fn udp_frame(host_mac: [u8; 6], port: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = [host_mac, NIC_MAC].concat();
    frame.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + 8 + payload.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&NIC_ADDRESS);
    ip.extend_from_slice(&HOST_ADDRESS);
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&NIC_PORT.to_be_bytes());
    frame.extend_from_slice(&port.to_be_bytes());
    frame.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(payload);
    frame
}

/// Whether `frame` is an ARP request asking for the NIC's address.
fn asks_for_the_nic(frame: &[u8]) -> bool {
    frame.get(12..14) == Some(&[0x08, 0x06])
        && frame.get(20..22) == Some(&[0, 1])
        && frame.get(38..42) == Some(&NIC_ADDRESS)
}

#[test]
#[ignore = "needs root: creates the tap akt0 and gives the host side an address"]
fn a_tap_carries_frames_both_ways_and_close_ends_a_receive() {
    if let Some(reason) = missing_privilege() {
        panic!("this test needs root and /dev/net/tun: {reason}");
    }
    let tap = Tap::create();
    let faults = (FaultSpec::default(), 1);
    let nic = TapNic::open_with(NAME, NIC_MAC, faults, false).expect("the tap opens");
    assert_eq!(
        (nic.name(), nic.max_frame(), nic.mac_address()),
        (NAME, 1514, NIC_MAC)
    );
    assert_eq!(nic.offloads(), NicOffloads::default());
    let socket = UdpSocket::bind("10.213.77.1:0").expect("the host address is up");
    socket
        .set_read_timeout(Some(DEADLINE))
        .expect("timeout set");
    socket
        .send_to(b"who is there", "10.213.77.2:9")
        .expect("sent");
    run_with_deadline(|| {
        let mut buffer = [0u8; 1514];
        loop {
            let length = nic.receive(&mut buffer).expect("a frame from the host");
            if asks_for_the_nic(&buffer[..length]) {
                break;
            }
        }
    });
    let port = socket.local_addr().expect("bound").port();
    nic.send(&udp_frame(tap.mac(), port, b"hello from the NIC"))
        .expect("sent");
    let mut buffer = [0u8; 64];
    let (length, from) = socket
        .recv_from(&mut buffer)
        .expect("the host stack delivered it");
    assert_eq!(&buffer[..length], b"hello from the NIC");
    assert_eq!(from, "10.213.77.2:4000".parse().expect("address"));
    assert_eq!(nic.send(&[0u8; 13]), Err(NicError::BadLength));
    closing_ends_a_blocked_receive(&nic);
    assert!(nic.statistics().delivered >= 1);
    drop(nic);
    offloads_cross_with_a_header(&tap, &socket);
}

/// The NIC with offloads: the header before every frame both ways, and a
/// partial UDP checksum the host's side completes.
fn offloads_cross_with_a_header(tap: &Tap, socket: &UdpSocket) {
    let nic = TapNic::open(NAME, NIC_MAC, FaultSpec::default(), 2).expect("the tap opens");
    let both = NicOffloads {
        virtio_header: true,
        segmentation: true,
        segmentation_ipv6: true,
    };
    assert_eq!((nic.offloads(), nic.max_frame()), (both, 10 + 14 + 65_535));
    // A fresh neighbour lookup: the host forgets the NIC's MAC first.
    ip(&["neigh", "flush", "dev", NAME]);
    socket.send_to(b"again", "10.213.77.2:9").expect("sent");
    run_with_deadline(|| {
        let mut buffer = vec![0u8; nic.max_frame()];
        loop {
            let length = nic.receive(&mut buffer).expect("a frame from the host");
            if asks_for_the_nic(&buffer[VIRTIO_HEADER_LENGTH..length]) {
                break;
            }
        }
    });
    let port = socket.local_addr().expect("bound").port();
    let frame = udp_frame(tap.mac(), port, b"partial sum");
    let mut sent = partial_header(34, 6).to_vec();
    sent.extend_from_slice(&with_partial_udp_sum(frame));
    nic.send(&sent).expect("sent");
    let mut buffer = [0u8; 64];
    let (length, _) = socket.recv_from(&mut buffer).expect("delivered");
    assert_eq!(&buffer[..length], b"partial sum");
}

/// A virtio-net header asking for the checksum at `start` + `offset`.
fn partial_header(start: u16, offset: u16) -> [u8; VIRTIO_HEADER_LENGTH] {
    let mut header = [0u8; VIRTIO_HEADER_LENGTH];
    header[0] = 1; // NEEDS_CSUM
    header[6..8].copy_from_slice(&start.to_le_bytes());
    header[8..10].copy_from_slice(&offset.to_le_bytes());
    header
}

/// `frame` (from `udp_frame`) with the folded pseudo-header sum in its
/// UDP checksum field, for the device to complete.
fn with_partial_udp_sum(mut frame: Vec<u8>) -> Vec<u8> {
    let udp_length = (frame.len() - 34) as u16;
    let mut pseudo = NIC_ADDRESS.to_vec();
    pseudo.extend_from_slice(&HOST_ADDRESS);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&udp_length.to_be_bytes());
    let folded = !checksum(&pseudo);
    frame[40..42].copy_from_slice(&folded.to_be_bytes());
    frame
}

fn closing_ends_a_blocked_receive(nic: &TapNic) {
    run_with_deadline(|| {
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| {
                loop {
                    match nic.receive(&mut [0u8; 1514]) {
                        Ok(_) => continue,
                        Err(error) => return error,
                    }
                }
            });
            nic.close();
            assert_eq!(waiting.join().expect("no panic"), NicError::Closed);
        });
    });
    assert_eq!(nic.send(&[0u8; 60]), Err(NicError::Closed));
}

#[test]
fn a_tap_that_cannot_be_opened_is_unavailable_with_a_reason() {
    let failure = TapNic::open("", NIC_MAC, FaultSpec::default(), 1).expect_err("no such name");
    assert_eq!(failure.error, NicError::Unavailable);
    assert!(failure.reason.starts_with("tap : "), "{}", failure.reason);
}
