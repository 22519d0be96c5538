//! `test=sleep`: sleeps last at least as long as asked and not much longer;
//! after each one the guest prints its running total, which the host
//! compares with its own clock.

use alloc::format;

use super::{Case, Outcome};

/// Sleeps to check, in milliseconds.
const SLEEPS_MS: [u64; 4] = [1, 10, 100, 500];
/// The long sleep the host times from outside.
const LONG_SLEEP_MS: u64 = 2_000;
/// How late a wakeup may be under emulation on a loaded machine.
const SLACK_MS: u64 = 100;

pub(super) fn run(case: &Case<'_>) -> Outcome {
    let began = case.context.now_ns();
    for asked in SLEEPS_MS.into_iter().chain([LONG_SLEEP_MS]) {
        let slept = sleep_ms(case, asked);
        let total_ms = (case.context.now_ns() - began) / 1_000_000;
        case.report.line(format_args!(
            "asked {asked} ms, woke after {} us",
            slept / 1_000
        ));
        // The host times these lines against its own clock.
        case.report.line(format_args!("slept {total_ms} ms"));
        if slept < asked * 1_000_000 {
            return Err(format!("a {asked} ms sleep returned after {slept} ns"));
        }
        if slept > (asked + SLACK_MS) * 1_000_000 {
            return Err(format!("a {asked} ms sleep took {} ms", slept / 1_000_000));
        }
    }
    Ok(())
}

fn sleep_ms(case: &Case<'_>, milliseconds: u64) -> u64 {
    let start = case.context.now_ns();
    case.context.sleep_until(start + milliseconds * 1_000_000);
    case.context.now_ns() - start
}
