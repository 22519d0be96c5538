//! Network figures of the bare-metal appliance in QEMU (TCG): spawn to the
//! first HTTP answer, echo round trips, bulk throughput both ways, HTTP
//! requests per second, and the smallest memory that serves.
//!
//! Through QEMU's user networking with forwards from 127.0.0.1, the way a
//! user reaches `cargo xtask run`; new-connection HTTP rates go over a tap
//! in a namespace when we are root, because user networking accepts
//! connections one per second or so (it listens with a backlog of one).
//! Each figure is one `Series` value per run; failures leave a run out.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use qemu_tests::clients::{connect, free_port, http_get};
use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::{Forward, Machine, Network, Nic, Qemu, QemuConfig};

use super::report::Series;

/// Bytes each bulk transfer moves.
const BULK: u64 = 256 << 20;
/// Echo round trips measured.
const ROUND_TRIPS: usize = 5_000;
/// How long each HTTP load runs, and with how many connections.
const LOAD_TIME: Duration = Duration::from_secs(3);
const LOAD_CONNECTIONS: usize = 10;

/// A booted appliance with its forwarded ports.
struct Guest {
    qemu: Qemu,
    http: u16,
    echo: u16,
    discard: u16,
    source: u16,
}

fn boot(image: &std::path::Path, machine: Machine, memory_mib: u32) -> Result<Guest, String> {
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let forwards = ports
        .iter()
        .zip([80, 7, 9, 19])
        .map(|(&host_port, guest_port)| Forward {
            host_port,
            guest_port,
        })
        .collect();
    let config = QemuConfig::kernel(image)
        .machine(machine)
        .memory_mib(memory_mib)
        .nic(Nic::new(Network::User { forwards }));
    let qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    Ok(Guest {
        qemu,
        http: ports[0],
        echo: ports[1],
        discard: ports[2],
        source: ports[3],
    })
}

/// Milliseconds from QEMU's spawn to the first HTTP 200.
fn first_answer(guest: &Guest, within: Duration) -> Result<f64, String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let answer = connect(guest.http).and_then(|mut stream| {
            stream.set_read_timeout(Some(Duration::from_millis(200)))?;
            http_get(&mut stream, "/")
        });
        match answer {
            Ok(response) if response.status == 200 => {
                return Ok(guest.qemu.spawned_at().elapsed().as_secs_f64() * 1e3);
            }
            // Nobody listens on the forward long after the start: QEMU
            // has ended (the guest failed to boot in this memory, say).
            Err(error)
                if error.kind() == std::io::ErrorKind::ConnectionRefused
                    && guest.qemu.spawned_at().elapsed() > Duration::from_secs(2) =>
            {
                return Err("QEMU ended".into());
            }
            _ => {}
        }
    }
    Err("no HTTP answer".into())
}

fn round_trips(guest: &Guest) -> Result<Vec<f64>, String> {
    let mut stream = connect(guest.echo).map_err(|e| e.to_string())?;
    let message = [7u8; 64];
    let mut back = [0u8; 64];
    (0..ROUND_TRIPS)
        .map(|_| {
            let started = Instant::now();
            stream.write_all(&message).map_err(|e| e.to_string())?;
            stream.read_exact(&mut back).map_err(|e| e.to_string())?;
            Ok(started.elapsed().as_secs_f64() * 1e6)
        })
        .collect()
}

/// MiB/s to discard, then from source.
fn bulk(guest: &Guest) -> Result<(f64, f64), String> {
    let block = vec![0u8; 256 * 1024];
    let mut upload = connect(guest.discard).map_err(|e| e.to_string())?;
    let started = Instant::now();
    for _ in 0..BULK / block.len() as u64 {
        upload.write_all(&block).map_err(|e| e.to_string())?;
    }
    drop(upload);
    let up = BULK as f64 / started.elapsed().as_secs_f64() / 1048576.0;
    let mut download = connect(guest.source).map_err(|e| e.to_string())?;
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
    let down = received as f64 / started.elapsed().as_secs_f64() / 1048576.0;
    Ok((up, down))
}

/// Requests per second from `LOAD_CONNECTIONS` threads, each running
/// `request` in a loop for `LOAD_TIME`.
fn load(request: impl Fn() -> bool + Send + Sync + Copy + 'static) -> f64 {
    let until = Instant::now() + LOAD_TIME;
    let workers: Vec<_> = (0..LOAD_CONNECTIONS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut done = 0u64;
                while Instant::now() < until && request() {
                    done += 1;
                }
                done
            })
        })
        .collect();
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
    total as f64 / LOAD_TIME.as_secs_f64()
}

