//! Bootstrap time and memory of hosted kernels, for `cargo xtask bench --hosted`.
//!
//! Built once per configuration of the matrix (`--no-default-features
//! --features …`), so each kernel here links exactly that configuration's
//! components. Three modes, each printing `bench <metric> <value> <unit>`:
//!
//! - `boot COUNT`: the process's first and second boot (time, page
//!   faults); then COUNT boots, each shut down before the next: `Kernel::boot` call to return, and for net configurations call to
//!   the first socket; median and p99, with the default log (info, to
//!   standard error) and with `log=off`; of the first, the boot thread's
//!   time on a CPU and waiting for one; heap left behind per boot and
//!   shutdown; a plain 64 KiB std thread's start for comparison.
//! - `memory COUNT` (memory.rs): COUNT idle kernels side by side: heap (counted
//!   by this program's allocator), RSS, address space and threads per
//!   kernel, against the kernel's own accounting (`memory().stats()`, and
//!   each of its accounts).
//! - `capacity MIB SECONDS THREADS` (capacity.rs): boots kernels until MIB
//!   of heap and thread stacks are used, a boot fails, THREADS threads run
//!   or SECONDS pass; prints how many and what stopped it.
//!
//! Reports, does not assert.

mod capacity;
mod memory;
mod process;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hypercall_posix::{Posix, PosixConfig};
use kernel::Kernel;
use process::{Counting, Snapshot};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Boots before counting, so one-time costs of the process stay out.
const WARM_UP: usize = 20;

fn figure(metric: &str, value: f64, unit: &str) {
    println!("bench {metric} {value:.1} {unit}");
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, default: u64| {
        arguments
            .get(index)
            .and_then(|word| word.parse().ok())
            .unwrap_or(default)
    };
    let result = match arguments.first().map(String::as_str) {
        Some("boot") => boot_figures(number(1, 1000) as usize),
        Some("memory") => memory::figures(number(1, 100) as usize),
        Some("capacity") => capacity::run(number(1, 1024), number(2, 120), number(3, 12_000)),
        _ => Err(
            "usage: hosted_boot boot COUNT | memory COUNT | capacity MIB SECONDS THREADS".into(),
        ),
    };
    if let Err(error) = result {
        eprintln!("hosted_boot: {error}");
        std::process::exit(1);
    }
}

/// A host for one kernel with `parameters`, console on standard error.
fn host(parameters: &str) -> Arc<Posix> {
    Posix::new(PosixConfig {
        boot_parameters: parameters.into(),
        ..PosixConfig::default()
    })
}

/// Boots a kernel of this build's components.
fn boot(parameters: &str) -> Result<(Arc<Posix>, Arc<Kernel>), String> {
    let host = host(parameters);
    let kernel = kernel::boot(host.clone()).map_err(|error| format!("boot failed: {error}"))?;
    Ok((host, kernel))
}

/// One boot's times, microseconds: `Kernel::boot` call to return, and
/// to the first socket; of the first, the boot thread's time on a CPU and
/// waiting for one.
struct BootTimes {
    returned: f64,
    socket: Option<f64>,
    on_cpu: f64,
    waiting: f64,
}

