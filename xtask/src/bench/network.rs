//! Network figures of the bare-metal appliance in QEMU (TCG): spawn to the
//! first HTTP answer, echo round trips, bulk throughput both ways, HTTP
//! requests per second, the smallest memory that serves, and (idle.rs)
//! how many idle connections 64 MiB holds and what each costs.
//!
//! Through QEMU's user networking with forwards from 127.0.0.1, the way a
//! user reaches `cargo xtask run`; new-connection HTTP rates go over a tap
//! in a namespace when we are root, because user networking accepts
//! connections one per second or so (it listens with a backlog of one).
//! Each figure is one `Series` value per run; failures leave a run out.

use std::time::{Duration, Instant};

use qemu_tests::clients::http_get;
use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::protocol::READY_MARKER;
use qemu_tests::{Machine, Network, Nic, Qemu, QemuConfig};

use super::report::Series;
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
fn keep_alive_rate(target: &Target) -> f64 {
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

/// The appliance behind a tap in a namespace of its own. QEMU goes
/// first when it is dropped, then the namespace.
pub(super) struct TapGuest {
    pub qemu: Qemu,
    pub namespace: Namespace,
}

/// Boots the appliance with `memory_mib` behind `tap0` in a new namespace
/// (tagged `tag`) and waits until it is ready.
///
/// # Errors
/// Why not: no privilege, QEMU, or no `ready` line.
pub(super) fn boot_on_tap(
    image: &std::path::Path,
    machine: Machine,
    memory_mib: u32,
    tag: &str,
) -> Result<TapGuest, String> {
    if let Some(reason) = missing_privilege(&[]) {
        return Err(reason);
    }
    let namespace = Namespace::new(&format!("{tag}{machine}"));
    let config = QemuConfig::kernel(image)
        .machine(machine)
        .memory_mib(memory_mib)
        .param(format!("ip={TAP_GUEST}/24"))
        .program("ip")
        .program_args(["netns", "exec", namespace.name.as_str()])
        .program_args([qemu_tests::QEMU_PROGRAM])
        .nic(Nic::new(Network::Tap {
            name: "tap0".into(),
        }));
    let mut qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    // The services listen once the appliance says it is ready.
    qemu.wait_for_line(READY_MARKER, Duration::from_secs(60))
        .map_err(|error| format!("not ready: {error}"))?;
    Ok(TapGuest { qemu, namespace })
}

/// New-connection HTTP requests per second from Linux over a tap.
fn new_connection_rate(image: &std::path::Path, machine: Machine) -> Option<f64> {
    let memory = qemu_tests::DEFAULT_MEMORY_MIB;
    let guest = match boot_on_tap(image, machine, memory, "bench") {
        Ok(guest) => guest,
        Err(error) => {
            eprintln!("xtask: new-connection HTTP rate skipped: {error}");
            return None;
        }
    };
    let target = Target::on_tap(crate::bench::target::Family::V4);
    let rate = guest.namespace.run_inside(move || {
        load(move || {
            target
                .open(target.http)
                .and_then(|mut stream| http_get(&mut stream, "/"))
                .is_ok_and(|response| response.status == 200)
        })
    });
    Some(rate)
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
    series.extend(super::idle::figures(image, machine));
    series
}

fn one_run(image: &std::path::Path, machine: Machine) -> Result<[Option<f64>; 7], String> {
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
        new_connections,
    ])
}
