//! Host-side measurements of a guest's services, wherever they are: the
//! first HTTP answer after QEMU's spawn, echo round trips, bulk transfers
//! both ways; and the binary search behind "smallest memory that serves".
//!
//! A [`Target`] is an address and the ports of HTTP (80), echo (7), discard
//! (9) and source (19): forwards on 127.0.0.1 through user networking, or
//! the guest's own ports on a tap (call these from a thread inside the
//! namespace). The appliance's bench (network.rs) and the comparison with
//! Linux (linux/) measure both guests with these same functions.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use qemu_tests::Forward;
use qemu_tests::clients::{IO_TIMEOUT, free_port, http_get};

use super::stats::{median, percentile};

/// Bytes each bulk transfer moves.
const BULK: u64 = 256 << 20;
/// Echo round trips measured.
const ROUND_TRIPS: usize = 5_000;

/// Where a guest's services are: an address and the ports of HTTP, echo,
/// discard and source (forwards on 127.0.0.1, or the guest's own on a tap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub address: IpAddr,
    pub http: u16,
    pub echo: u16,
    pub discard: u16,
    pub source: u16,
}

/// The guest's address on the tap link of a `Namespace`.
pub const TAP_GUEST: Ipv4Addr = Ipv4Addr::new(192, 168, 77, 2);

/// The guest's IPv6 address on that link (the host's is `::1` of its
/// prefix, [`TAP_HOST6`]).
pub const TAP_GUEST6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x77, 0, 0, 0, 0, 0, 2);

/// The host's IPv6 address on the tap link.
pub const TAP_HOST6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x77, 0, 0, 0, 0, 0, 1);

/// Which family the clients speak to a guest on a tap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// The guest's address in this family.
    pub fn guest(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(TAP_GUEST),
            Family::V6 => IpAddr::V6(TAP_GUEST6),
        }
    }
}

impl Target {
    /// Fresh forwards on 127.0.0.1 to the guest's 80, 7, 9 and 19.
    pub fn forwarded() -> (Target, Vec<Forward>) {
        let ports = [free_port(), free_port(), free_port(), free_port()];
        let forwards = ports
            .iter()
            .zip([80, 7, 9, 19])
            .map(|(&host_port, guest_port)| Forward {
                host_port,
                guest_port,
            })
            .collect();
        let [http, echo, discard, source] = ports;
        let address = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let target = Target {
            address,
            http,
            echo,
            discard,
            source,
        };
        (target, forwards)
    }

    /// The guest's own ports at its address of `family`.
    pub fn on_tap(family: Family) -> Target {
        Target {
            address: family.guest(),
            http: 80,
            echo: 7,
            discard: 9,
            source: 19,
        }
    }

