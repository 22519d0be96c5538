//! Leaving the machine: QEMU's `isa-debug-exit`, power off, reset, halting.
//!
//! Status encoding (see the protocol notes): success writes 0x10 (QEMU exits
//! with 33), failure code c in 1..=63 writes 0x40 | c (QEMU exits with
//! 129 + 2c). On hardware, where no debug-exit device listens, a failure
//! resets the machine; success ([`power_off`]) enters ACPI soft off and
//! resets only if that is not possible. The exit device comes first so
//! that under QEMU (the tests, `cargo xtask run`) an orderly stop reads
//! as success: QEMU's own ACPI power off would end it with status 0, which
//! says nothing about the guest.

use crate::port::OwnedPort;

// SAFETY: only this module uses port 0xf4, where QEMU's `isa-debug-exit`
// device (`iobase=0xf4,iosize=0x04`) listens; a write ends the machine,
// and on hardware the port is unused.
const DEBUG_EXIT: OwnedPort<u32> = unsafe { OwnedPort::new(0xf4) };
// SAFETY: only this module uses the chipset's reset control register;
// writing it resets the machine, which is all it is used for.
const RESET_CONTROL: OwnedPort<u8> = unsafe { OwnedPort::new(0xcf9) };
// SAFETY: only this module uses the keyboard controller's command port,
// and only to send the reset command.
const KEYBOARD_CONTROLLER: OwnedPort<u8> = unsafe { OwnedPort::new(0x64) };

/// Value written for success.
pub const EXIT_SUCCESS: u8 = 0x10;

/// Encodes a failure code (1..=63; 0 and larger values are clamped).
pub const fn failure_value(code: u8) -> u8 {
    let code = if code == 0 {
        1
    } else if code > 63 {
        63
    } else {
        code
    };
    0x40 | code
}

/// Ends the machine with `value` (see the module docs): QEMU exits; on
/// hardware the machine resets; if even that fails, the CPU halts.
pub fn exit(value: u8) -> ! {
    DEBUG_EXIT.write(u32::from(value));
    reset()
}

/// Ends the machine after success: QEMU's exit device, else ACPI soft
/// off through the tables behind `rsdp`, else a reset.
pub fn power_off(rsdp: Option<u64>) -> ! {
    DEBUG_EXIT.write(u32::from(EXIT_SUCCESS));
    crate::acpi::machine::soft_off(rsdp);
    // Power may take a moment to fall; a machine that stays up resets.
    for _ in 0..1_000_000 {
        core::hint::spin_loop();
    }
    reset()
}

/// Resets the machine through the PCI reset control register (0xcf9), then
/// the keyboard controller; halts forever if neither works.
pub fn reset() -> ! {
    RESET_CONTROL.write(0x02);
    RESET_CONTROL.write(0x06);
    KEYBOARD_CONTROLLER.write(0xfe);
    halt_forever()
}

/// Stops the CPU with interrupts off.
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
