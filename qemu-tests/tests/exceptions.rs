//! CPU exceptions: the guest names the vector, dumps registers, backtraces.

use qemu_tests::protocol::{BACKTRACE_MARKER, backtrace_frames, exception_report};
use qemu_tests::{EXCEPTION_CODE, Machine, selftest};

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
