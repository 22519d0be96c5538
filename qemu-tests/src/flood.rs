//! A SYN flood from random sources, sent from inside a test namespace at
//! a steady rate against a guest on its tap: for the flood test and the
//! bench.
//!
//! Why not `hping3 --rand-source -i u50`: it paces itself with one sleep
//! per SYN, and on these two loaded cores it sent 7,000 to 10,000 SYNs a
//! second next to QEMU, whatever gap it was given. This sender keeps a
//! schedule instead: every millisecond it sends the SYNs owed since the
//! start, so it holds [`SYNS_PER_SECOND`] on average however late the
//! scheduler wakes it.
//!
//! Each SYN comes from a random address of 198.18.0.0/15 (RFC 2544's
//! benchmarking range) and port, with a random sequence number, through a
//! raw IPv4 socket (`IP_HDRINCL`: the kernel routes it out of the tap,
//! fills the IP checksum and identification). The guest answers each with
//! a SYN-ACK to its gateway, the namespace, which does not forward: the
//! flood fills the listener's SYN queue and nothing leaves the namespace.

use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};

use crate::netns::Namespace;

/// The flood's rate: the 20,000 SYNs a second.
pub const SYNS_PER_SECOND: u64 = 20_000;

/// How often the sender wakes to send what it owes.
const TICK: Duration = Duration::from_millis(1);

/// SYNs sent in one wakeup at most, so a long stall does not turn into
/// one burst far above the rate.
const BURST_LIMIT: u64 = 200;

/// IPv4 header and TCP header with one MSS option.
const SYN_LENGTH: usize = 20 + 24;

/// A running flood; stopped (and its thread joined) on drop.
#[derive(Debug)]
pub struct SynFlood {
    stop: Arc<AtomicBool>,
    sender: Option<JoinHandle<Result<u64, String>>>,
    started: Instant,
}

/// What a flood did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloodReport {
    /// SYNs the kernel took from the sender.
    pub sent: u64,
    /// How long it ran.
    pub duration: Duration,
}

impl FloodReport {
    /// SYNs a second.
    pub fn rate(&self) -> f64 {
        self.sent as f64 / self.duration.as_secs_f64().max(1e-9)
    }
}

impl SynFlood {
    /// Starts flooding `target`:`port` from inside `namespace`.
    pub fn start(namespace: &Namespace, target: Ipv4Addr, port: u16) -> SynFlood {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let sender = namespace.spawn_inside(move || send_until(&flag, target, port));
        SynFlood {
            stop,
            sender: Some(sender),
            started: Instant::now(),
        }
    }

    /// Stops the flood and says what it sent.
    ///
    /// # Errors
    /// When the raw socket could not be opened or refused a SYN.
    pub fn stop(mut self) -> Result<FloodReport, String> {
        self.stop.store(true, Relaxed);
        let duration = self.started.elapsed();
        let sender = self.sender.take().expect("a flood is stopped once");
        let sent = sender.join().map_err(|_| "the flood's thread panicked")??;
        Ok(FloodReport { sent, duration })
    }
}

impl Drop for SynFlood {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(sender) = self.sender.take() {
            let _ = sender.join();
        }
    }
}

/// Sends SYNs on schedule until `stop`; returns how many.
fn send_until(stop: &AtomicBool, target: Ipv4Addr, port: u16) -> Result<u64, String> {
    let socket = raw_socket()?;
    let mut random = Xoshiro256PlusPlus::seed_from_u64(u64::from(std::process::id()));
    let started = Instant::now();
    let mut sent = 0u64;
    while !stop.load(Relaxed) {
        let owed = started.elapsed().as_micros() as u64 * SYNS_PER_SECOND / 1_000_000;
        for _ in 0..owed.saturating_sub(sent).min(BURST_LIMIT) {
            let syn = syn(&mut random, target, port);
            send_to(&socket, &syn, target)?;
            sent += 1;
        }
        std::thread::sleep(TICK);
    }
    Ok(sent)
}

/// A raw IPv4 socket that takes whole IP packets (`IPPROTO_RAW` implies
/// `IP_HDRINCL`).
fn raw_socket() -> Result<OwnedFd, String> {
    // SAFETY: socket(2) takes plain integers and returns a new descriptor
    // or -1; nothing is borrowed.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
    if fd < 0 {
        return Err(format!("raw socket: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody
    // else: the OwnedFd closes it once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn send_to(socket: &OwnedFd, packet: &[u8], target: Ipv4Addr) -> Result<(), String> {
    let address = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(target).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: sendto(2) reads `packet.len()` bytes from `packet` and
    // `size_of::<sockaddr_in>()` bytes from `address`, both live and of
    // those sizes for the call; the descriptor is open (owned by `socket`).
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            packet.as_ptr().cast(),
            packet.len(),
            0,
            (&raw const address).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    match sent {
        length if length == packet.len() as isize => Ok(()),
        // The tap's queue is full: that SYN is lost, as on a real link.
        _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOBUFS) => Ok(()),
        _ => Err(format!("sendto: {}", std::io::Error::last_os_error())),
    }
}

/// One SYN with MSS 1460 from a random 198.18.0.0/15 address and port.
fn syn(random: &mut Xoshiro256PlusPlus, target: Ipv4Addr, port: u16) -> [u8; SYN_LENGTH] {
    let bits = random.next_u64();
    let source = Ipv4Addr::from(0xC612_0000 | (bits as u32 & 0x1_FFFF));
    let source_port = 1024 + ((bits >> 32) as u16 % 64_000);
    let sequence = (bits >> 24) as u32;
    let mut packet = [0u8; SYN_LENGTH];
    let (ip, tcp) = packet.split_at_mut(20);
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(SYN_LENGTH as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&source.octets());
    ip[16..20].copy_from_slice(&target.octets());
    tcp[0..2].copy_from_slice(&source_port.to_be_bytes());
    tcp[2..4].copy_from_slice(&port.to_be_bytes());
    tcp[4..8].copy_from_slice(&sequence.to_be_bytes());
    tcp[12] = 6 << 4;
    tcp[13] = 0x02;
    tcp[14..16].copy_from_slice(&64_240u16.to_be_bytes());
    tcp[20..24].copy_from_slice(&[2, 4, 0x05, 0xb4]);
    let sum = wire::Checksum::new()
        .add_ipv4_pseudo_header(source, target, 6, tcp.len() as u16)
        .add(tcp)
        .finish();
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    packet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syn_is_well_formed_and_comes_from_the_benchmarking_range() {
        let mut random = Xoshiro256PlusPlus::seed_from_u64(7);
        let target = Ipv4Addr::new(192, 168, 77, 2);
        let packet = syn(&mut random, target, 80);
        let source = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
        assert_eq!(source.octets()[..1], [198]);
        assert!(matches!(source.octets()[1], 18 | 19), "{source}");
        let sum = wire::Checksum::new()
            .add_ipv4_pseudo_header(source, target, 6, 24)
            .add(&packet[20..])
            .finish();
        assert_eq!(sum, 0, "the TCP checksum verifies");
        assert_eq!((packet[33], &packet[22..24]), (0x02, &[0u8, 80][..]));
        let other = syn(&mut random, target, 80);
        assert_ne!(packet[12..16], other[12..16], "sources differ");
        let report = FloodReport {
            sent: 40_000,
            duration: Duration::from_secs(2),
        };
        assert_eq!(report.rate(), 20_000.0);
    }
}
