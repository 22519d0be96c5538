//! `test=bench`: in-guest figures for `cargo xtask bench` (reported, not
//! judged): bare context switches, kernel thread switches, uncontended
//! mutex cost, condvar round trips and callout lateness.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use kernel::base::callout::Callout;
use kernel::base::sync::{Condvar, Mutex};

use super::{Case, Outcome, wait_until};

const MUTEX_ROUNDS: u64 = 200_000;
const SWITCHES: u64 = 20_000;
const ROUND_TRIPS: u64 = 5_000;
const CALLOUTS: u64 = 20;
const DEADLINE_NS: u64 = 120_000_000_000;

pub(super) fn run(case: &Case<'_>) -> Outcome {
    if let Some(cycles) = case.machine.context_switch_cycles() {
        case.report.figure("context_switch", cycles, "cycles");
    }
    mutex_cost(case);
    yield_switch_cost(case)?;
    condvar_round_trip(case)?;
    callout_lateness(case)
}

fn mutex_cost(case: &Case<'_>) {
    let mutex = Mutex::new(0u64);
    let start = case.context.now_ns();
    for _ in 0..MUTEX_ROUNDS {
        *mutex.lock(case.context) += 1;
    }
    let elapsed = case.context.now_ns() - start;
    case.report
        .figure("mutex_enter_exit", elapsed / MUTEX_ROUNDS, "ns");
}

/// Two kernel threads yield to each other: each yield is one switch.
fn yield_switch_cost(case: &Case<'_>) -> Outcome {
    let mut threads = Vec::new();
    let start = case.context.now_ns();
    for _ in 0..2 {
        let thread = case.kernel.spawn("yielder", |context| {
            for _ in 0..SWITCHES / 2 {
                context.yield_now();
            }
        });
        threads.push(thread.map_err(|e| format!("spawn: {e}"))?);
    }
    for thread in threads {
        thread
            .join(case.context)
            .map_err(|e| format!("join: {e}"))?;
    }
    let elapsed = case.context.now_ns() - start;
    case.report
        .figure("kernel_thread_switch", elapsed / SWITCHES, "ns");
    Ok(())
}

/// A thread answers each notification with one: a wakeup each way.
fn condvar_round_trip(case: &Case<'_>) -> Outcome {
    let shared = Arc::new((Mutex::new(0u64), Condvar::new()));
    let echo = shared.clone();
    let responder = case
        .kernel
        .spawn("echo", move |context| {
            let mut count = echo.0.lock(context);
            while *count < 2 * ROUND_TRIPS {
                count = echo
                    .1
                    .wait_while(count, |c| *c % 2 == 0 && *c < 2 * ROUND_TRIPS);
                if *count % 2 == 1 {
                    *count += 1;
                    echo.1.notify_all(context);
                }
            }
        })
        .map_err(|e| format!("spawn: {e}"))?;
    let start = case.context.now_ns();
    let deadline = start + DEADLINE_NS;
    for trip in 0..ROUND_TRIPS {
        *shared.0.lock(case.context) += 1;
        shared.1.notify_all(case.context);
        wait_until(case, &shared.0, &shared.1, deadline, |c| *c >= 2 * trip + 2)?;
    }
    let elapsed = case.context.now_ns() - start;
    responder
        .join(case.context)
        .map_err(|e| format!("join: {e}"))?;
    case.report
        .figure("condvar_round_trip", elapsed / ROUND_TRIPS, "ns");
    Ok(())
}

/// How late callouts fire after their deadline (median).
fn callout_lateness(case: &Case<'_>) -> Outcome {
    let fired = Arc::new((Mutex::new(Vec::<u64>::new()), Condvar::new()));
    let recorder = fired.clone();
    let callout = Callout::new(move |context| {
        recorder.0.lock(context).push(context.now_ns());
        recorder.1.notify_all(context);
    });
    let mut lateness = Vec::new();
    let deadline = case.context.now_ns() + DEADLINE_NS;
    for round in 0..CALLOUTS {
        let due = case.context.now_ns() + 2_000_000;
        callout.schedule_at(case.context, due);
        wait_until(case, &fired.0, &fired.1, deadline, |f| {
            f.len() as u64 > round
        })?;
        let at = *fired.0.lock(case.context).last().expect("fired");
        lateness.push(at.saturating_sub(due));
    }
    lateness.sort_unstable();
    case.report.figure(
        "callout_lateness_median",
        lateness[lateness.len() / 2] / 1_000,
        "us",
    );
    Ok(())
}
