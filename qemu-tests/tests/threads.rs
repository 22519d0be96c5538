//! Threads: the selftest's thread case passes in the guest.

use qemu_tests::protocol::pass_line;
use qemu_tests::{Machine, selftest};

#[test]
fn threads_run_block_and_join() {
    let outcome = selftest("threads", Machine::Q35);
    outcome.assert_passed();
    outcome.assert_contains(&pass_line("threads"));
}
