//! In-guest test cases, one per run, chosen by the boot parameter `test=`.
//!
//! The test image boots the kernel, says it is ready, runs the case and
//! exits with its verdict (QEMU's exit status carries it to the host). The
//! cases use only the kernel's API, so they run on every host; `panic` and
//! `exception` end the machine on purpose, and the host checks what it
//! printed.

mod bench;
pub mod block;
mod faults;
mod interrupts;
mod memory;
mod network;
mod params;
mod sleep;
mod storage;
mod threads;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;

use kernel::hypercall::ExitStatus;
use kernel::{Context, Kernel};

use crate::{Host, Machine, Reporter, say};

/// What a case gets to work with.
pub(crate) struct Case<'a> {
    kernel: &'a Arc<Kernel>,
    context: &'a Context<'a>,
    report: &'a Reporter<'a>,
    machine: &'a dyn Machine,
}

type Outcome = Result<(), String>;

/// A case's body.
type CaseFn = fn(&Case<'_>) -> Outcome;

/// The cases, by name.
const CASES: &[(&str, CaseFn)] = &[
    ("threads", threads::run),
    ("sleep", sleep::run),
    ("memory", memory::run),
    ("params", params::run),
    ("interrupts", interrupts::run),
    ("bench", bench::run),
    ("net-peer", network::run),
    ("block", block::run),
    ("storage", storage::run),
    ("panic", faults::panic),
    ("exception", faults::exception),
];

/// Boots the kernel and runs the case named by `test=`.
pub fn run(host: Host, machine: &dyn Machine) -> ExitStatus {
    let kernel = match kernel::boot(host.clone()) {
        Ok(kernel) => kernel,
        Err(error) => {
            say(&*host, format_args!("anykernel: boot failed: {error}"));
            return ExitStatus::Failure(1);
        }
    };
    let Ok(binding) = kernel.bind_thread() else {
        say(
            &*host,
            format_args!("anykernel: cannot bind the boot thread"),
        );
        return ExitStatus::Failure(1);
    };
    let context = binding.enter();
    let ready_us = host.clock_monotonic_ns() / 1_000;
    say(&*host, format_args!("anykernel: ready in {ready_us} us"));
    let name = kernel.params().get("test").unwrap_or("");
    let report = Reporter::new(&*host, name);
    let case = Case {
        kernel: &kernel,
        context: &context,
        report: &report,
        machine,
    };
    let outcome = match CASES.iter().find(|(case, _)| *case == name) {
        Some((_, run)) => run(&case),
        None => Err(unknown_case(name)),
    };
    report.verdict(outcome)
}

fn unknown_case(name: &str) -> String {
    let names: alloc::vec::Vec<&str> = CASES.iter().map(|(name, _)| *name).collect();
    format!("unknown case `{name}` (test= one of {})", names.join(", "))
}

/// Waits on `condvar` until `done` holds or `deadline_ns` passes.
fn wait_until<T>(
    case: &Case<'_>,
    mutex: &kernel::base::sync::Mutex<T>,
    condvar: &kernel::base::sync::Condvar,
    deadline_ns: u64,
    mut done: impl FnMut(&T) -> bool,
) -> Outcome {
    let mut guard = mutex.lock(case.context);
    while !done(&guard) {
        let (next, result) = condvar.wait_until(guard, deadline_ns);
        guard = next;
        if result == kernel::hypercall::WaitResult::TimedOut && !done(&guard) {
            return Err(String::from("timed out waiting for the other threads"));
        }
    }
    Ok(())
}
