//! How many hosted kernels fit in one process: boot until something stops.
//!
//! Kernels are booted and kept, idle, until their heap (counted by the
//! program's allocator) plus their threads' stacks (what each kernel
//! charges to its `threads` account: the stacks' sizes and ~1 KiB a
//! thread) reach the budget, a boot fails, or one of two guards
//! for the shared machine trips: a thread budget (process ids are one pool
//! for the whole machine, `pid_max`, so at most half of what is free is
//! taken) and a time limit. Then all are shut down. Prints the count, the
//! process's figures at that point and `limited-by <reason>`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hypercall_posix::Posix;
use kernel::Kernel;

use crate::memory::account;
use crate::process::{Snapshot, machine_threads};
use crate::{boot, figure};

/// Why the booting stopped.
enum Stop {
    Budget,
    Threads(i64),
    Time,
    BootFailed(String),
}

/// Boots kernels until `mib` MiB of heap and stacks, `seconds` or
/// `max_threads` threads; prints what it found.
pub fn run(mib: u64, seconds: u64, max_threads: u64) -> Result<(), String> {
    let budget = i64::try_from(mib << 20).map_err(|_| "budget too large")?;
    let thread_budget = thread_budget(max_threads);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let before = Snapshot::now();
    let mut kernels: Vec<(Arc<Posix>, Arc<Kernel>)> = Vec::new();
    let mut stacks = 0;
    let stop = loop {
        let grown = Snapshot::now().since(&before);
        let used = grown.heap + stacks;
        // A kernel of this build starts as many threads as the last one.
        let next_threads = grown.threads / (kernels.len() as i64).max(1);
        if used >= budget {
            break Stop::Budget;
        }
        if grown.threads + next_threads.max(1) > thread_budget {
            break Stop::Threads(thread_budget);
        }
        if Instant::now() >= deadline {
            break Stop::Time;
        }
        match boot("log=warn") {
            Ok(kernel) => {
                stacks += account(&kernel.1, "threads") as i64;
                kernels.push(kernel);
            }
            Err(error) => break Stop::BootFailed(error),
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    report(
        &Snapshot::now().since(&before),
        stacks,
        kernels.len(),
        seconds,
    );
    println!("limited-by {}", describe(&stop, mib));
    for (_, kernel) in &kernels {
        kernel.shutdown();
    }
    Ok(())
}

/// At most `max_threads`, and at most half the process ids the machine
/// has free now.
fn thread_budget(max_threads: u64) -> i64 {
    let (running, pid_max) = machine_threads();
    let free_half = (pid_max - running).max(0) / 2;
    i64::try_from(max_threads)
        .unwrap_or(i64::MAX)
        .min(free_half)
}

fn report(grown: &Snapshot, stacks: i64, kernels: usize, seconds: f64) {
    let mib = |bytes: i64| bytes as f64 / f64::from(1 << 20);
    figure("capacity_kernels", kernels as f64, "kernels");
    figure("capacity_threads", grown.threads as f64, "threads");
    figure("capacity_heap", mib(grown.heap), "MiB");
    figure("capacity_stacks", mib(stacks), "MiB");
    figure("capacity_resident", mib(grown.resident), "MiB");
    figure("capacity_mapped", mib(grown.mapped), "MiB");
    figure("capacity_seconds", seconds, "s");
}

fn describe(stop: &Stop, mib: u64) -> String {
    match stop {
        Stop::Budget => format!("memory: {mib} MiB of heap and thread stacks"),
        Stop::Threads(budget) => format!("the thread budget of {budget} (pid_max, shared)"),
        Stop::Time => "the time limit".into(),
        Stop::BootFailed(error) => error.clone(),
    }
}
