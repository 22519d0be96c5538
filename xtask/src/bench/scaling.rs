//! Cost as the work grows, the appliance on microvm behind a tap (root):
//! bulk throughput with 1, 10 and 100 parallel streams; HTTP keep-alive
//! requests per second and the kernel's memory with 10, 1,000 and 10,000
//! idle connections open; bulk throughput under kernel memory limits
//! (`mem=`), after the seeds' Table 3.2 (I/O speed against the memory a
//! rump kernel may use); once, 100,000 idle connections in 1 GiB
//! (multitude.rs).
//!
//! Benchmarks report, they do not assert: a step that fails (a limit too
//! small to boot, say) is reported and left out of the figures.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use qemu_tests::Machine;
use qemu_tests::crowd::{self, GuestFigures};

use super::network::keep_alive_rate;
use super::report::Series;
use super::tap::{boot_on_tap, boot_on_tap_with};
use super::target::{Family, TAP_GUEST, Target};

/// Where the scaling rows are measured.
const MACHINE: Machine = Machine::Microvm;
/// The guest's memory (`-m`) for every row.
const MEMORY_MIB: u32 = 64;
/// Parallel bulk streams.
const STREAMS: [usize; 3] = [1, 10, 100];
/// Bytes the parallel streams of one row move together, each way.
const SCALED_BULK: u64 = 64 << 20;
/// Idle connections held while HTTP is measured.
const OPEN: [usize; 3] = [10, 1_000, 10_000];
/// Descriptors kept for everything besides the idle clients.
const SPARE_DESCRIPTORS: u64 = 200;
/// How long the guest may take to accept a step's idle clients.
const ACCEPT_DEADLINE: Duration = Duration::from_secs(60);
/// Kernel memory limits (`mem=`) bulk runs under; at 1 MiB the appliance
/// does not start (no memory left for its services' threads once the NIC's
/// rings are filled).
const LIMITS: [&str; 3] = ["2M", "3M", "8M"];

/// Every scaling series over `runs` runs; empty values when not root.
pub fn figures(image: &Path, runs: u32) -> Vec<Series> {
    let mut series = Vec::new();
    let streams = STREAMS.iter().flat_map(|count| {
        [
            format!("bulk host -> guest, {count} streams (tap)"),
            format!("bulk guest -> host, {count} streams (tap)"),
        ]
    });
    series.extend(named(streams, "MiB/s"));
    let open = OPEN.map(|count| format!("HTTP keep-alive, {count} idle connections open (tap)"));
    series.extend(named(open, "req/s"));
    let memory = OPEN.map(|count| format!("kernel memory in use, {count} idle connections (tap)"));
    series.extend(named(memory, "KiB"));
    let limits = LIMITS.iter().flat_map(|limit| {
        [
            format!("bulk host -> guest, mem={limit} (tap)"),
            format!("bulk guest -> host, mem={limit} (tap)"),
        ]
    });
    series.extend(named(limits, "MiB/s"));
    for run in 1..=runs {
        if let Err(error) = one_run(image, &mut series) {
            eprintln!("xtask: scaling run {run} left out: {error}");
        }
    }
    series.extend(super::multitude::figures(image, MACHINE));
    series
}

/// Empty series of `unit`, one per name, prefixed with the machine.
fn named(names: impl IntoIterator<Item = String>, unit: &str) -> Vec<Series> {
    names
        .into_iter()
        .map(|name| Series {
            name: format!("{MACHINE} {name}"),
            unit: unit.into(),
            values: Vec::new(),
        })
        .collect()
}

/// One run of every row, in the order of [`figures`]' series.
fn one_run(image: &Path, series: &mut [Series]) -> Result<(), String> {
    let guest = boot_on_tap(image, MACHINE, MEMORY_MIB, "scale")?;
    let target = Target::on_tap(Family::V4);
    let (parallel, crowded) = guest.namespace.run_inside(move || {
        let parallel: Vec<_> = STREAMS.map(|count| parallel_bulk(&target, count)).into();
        (parallel, crowded_rates(&target))
    });
    drop(guest);
    let mut values: Vec<Option<f64>> = parallel
        .into_iter()
        .flat_map(|both| match both {
            Ok((up, down)) => [Some(up), Some(down)],
            Err(error) => {
                eprintln!("xtask: parallel bulk left out: {error}");
                [None, None]
            }
        })
        .collect();
    let crowded = crowded.unwrap_or_else(|error| {
        eprintln!("xtask: idle-connection rows left out: {error}");
        Vec::new()
    });
    let step = |index: usize| crowded.get(index).copied();
    values.extend((0..OPEN.len()).map(|index| step(index).map(|(rate, _)| rate)));
    values.extend((0..OPEN.len()).map(|index| step(index).map(|(_, kib)| kib)));
    for limit in LIMITS {
        let both = limited_bulk(image, limit);
        if let Err(error) = &both {
            eprintln!("xtask: bulk under mem={limit} left out: {error}");
        }
        let both = both.ok();
        values.extend([both.map(|(up, _)| up), both.map(|(_, down)| down)]);
    }
    for (one, value) in series.iter_mut().zip(values) {
        one.values.extend(value);
    }
    Ok(())
}

