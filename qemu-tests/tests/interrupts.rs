//! Interrupts: timer and device interrupts arrive on both interrupt setups,
//! and an interrupt returns with every general register intact.
//!
//! q35 with qboot and microvm route the PIC differently (see FACTS.md), so
//! the case runs on both.

use qemu_tests::protocol::pass_line;
use qemu_tests::{Machine, selftest};

fn assert_interrupts_pass(machine: Machine) {
    let outcome = selftest("interrupts", machine);
    outcome.assert_passed();
    outcome.assert_contains("registers intact across 1000 interrupts");
    outcome.assert_contains(&pass_line("interrupts"));
}

#[test]
fn interrupts_arrive_on_q35_with_qboot() {
    assert_interrupts_pass(Machine::Q35);
}

#[test]
fn interrupts_arrive_on_microvm() {
    assert_interrupts_pass(Machine::Microvm);
}
