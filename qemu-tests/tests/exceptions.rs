//! CPU exceptions: the guest names the vector, dumps registers, backtraces,
//! whichever exception it is and wherever it strikes: on the boot stack's
//! guard page, on a stack with no room left (a double fault, reported from
//! its own stack), inside a `println!` with the console lock held.

use qemu_tests::protocol::{BACKTRACE_MARKER, backtrace_frames, exception_report};
use qemu_tests::{
    EXCEPTION_CODE, Machine, Outcome, SELFTEST_DEADLINE, boot, selftest, selftest_config,
};

#[test]
fn an_exception_prints_vector_registers_and_backtrace_then_fails_with_62() {
    let outcome = selftest("exception", Machine::Q35);
    outcome.assert_failed(EXCEPTION_CODE);
    let line = outcome.expect_line_starting("exception: ");
    let report = exception_report(&line.text);
    let report = report.unwrap_or_else(|| panic!("malformed exception line; {outcome}"));
    assert!(
        report.vector < 32,
        "vector {} is no CPU exception; {outcome}",
        report.vector
    );
    assert!(!report.name.is_empty(), "unnamed exception; {outcome}");
    outcome.assert_contains("RIP=0x");
    outcome.assert_contains(BACKTRACE_MARKER);
    assert!(
        !backtrace_frames(&outcome.serial).is_empty(),
        "empty backtrace; {outcome}"
    );
}

/// Boots the exception case with `fault=<kind>`.
fn raise(kind: &str) -> Outcome {
    let config = selftest_config("exception", Machine::Q35).param(format!("fault={kind}"));
    boot(&config).wait_for_exit(SELFTEST_DEADLINE)
}

/// Each kind ends with its vector reported, the registers, and failure 62.
fn assert_reported(kinds: &[(&str, u8)]) {
    for &(kind, vector) in kinds {
        let outcome = raise(kind);
        outcome.assert_failed(EXCEPTION_CODE);
        let line = outcome.expect_line_starting("exception: ");
        let report = exception_report(&line.text)
            .unwrap_or_else(|| panic!("{kind}: malformed exception line; {outcome}"));
        assert_eq!(report.vector, vector, "{kind}; {outcome}");
        outcome.assert_contains("RIP=0x");
    }
}

#[test]
fn each_kind_of_cpu_exception_is_reported_with_its_vector() {
    assert_reported(&[
        ("page", 14),
        ("general-protection", 13),
        ("divide", 0),
        ("breakpoint", 3),
    ]);
}

#[test]
fn faults_on_the_guard_page_a_full_stack_or_the_console_lock_are_reported() {
    assert_reported(&[("guard-page", 14), ("stack-overflow", 8), ("in-println", 6)]);
}
