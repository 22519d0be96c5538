//! Network figures of the bare-metal appliance in QEMU (TCG): spawn to the
//! first HTTP answer, echo round trips, bulk throughput both ways, HTTP
//! requests per second, the smallest memory that serves, and (idle.rs)
//! how many idle connections 64 MiB holds and what each costs.
//!
//! Through QEMU's user networking with forwards from 127.0.0.1, the way a
//! user reaches `cargo xtask run`; new-connection HTTP rates go over a tap
//! in a namespace when we are root, because user networking accepts
//! connections one per second or so (it listens with a backlog of one):
//! once clean, then during a SYN flood of 20,000 SYNs a second from
//! random sources, with the second as a percentage of the first (the
//! issue's goal is 50 %).
//! Each figure is one `Series` value per run; failures leave a run out.

use std::time::{Duration, Instant};

use qemu_tests::clients::http_get;
use qemu_tests::flood::SynFlood;
use qemu_tests::{Machine, Network, Nic, Qemu, QemuConfig};

use super::report::Series;
use super::tap::boot_on_tap;
use super::target::{
    TAP_GUEST, Target, bulk, first_answer, median_and_p99, round_trips, smallest_passing,
};

/// How long each HTTP load runs, and with how many connections.
const LOAD_TIME: Duration = Duration::from_secs(3);
const LOAD_CONNECTIONS: usize = 10;

/// A booted appliance with its forwarded ports.
struct Guest {
    qemu: Qemu,
    target: Target,
}

fn boot(image: &std::path::Path, machine: Machine, memory_mib: u32) -> Result<Guest, String> {
    let (target, forwards) = Target::forwarded();
    let config = QemuConfig::kernel(image)
        .machine(machine)
        .memory_mib(memory_mib)
        .nic(Nic::new(Network::User { forwards }));
    let qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    Ok(Guest { qemu, target })
}

/// Successful requests per second from `LOAD_CONNECTIONS` threads, each
/// running `request` in a loop for `LOAD_TIME`. A failed request counts
/// nothing and its worker goes on: during a SYN flood a connect whose SYN
/// was dropped costs its timeout, not the rest of the run.
fn load(request: impl Fn() -> bool + Send + Sync + Copy + 'static) -> f64 {
    let until = Instant::now() + LOAD_TIME;
    let workers: Vec<_> = (0..LOAD_CONNECTIONS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut done = 0u64;
                while Instant::now() < until {
                    done += u64::from(request());
                }
                done
            })
        })
        .collect();
    let total: u64 = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
    total as f64 / LOAD_TIME.as_secs_f64()
}

/// Keep-alive HTTP requests per second over user networking.
pub(super) fn keep_alive_rate(target: &Target) -> f64 {
    let streams: Vec<_> = (0..LOAD_CONNECTIONS)
        .filter_map(|_| target.open(target.http).ok())
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

/// New-connection HTTP rates over a tap: clean, then during a SYN flood.
#[derive(Clone, Copy, Debug)]
struct NewConnections {
    /// Requests per second, nothing else on the link.
    clean: f64,
    /// Requests per second while 20,000 SYNs a second arrive from random
    /// sources (`qemu_tests::flood`), `None` if the flood failed.
    flooded: Option<f64>,
}

impl NewConnections {
    /// The flood's rate as a percentage of the clean one (goal: 50).
    fn flood_ratio(&self) -> Option<f64> {
        self.flooded
            .map(|flooded| 100.0 * flooded / self.clean.max(1e-9))
    }
}

/// New-connection HTTP requests per second from Linux over a tap, clean
/// and then during a SYN flood, on one boot.
fn new_connection_rate(image: &std::path::Path, machine: Machine) -> Option<NewConnections> {
    let memory = qemu_tests::DEFAULT_MEMORY_MIB;
    let guest = match boot_on_tap(image, machine, memory, "bench") {
        Ok(guest) => guest,
        Err(error) => {
            eprintln!("xtask: new-connection HTTP rate skipped: {error}");
            return None;
        }
    };
    let target = Target::on_tap(crate::bench::target::Family::V4);
    let request = move || {
        target
            .open(target.http)
            .and_then(|mut stream| http_get(&mut stream, "/"))
            .is_ok_and(|response| response.status == 200)
    };
    let clean = guest.namespace.run_inside(move || load(request));
    let flood = SynFlood::start(&guest.namespace, TAP_GUEST, target.http);
    let flooded = guest.namespace.run_inside(move || load(request));
    let flooded = match flood.stop() {
        Ok(report) => {
            eprintln!("xtask: {machine} flood of {:.0} SYN/s", report.rate());
            Some(flooded)
        }
        Err(error) => {
            eprintln!("xtask: {machine} flood failed: {error}");
            None
        }
    };
    drop(guest);
    Some(NewConnections { clean, flooded })
}

/// The smallest `-m` in MiB with which the appliance answers HTTP.
fn smallest_memory(image: &std::path::Path, machine: Machine) -> Option<f64> {
    let serves = |mib: u32| {
        boot(image, machine, mib).is_ok_and(|guest| {
            first_answer(
                &guest.target,
                guest.qemu.spawned_at(),
                Duration::from_secs(15),
            )
            .is_ok()
        })
    };
    smallest_passing(1, 64, serves).map(f64::from)
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
        ("HTTP new connection during a SYN flood (tap)", "req/s"),
        ("HTTP new connection, flood / clean (tap)", "%"),
        ("smallest memory that serves", "MiB"),
    ];
    let mut series = Series::for_machine(machine, &names);
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
        series[9].values.push(mib);
    }
    series.extend(super::idle::figures(image, machine));
    series
}

fn one_run(image: &std::path::Path, machine: Machine) -> Result<[Option<f64>; 9], String> {
    let guest = boot(image, machine, qemu_tests::DEFAULT_MEMORY_MIB)?;
    let target = guest.target;
    let ready = first_answer(&target, guest.qemu.spawned_at(), Duration::from_secs(60))?;
    let rtts = round_trips(&target)?;
    let (median, p99) = median_and_p99(&rtts).ok_or("no round trips")?;
    let (up, down) = bulk(&target)?;
    let keep_alive = keep_alive_rate(&target);
    drop(guest);
    let new_connections = new_connection_rate(image, machine);
    Ok([
        Some(ready),
        Some(median),
        Some(p99),
        Some(up),
        Some(down),
        Some(keep_alive),
        new_connections.map(|rates| rates.clean),
        new_connections.and_then(|rates| rates.flooded),
        new_connections.and_then(|rates| rates.flood_ratio()),
    ])
}
