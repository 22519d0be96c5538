//! `test=memory`: running out of memory is an error the kernel handles,
//! both at the kernel's limit and when the host itself is exhausted.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use kernel::base::memory::{Memory, MemoryError, Pages};
use kernel::hypercall::PAGE_SIZE;

use super::{Case, Outcome};

/// The limit of the first phase.
const LIMIT: usize = 4 << 20;
/// Pages per allocation while draining the host.
const RUN: usize = 64;

pub(super) fn run(case: &Case<'_>) -> Outcome {
    at_the_limit(case)?;
    host_exhausted(case)?;
    still_works(case)
}

/// A 4 MiB limit gives exactly 1024 pages, then `Exhausted`.
fn at_the_limit(case: &Case<'_>) -> Outcome {
    let host = case.kernel.hypercalls_arc().clone();
    let memory = Arc::new(Memory::new(host, LIMIT));
    let mut held = Vec::with_capacity(LIMIT / PAGE_SIZE);
    let error = loop {
        match memory.alloc_pages(1) {
            Ok(pages) if held.len() < LIMIT / PAGE_SIZE => held.push(pages),
            Ok(_) => return Err("allocated past the limit".into()),
            Err(error) => break error,
        }
    };
    case.report
        .line(format_args!("limit: {} pages, then {error}", held.len()));
    if error != MemoryError::Exhausted || held.len() != LIMIT / PAGE_SIZE {
        return Err(format!("limit phase: {} pages, {error}", held.len()));
    }
    held.truncate(10);
    memory
        .alloc_pages(1)
        .map(drop)
        .map_err(|e| format!("no page after freeing: {e}"))
}

/// Drains the host's memory, then gives it all back. Nothing may print or
/// allocate while the heap is empty, so the vector is reserved up front.
fn host_exhausted(case: &Case<'_>) -> Outcome {
    let host = case.kernel.hypercalls_arc().clone();
    let total = host.memory_size();
    let memory = Arc::new(Memory::new(host, usize::MAX));
    let mut held: Vec<Pages> = Vec::with_capacity(total / PAGE_SIZE / RUN + 64 + RUN);
    let mut pages = 0;
    for size in [RUN, 1] {
        while held.len() < held.capacity() {
            match memory.alloc_pages(size) {
                Ok(run) => {
                    pages += run.count();
                    held.push(run);
                }
                Err(_) => break,
            }
        }
    }
    let error = memory.alloc_pages(1).err();
    drop(held);
    case.report.line(format_args!(
        "host: {pages} pages of {} before {error:?}",
        total / PAGE_SIZE
    ));
    if error != Some(MemoryError::Exhausted) || pages < total / PAGE_SIZE / 2 {
        return Err(format!(
            "host phase ended with {error:?} after {pages} pages"
        ));
    }
    Ok(())
}

/// After all that, the kernel still allocates and runs threads.
fn still_works(case: &Case<'_>) -> Outcome {
    let pages = case
        .kernel
        .memory()
        .alloc_pages(16)
        .map_err(|e| format!("kernel pages after exhaustion: {e}"))?;
    drop(pages);
    let thread = case
        .kernel
        .spawn("after", |_| {})
        .map_err(|e| format!("thread after exhaustion: {e}"))?;
    thread.join(case.context).map_err(|e| format!("join: {e}"))
}