/// `overhead`: what measuring adds to `on_cpu` ([`thread_times_overhead`]).
fn boot_once(parameters: &str, overhead: f64) -> Result<BootTimes, String> {
    let host = host(parameters);
    let (cpu_before, waited_before) = process::thread_times();
    let started = Instant::now();
    let kernel = kernel::boot(host).map_err(|error| format!("boot failed: {error}"))?;
    let returned = micros(started.elapsed());
    let (cpu_after, waited_after) = process::thread_times();
    let opening = Instant::now();
    let socket = first_socket(&kernel)?.map(|()| returned + micros(opening.elapsed()));
    kernel.shutdown();
    Ok(BootTimes {
        returned,
        socket,
        on_cpu: (cpu_after - cpu_before) as f64 / 1e3 - overhead,
        waiting: (waited_after - waited_before) as f64 / 1e3,
    })
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Opens and closes a UDP socket: the net faction is usable.
#[cfg(feature = "net")]
fn first_socket(kernel: &Kernel) -> Result<Option<()>, String> {
    use kernel::net::{Net, SocketType};
    let context = kernel.enter().map_err(|error| error.to_string())?;
    let net = Net::of(&context).ok_or("the net service is missing")?;
    let socket = net.socket(&context, SocketType::Datagram);
    let socket = socket.map_err(|error| format!("socket: {error}"))?;
    net.close(&context, socket)
        .map_err(|error| error.to_string())?;
    Ok(Some(()))
}

#[cfg(not(feature = "net"))]
fn first_socket(_kernel: &Kernel) -> Result<Option<()>, String> {
    Ok(None)
}

fn boot_figures(count: usize) -> Result<(), String> {
    first_boot()?;
    let overhead = thread_times_overhead();
    for _ in 0..WARM_UP {
        boot_once("", overhead)?;
    }
    // The two log settings alternate, so drift on the machine hits both.
    let settings = [("boot", ""), ("boot_quiet", "log=off")];
    let mut times: [[Vec<f64>; 4]; 2] = Default::default();
    times
        .iter_mut()
        .flatten()
        .for_each(|one| one.reserve(count));
    let before = Snapshot::now();
    for _ in 0..count {
        for ((_, parameters), [returned, socket, on_cpu, waiting]) in
            settings.iter().zip(&mut times)
        {
            let boot = boot_once(parameters, overhead)?;
            returned.push(boot.returned);
            socket.extend(boot.socket);
            on_cpu.push(boot.on_cpu);
            waiting.push(boot.waiting);
        }
    }
    let grown = Snapshot::now().since(&before).heap as f64 / (2 * count) as f64;
    for ((prefix, _), [returned, socket, on_cpu, waiting]) in settings.iter().zip(times) {
        spread(prefix, returned);
        if !socket.is_empty() {
            spread(&format!("{prefix}_to_socket"), socket);
        }
        spread(&format!("{prefix}_on_cpu"), on_cpu);
        spread(&format!("{prefix}_waiting_for_cpu"), waiting);
    }
    figure("boot_cycle_heap_growth", grown, "bytes");
    spread("thread_start", (0..count).map(|_| thread_start()).collect());
    Ok(())
}

/// The process's first boot (cold: no thread stacks cached, heap and
/// stacks not yet faulted in), then a second: call to return and the page
/// faults of the process meanwhile.
fn first_boot() -> Result<(), String> {
    for name in ["boot_first", "boot_second"] {
        let host = host("");
        let faults = process::page_faults();
        let started = Instant::now();
        let kernel = kernel::boot(host).map_err(|error| format!("boot failed: {error}"))?;
        figure(name, micros(started.elapsed()), "us");
        figure(
            &format!("{name}_page_faults"),
            (process::page_faults() - faults) as f64,
            "faults",
        );
        kernel.shutdown();
    }
    Ok(())
}

/// The on-CPU time one `thread_times` call adds to a measured interval
/// (the median of 100 empty intervals), microseconds.
fn thread_times_overhead() -> f64 {
    let mut empty: Vec<f64> = (0..100)
        .map(|_| {
            let (before, _) = process::thread_times();
            let (after, _) = process::thread_times();
            (after - before) as f64 / 1e3
        })
        .collect();
    empty.sort_by(f64::total_cmp);
    empty[empty.len() / 2]
}

/// A std thread with a kernel thread's stack: spawn call to its first
/// instruction, microseconds.
fn thread_start() -> f64 {
    let started = Instant::now();
    let thread = std::thread::Builder::new()
        .stack_size(kernel::base::thread::DEFAULT_STACK_SIZE)
        .spawn(move || started.elapsed())
        .expect("a thread");
    micros(thread.join().expect("the thread returns"))
}

/// Prints the median and p99 of `values` as `PREFIX_median`, `PREFIX_p99`.
fn spread(prefix: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    let at = |percent: usize| values[(values.len() * percent / 100).min(values.len() - 1)];
    figure(&format!("{prefix}_median"), at(50), "us");
    figure(&format!("{prefix}_p99"), at(99), "us");
}
