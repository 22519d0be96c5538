//! Panic: the guest reports message, location and a symbolized backtrace;
//! a panic with the console lock held is still reported, and a panic or
//! an exception while a report is printed ends the machine with one line.

use qemu_tests::protocol::{BACKTRACE_MARKER, backtrace_frames, panic_report};
use qemu_tests::{
    EXCEPTION_CODE, Machine, Outcome, PANIC_CODE, SELFTEST_DEADLINE, boot, selftest,
    selftest_config,
};

#[test]
fn a_panic_prints_where_and_a_symbolized_backtrace_then_fails_with_63() {
    let outcome = selftest("panic", Machine::Q35);
    outcome.assert_failed(PANIC_CODE);
    let line = outcome.expect_line_starting("panic: ");
    let report = panic_report(&line.text);
    let report = report.unwrap_or_else(|| panic!("malformed panic line; {outcome}"));
    assert!(!report.message.is_empty(), "empty panic message; {outcome}");
    assert!(
        report.file.ends_with(".rs") && report.line > 0,
        "bad location; {outcome}"
    );
    outcome.assert_contains(BACKTRACE_MARKER);
    let frames = backtrace_frames(&outcome.serial);
    let names_the_case = frames
        .iter()
        .filter_map(|frame| frame.symbol.as_deref())
        .any(|symbol| symbol.contains("selftest") && symbol.contains("panic"));
    assert!(
        names_the_case,
        "no frame names the selftest panic function; {outcome}"
    );
}

/// Boots the panic case with `panic=<kind>`.
fn fail(kind: &str) -> Outcome {
    let config = selftest_config("panic", Machine::Q35).param(format!("panic={kind}"));
    boot(&config).wait_for_exit(SELFTEST_DEADLINE)
}

#[test]
fn a_panic_while_the_console_lock_is_held_is_reported_in_full() {
    let outcome = fail("panic-in-println");
    outcome.assert_failed(PANIC_CODE);
    let line = outcome.expect_line_starting("panic: ");
    let report =
        panic_report(&line.text).unwrap_or_else(|| panic!("malformed panic line; {outcome}"));
    assert_eq!(report.message, "formatting panicked", "{outcome}");
    outcome.assert_contains(BACKTRACE_MARKER);
}

#[test]
fn a_panic_or_exception_while_a_panic_is_reported_ends_with_one_line() {
    let nested = fail("nested-panic");
    nested.assert_failed(PANIC_CODE);
    nested.assert_contains("panic while reporting: formatting panicked");
    let faulted = fail("fault-in-panic-report");
    faulted.assert_failed(EXCEPTION_CODE);
    faulted.assert_contains("(vector 6) while reporting; stopping");
}