/// Keep-alive HTTP requests per second over user networking.
fn keep_alive_rate(guest: &Guest) -> f64 {
    let port = guest.http;
    let streams: Vec<_> = (0..LOAD_CONNECTIONS)
        .filter_map(|_| connect(port).ok())
        .collect();
    let streams = std::sync::Arc::new(
        streams
            .into_iter()
            .map(std::sync::Mutex::new)
            .collect::<Vec<_>>(),
    );
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let until = Instant::now() + LOAD_TIME;
    let workers: Vec<_> = (0..streams.len())
        .map(|_| {
            let (streams, next) = (streams.clone(), next.clone());
            std::thread::spawn(move || {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut stream = streams[index].lock().expect("one user");
                let mut done = 0u64;
                while Instant::now() < until && http_get(&mut stream, "/").is_ok() {
                    done += 1;
                }
                done
            })
        })
        .collect();
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
    total as f64 / LOAD_TIME.as_secs_f64()
}

/// New-connection HTTP requests per second from Linux over a tap.
fn new_connection_rate(image: &std::path::Path, machine: Machine) -> Option<f64> {
    if let Some(reason) = missing_privilege(&[]) {
        eprintln!("xtask: new-connection HTTP rate skipped: {reason}");
        return None;
    }
    let namespace = Namespace::new(&format!("bench{machine}"));
    let config = QemuConfig::kernel(image)
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
    let mut qemu = Qemu::spawn(&config).ok()?;
    qemu.wait_for_line("vioif0 is", Duration::from_secs(60))
        .ok()?;
    let rate = namespace.run_inside(|| {
        load(|| {
            TcpStream::connect(("192.168.77.2", 80))
                .and_then(|mut stream| {
                    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
                    http_get(&mut stream, "/")
                })
                .is_ok_and(|response| response.status == 200)
        })
    });
    drop(qemu);
    Some(rate)
}

/// The smallest `-m` in MiB with which the appliance answers HTTP.
fn smallest_memory(image: &std::path::Path, machine: Machine) -> Option<f64> {
    let serves = |mib: u32| {
        boot(image, machine, mib)
            .is_ok_and(|guest| first_answer(&guest, Duration::from_secs(15)).is_ok())
    };
    let (mut low, mut high) = (1u32, 64u32);
    if !serves(high) {
        return None;
    }
    while high - low > 1 {
        let middle = (low + high) / 2;
        if serves(middle) {
            high = middle;
        } else {
            low = middle;
        }
    }
    Some(f64::from(high))
}

/// Every network series of `machine` over `runs` runs.
pub fn figures(image: &std::path::Path, machine: Machine, runs: u32) -> Vec<Series> {
    let names = [
        ("spawn -> first HTTP 200", "ms"),
        ("echo RTT median", "us"),
        ("echo RTT p99", "us"),
        ("bulk host -> guest", "MiB/s"),
        ("bulk guest -> host", "MiB/s"),
        ("HTTP keep-alive", "req/s"),
        ("HTTP new connection (tap)", "req/s"),
        ("smallest memory that serves", "MiB"),
    ];
    let mut series: Vec<Series> = names
        .iter()
        .map(|(name, unit)| Series {
            name: format!("{machine} {name}"),
            unit: (*unit).into(),
            values: Vec::new(),
        })
        .collect();
    for run in 1..=runs {
        match one_run(image, machine) {
            Ok(values) => {
                for (one, value) in series.iter_mut().zip(values) {
                    one.values.extend(value);
                }
            }
            Err(error) => eprintln!("xtask: {machine} network run {run} left out: {error}"),
        }
    }
    if let Some(mib) = smallest_memory(image, machine) {
        series[7].values.push(mib);
    }
    series
}

fn one_run(image: &std::path::Path, machine: Machine) -> Result<[Option<f64>; 7], String> {
    let guest = boot(image, machine, qemu_tests::DEFAULT_MEMORY_MIB)?;
    let ready = first_answer(&guest, Duration::from_secs(60))?;
    let mut rtts = round_trips(&guest)?;
    rtts.sort_by(f64::total_cmp);
    let (up, down) = bulk(&guest)?;
    let keep_alive = keep_alive_rate(&guest);
    drop(guest);
    let new_connections = new_connection_rate(image, machine);
    Ok([
        Some(ready),
        Some(rtts[rtts.len() / 2]),
        Some(rtts[rtts.len() * 99 / 100]),
        Some(up),
        Some(down),
        Some(keep_alive),
        new_connections,
    ])
}
