//! Boot parameters: parsed and echoed by the guest; bad ones are reported.
//!
//! The selftest case `params` prints `selftest params: <key>=<value>` for
//! every well-formed parameter and a line containing `error` and the
//! offending parameter for every malformed one, then passes: bad input from
//! outside is an error message, never a crash.

use qemu_tests::protocol::{READY_MARKER, pass_line};
use qemu_tests::{Machine, Outcome, SELFTEST_DEADLINE, boot, selftest_config};

fn run_params(params: &[&str]) -> Outcome {
    let qemu = boot(&selftest_config("params", Machine::Q35).params(params.iter().copied()));
    qemu.wait_for_exit(SELFTEST_DEADLINE)
}

#[test]
fn well_formed_parameters_are_echoed() {
    let outcome = run_params(&["foo=bar", "ip=10.0.0.2/24"]);
    outcome.assert_passed();
    outcome.assert_contains("selftest params: foo=bar");
    outcome.assert_contains("selftest params: ip=10.0.0.2/24");
    outcome.assert_contains(&pass_line("params"));
}

/// Asserts that `bad` is reported as an error while the boot carries on.
fn assert_reported_without_crash(bad: &str) {
    let outcome = run_params(&["foo=bar", bad]);
    outcome.assert_passed();
    outcome.assert_contains(READY_MARKER);
    outcome.assert_contains("selftest params: foo=bar");
    let reported = outcome
        .lines
        .iter()
        .any(|line| line.text.to_lowercase().contains("error") && line.text.contains(bad));
    assert!(reported, "no error line naming `{bad}`; {outcome}");
}

#[test]
fn a_parameter_without_a_name_is_reported() {
    assert_reported_without_crash("=oops");
}

#[test]
fn a_memory_size_that_is_not_a_number_is_reported() {
    assert_reported_without_crash("mem=lots");
}
