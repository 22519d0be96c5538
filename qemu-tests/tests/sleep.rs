//! Sleep: the guest's clock and timed sleeps agree with the host's clock.
//!
//! The guest prints `selftest sleep: slept <N> ms` after each sleep, N being
//! the total slept since the case began by the guest's monotonic clock, and
//! includes at least one long sleep (>= 500 ms). The host compares the
//! guest's claim between the first and the last such line with the arrival
//! times of those lines. The tolerance is generous (the machine is loaded),
//! but a clock that runs at the wrong rate or a sleep that returns at once
//! fails.

use std::time::Duration;

use qemu_tests::protocol::{pass_line, slept_millis};
use qemu_tests::{Machine, selftest};

/// The shortest guest-claimed interval that makes the comparison meaningful.
const LONGEST_SLEEP_AT_LEAST: Duration = Duration::from_millis(500);

/// Whether `host` agrees with `guest` within 25 % or 200 ms, whichever is larger.
fn agrees(guest: Duration, host: Duration) -> bool {
    let tolerance = (guest / 4).max(Duration::from_millis(200));
    guest.abs_diff(host) <= tolerance
}

/// The guest's sleeps on `machine`, timed by the host.
fn assert_sleeps_match_host_time(machine: Machine) {
    let outcome = selftest("sleep", machine);
    outcome.assert_passed();
    outcome.assert_contains(&pass_line("sleep"));
    let slept: Vec<_> = outcome
        .lines
        .iter()
        .filter_map(|line| Some((Duration::from_millis(slept_millis(&line.text)?), line.at)))
        .collect();
    let (Some(first), Some(last)) = (slept.first(), slept.last()) else {
        panic!("no `selftest sleep: slept <N> ms` lines; {outcome}");
    };
    let guest = last.0.saturating_sub(first.0);
    let host = last.1.saturating_sub(first.1);
    assert!(
        guest >= LONGEST_SLEEP_AT_LEAST,
        "guest claims only {guest:?}; {outcome}"
    );
    assert!(
        agrees(guest, host),
        "guest slept {guest:?}, host saw {host:?}; {outcome}"
    );
}

#[test]
fn guest_sleeps_match_host_time() {
    assert_sleeps_match_host_time(Machine::Q35);
}

/// microvm routes the timer interrupts differently (see FACTS.md).
#[test]
fn guest_sleeps_match_host_time_on_microvm() {
    assert_sleeps_match_host_time(Machine::Microvm);
}

#[test]
fn the_tolerance_is_25_percent_or_200_ms() {
    let ms = Duration::from_millis;
    assert!(agrees(ms(1000), ms(1240)));
    assert!(agrees(ms(1000), ms(760)));
    assert!(!agrees(ms(1000), ms(1300)));
    assert!(!agrees(ms(1000), ms(10)));
    assert!(agrees(ms(500), ms(690)));
    assert!(!agrees(ms(500), ms(710)));
}
