//! Leaving the machine: QEMU's `isa-debug-exit`, reset, and halting.
//!
//! Status encoding (see the protocol notes): success writes 0x10 (QEMU exits
//! with 33), failure code c in 1..=63 writes 0x40 | c (QEMU exits with
//! 129 + 2c). On hardware, where no debug-exit device listens, the machine
//! resets instead.

use x86_64::instructions::port::Port;

/// I/O port of QEMU's `isa-debug-exit` device (`iobase=0xf4,iosize=0x04`).
const DEBUG_EXIT_PORT: u16 = 0xf4;

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
    let mut port: Port<u32> = Port::new(DEBUG_EXIT_PORT);
    // SAFETY: writing the debug-exit port has no effect on anything but the
    // (optional) isa-debug-exit device; on hardware the port is unused.
    unsafe { port.write(u32::from(value)) };
    reset()
}

/// Resets the machine through the PCI reset control register (0xcf9), then
/// the keyboard controller; halts forever if neither works.
pub fn reset() -> ! {
    let mut reset_control: Port<u8> = Port::new(0xcf9);
    let mut keyboard_controller: Port<u8> = Port::new(0x64);
    // SAFETY: 0xcf9 is the chipset reset control register and 0x64 the
    // keyboard controller command port; both only reset the machine here,
    // which is what the caller asked for.
    unsafe {
        reset_control.write(0x02);
        reset_control.write(0x06);
        keyboard_controller.write(0xfe);
    }
    halt_forever()
}

/// Stops the CPU with interrupts off.
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
