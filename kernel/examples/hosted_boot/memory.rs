//! `memory COUNT` of hosted_boot: what one more idle kernel costs.
//!
//! COUNT kernels are booted side by side after one that absorbs the
//! process's one-time costs; the process's growth divided by COUNT is the
//! cost of a kernel: heap (the counting allocator), RSS, address space,
//! threads, against what the kernels charge to their own accounts.

use std::time::{Duration, Instant};

use kernel::Kernel;

use crate::process::Snapshot;
use crate::{boot, boot_once, figure};

/// Boots COUNT idle kernels and prints the per-kernel figures.
pub fn figures(count: usize) -> Result<(), String> {
    let count = count.max(1);
    let first = boot("log=warn")?;
    let mut kernels = Vec::with_capacity(count);
    let before = Snapshot::now();
    for _ in 0..count {
        kernels.push(boot("log=warn")?);
    }
    let grown = settled().since(&before);
    let per_kernel = |total: i64| total as f64 / count as f64;
    figure("memory_heap", per_kernel(grown.heap), "bytes");
    figure("memory_heap_blocks", per_kernel(grown.blocks), "blocks");
    figure("memory_resident", per_kernel(grown.resident), "bytes");
    figure("memory_mapped", per_kernel(grown.mapped), "bytes");
    figure("memory_threads", per_kernel(grown.threads), "threads");
    let pages: usize = kernels.iter().map(|(host, _)| host.memory_in_use()).sum();
    figure("memory_host_pages", per_kernel(pages as i64), "bytes");
    let accounted: usize = kernels.iter().map(|(_, k)| k.memory().stats().in_use).sum();
    figure("memory_accounted", per_kernel(accounted as i64), "bytes");
    for name in account_names(&first.1) {
        let bytes: usize = kernels.iter().map(|(_, k)| account(k, &name)).sum();
        figure(
            &format!("memory_account_{name}"),
            per_kernel(bytes as i64),
            "bytes",
        );
    }
    for (_, kernel) in kernels.iter().chain([&first]) {
        kernel.shutdown();
    }
    kernels.clear();
    // The log keeps a dead kernel's sink (a weak pointer to its host)
    // until the next boot clears it: one more boot and shutdown.
    boot_once("log=warn", 0.0)?;
    let left = Snapshot::now().since(&before);
    figure("memory_left_after_shutdown", per_kernel(left.heap), "bytes");
    Ok(())
}

/// The names of `kernel`'s memory accounts, blanks made underscores.
fn account_names(kernel: &Kernel) -> Vec<String> {
    let accounts = kernel.memory().accounts();
    accounts
        .into_iter()
        .map(|one| one.name.replace(' ', "_"))
        .collect()
}

/// The bytes charged to `kernel`'s account `name` (blanks as underscores).
pub fn account(kernel: &Kernel, name: &str) -> usize {
    let accounts = kernel.memory().accounts();
    let found = accounts
        .iter()
        .find(|one| one.name.replace(' ', "_") == name);
    found.map_or(0, |one| one.bytes)
}

/// The process once its new threads have run to their first sleep: the
/// resident set has not moved for three looks 20 ms apart (at most 5 s).
fn settled() -> Snapshot {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = Snapshot::now();
    let mut still = 0;
    while still < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        let now = Snapshot::now();
        still = if now.resident == last.resident {
            still + 1
        } else {
            0
        };
        last = now;
    }
    last
}