    /// Connects to `port` with the client timeouts; a connect gives up
    /// after `CONNECT_TIMEOUT` (a tap guest that is not up drops SYNs).
    pub fn open(&self, port: u16) -> std::io::Result<TcpStream> {
        let address = SocketAddr::new(self.address, port);
        let stream = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// How long one connect attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(250);

/// Milliseconds from `spawned_at` (QEMU's spawn) to the first HTTP 200.
///
/// Attempts are short so that the figure is not rounded up to a retry:
/// on a tap a guest that is not up drops the SYN (connect gives up after
/// 20 ms, a listening one answers in well under a millisecond); through
/// user networking the connect always succeeds (slirp accepts it) and only
/// the answer tells, so the wait for it is 50 ms.
pub fn first_answer(target: &Target, spawned_at: Instant, within: Duration) -> Result<f64, String> {
    let deadline = Instant::now() + within;
    let answer_timeout = if target.address.is_loopback() {
        Duration::from_millis(50)
    } else {
        Duration::from_secs(1)
    };
    while Instant::now() < deadline {
        let address = SocketAddr::new(target.address, target.http);
        let answer = TcpStream::connect_timeout(&address, Duration::from_millis(20)).and_then(
            |mut stream| {
                stream.set_read_timeout(Some(answer_timeout))?;
                http_get(&mut stream, "/")
            },
        );
        match answer {
            Ok(response) if response.status == 200 => {
                return Ok(spawned_at.elapsed().as_secs_f64() * 1e3);
            }
            // Nobody listens on a forward long after the start: QEMU has
            // ended (the guest failed to boot in this memory, say). On a
            // tap a refusal only means the guest is not listening yet.
            Err(error)
                if error.kind() == std::io::ErrorKind::ConnectionRefused
                    && target.address.is_loopback()
                    && spawned_at.elapsed() > Duration::from_secs(2) =>
            {
                return Err("QEMU ended".into());
            }
            // A refusal comes back at once and the guest offers no event to
            // wait on: pause briefly rather than flood it with SYNs.
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                std::thread::sleep(Duration::from_millis(2));
            }
            _ => {}
        }
    }
    Err("no HTTP answer".into())
}

/// `ROUND_TRIPS` 64-byte echoes on one connection, in microseconds, sorted.
pub fn round_trips(target: &Target) -> Result<Vec<f64>, String> {
    let mut stream = target.open(target.echo).map_err(|e| e.to_string())?;
    let message = [7u8; 64];
    let mut back = [0u8; 64];
    let mut rtts = (0..ROUND_TRIPS)
        .map(|_| {
            let started = Instant::now();
            stream.write_all(&message).map_err(|e| e.to_string())?;
            stream.read_exact(&mut back).map_err(|e| e.to_string())?;
            Ok(started.elapsed().as_secs_f64() * 1e6)
        })
        .collect::<Result<Vec<f64>, String>>()?;
    rtts.sort_by(f64::total_cmp);
    Ok(rtts)
}

/// The median and 99th percentile of sorted `values`.
pub fn median_and_p99(sorted: &[f64]) -> Option<(f64, f64)> {
    Some((median(sorted)?, percentile(sorted, 99)?))
}

/// MiB/s to discard, then from source.
pub fn bulk(target: &Target) -> Result<(f64, f64), String> {
    Ok((upload(target)?, download(target)?))
}

/// MiB/s host -> guest: `BULK` bytes to the discard service.
pub fn upload(target: &Target) -> Result<f64, String> {
    let block = vec![0u8; 256 * 1024];
    let mut upload = target.open(target.discard).map_err(|e| e.to_string())?;
    let started = Instant::now();
    for _ in 0..BULK / block.len() as u64 {
        upload.write_all(&block).map_err(|e| e.to_string())?;
    }
    drop(upload);
    Ok(BULK as f64 / started.elapsed().as_secs_f64() / 1048576.0)
}

/// MiB/s guest -> host: `BULK` bytes from the source service.
pub fn download(target: &Target) -> Result<f64, String> {
    let mut download = target.open(target.source).map_err(|e| e.to_string())?;
    let mut buffer = vec![0u8; 256 * 1024];
    let started = Instant::now();
    let mut received = 0u64;
    while received < BULK {
        let count = download.read(&mut buffer).map_err(|e| e.to_string())?;
        if count == 0 {
            return Err("source closed".into());
        }
        received += count as u64;
    }
    Ok(received as f64 / started.elapsed().as_secs_f64() / 1048576.0)
}

/// The smallest value in `low + 1 ..= high` for which `passes` holds,
/// assuming it is monotonic (fails at `low`, holds from some point on);
/// `None` when it fails even at `high`.
pub fn smallest_passing(low: u32, high: u32, mut passes: impl FnMut(u32) -> bool) -> Option<u32> {
    if !passes(high) {
        return None;
    }
    let (mut low, mut high) = (low, high);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if passes(middle) {
            high = middle;
        } else {
            low = middle;
        }
    }
    Some(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_finds_the_first_passing_value() {
        for threshold in [2, 3, 17, 63, 64] {
            let mut tried = Vec::new();
            let found = smallest_passing(1, 64, |value| {
                tried.push(value);
                value >= threshold
            });
            assert_eq!(found, Some(threshold));
            assert!(tried.len() <= 8, "{tried:?}");
        }
        assert_eq!(smallest_passing(1, 64, |value| value > 64), None);
    }

    #[test]
    fn percentiles_come_from_the_sorted_values() {
        let values: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(median_and_p99(&values), Some((100.5, 199.0)));
        assert_eq!(median_and_p99(&[5.0]), Some((5.0, 5.0)));
        assert_eq!(median_and_p99(&[]), None);
    }

    #[test]
    fn forwards_and_tap_targets_name_the_services() {
        let (target, forwards) = Target::forwarded();
        assert!(target.address.is_loopback());
        let guest_ports: Vec<u16> = forwards.iter().map(|f| f.guest_port).collect();
        assert_eq!(guest_ports, [80, 7, 9, 19]);
        assert_eq!(forwards[0].host_port, target.http);
        assert_eq!(forwards[3].host_port, target.source);
        let tap = Target::on_tap(Family::V4);
        assert_eq!(
            (tap.address, tap.http, tap.source),
            (IpAddr::V4(TAP_GUEST), 80, 19)
        );
    }
}
