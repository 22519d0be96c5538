//! Panic: the guest reports message, location and a symbolized backtrace.

use qemu_tests::protocol::{BACKTRACE_MARKER, backtrace_frames, panic_report};
use qemu_tests::{Machine, PANIC_CODE, selftest};

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