/// MiB/s host -> guest (to discard) and guest -> host (from source) of
/// `count` connections moving `SCALED_BULK` bytes together each way.
fn parallel_bulk(target: &Target, count: usize) -> Result<(f64, f64), String> {
    let (target, share) = (*target, SCALED_BULK / count as u64);
    let up = parallel_upload(&target, count)?;
    let down = timed_in_parallel(count, move |_| receive(&target, share))?;
    let rate = |seconds: f64| (share * count as u64) as f64 / seconds / 1048576.0;
    Ok((up, rate(down)))
}

/// MiB/s host -> guest of `count` connections sending `SCALED_BULK` bytes
/// together to the discard service.
pub(super) fn parallel_upload(target: &Target, count: usize) -> Result<f64, String> {
    let (target, share) = (*target, SCALED_BULK / count as u64);
    let seconds = timed_in_parallel(count, move |_| send(&target, share))?;
    Ok((share * count as u64) as f64 / seconds / 1048576.0)
}

/// Seconds until all of `count` threads running `work` are done; the
/// first failure if one failed.
fn timed_in_parallel(
    count: usize,
    work: impl Fn(usize) -> Result<(), String> + Send + Sync + Copy + 'static,
) -> Result<f64, String> {
    let started = Instant::now();
    let workers: Vec<_> = (0..count)
        .map(|index| thread::spawn(move || work(index)))
        .collect();
    for worker in workers {
        worker.join().map_err(|_| "a stream panicked")??;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Writes `bytes` to the guest's discard service.
fn send(target: &Target, bytes: u64) -> Result<(), String> {
    let block = [0u8; 64 * 1024];
    let mut stream = target.open(target.discard).map_err(|e| e.to_string())?;
    let mut left = bytes;
    while left > 0 {
        let now = left.min(block.len() as u64) as usize;
        stream.write_all(&block[..now]).map_err(|e| e.to_string())?;
        left -= now as u64;
    }
    Ok(())
}

/// Reads `bytes` from the guest's source service.
fn receive(target: &Target, bytes: u64) -> Result<(), String> {
    let mut buffer = [0u8; 64 * 1024];
    let mut stream = target.open(target.source).map_err(|e| e.to_string())?;
    let mut received = 0u64;
    while received < bytes {
        match stream.read(&mut buffer).map_err(|e| e.to_string())? {
            0 => return Err("source closed".into()),
            count => received += count as u64,
        }
    }
    Ok(())
}

/// For each step of [`OPEN`] (cumulative, on one boot): keep-alive HTTP
/// requests per second and the kernel's memory in use in KiB, with that
/// many idle echo clients connected. Stops at the open-file limit.
fn crowded_rates(target: &Target) -> Result<Vec<(f64, f64)>, String> {
    let limit = crowd::raise_open_file_limit()?;
    let stats = SocketAddr::new(TAP_GUEST.into(), 80);
    let echo = SocketAddr::new(TAP_GUEST.into(), target.echo);
    // Connections of earlier rows may still be closing: start from none
    // but this request's own.
    let before = GuestFigures::wait_until(stats, ACCEPT_DEADLINE, |now| now.connections_open <= 1)?;
    let mut held = Vec::new();
    let mut steps = Vec::new();
    for count in OPEN {
        if count as u64 + SPARE_DESCRIPTORS > limit {
            eprintln!("xtask: {count} idle connections exceed the open-file limit {limit}");
            break;
        }
        held.extend(crowd::connect_all(echo, count - held.len())?);
        let open = before.connections_open + held.len() as u64;
        let figures = GuestFigures::wait_for_open(stats, open, ACCEPT_DEADLINE)?;
        if figures.connections_open < open {
            return Err(format!(
                "the guest accepted {} of {open}",
                figures.connections_open
            ));
        }
        let rate = keep_alive_rate(target);
        steps.push((rate, figures.memory_in_use as f64 / 1024.0));
    }
    Ok(steps)
}

/// One boot under the kernel memory limit `limit`: bulk both ways.
fn limited_bulk(image: &Path, limit: &str) -> Result<(f64, f64), String> {
    let params = [format!("mem={limit}")];
    let guest = boot_on_tap_with(image, MACHINE, MEMORY_MIB, "limit", &params)?;
    let target = Target::on_tap(Family::V4);
    guest
        .namespace
        .run_inside(move || parallel_bulk(&target, 1))
}
