//! The 8254 programmable interval timer (1.193182 MHz): channel 2 as a
//! calibration reference, channel 0 as a one-shot interrupt source.
//!
//! Channel 2's gate is bit 0 of port 0x61 (bit 1 would drive the speaker
//! and stays clear); it counts down from 0xFFFF in mode 0, wrapping every
//! 55 ms, and is read by latching. Channel 0 drives ISA IRQ 0 (GSI 2 on the
//! I/O APIC): in mode 0 its output rises once when the count runs out.

use x86_64::instructions::port::Port;

/// The PIT input clock.
pub const FREQUENCY_HZ: u64 = 1_193_182;

const CHANNEL0: u16 = 0x40;
const CHANNEL2: u16 = 0x42;
const COMMAND: u16 = 0x43;
const GATE_PORT: u16 = 0x61;
const GATE2: u8 = 1 << 0;
const SPEAKER: u8 = 1 << 1;
/// Channel 0 (bits 7:6), low then high byte (5:4), mode 0 (3:1), binary.
const CHANNEL0_ONE_SHOT: u8 = 0b0011_0000;
/// Channel 2 (bits 7:6 = 10), low then high byte, mode 0, binary.
const CHANNEL2_ONE_SHOT: u8 = 0b1011_0000;
/// Latch channel 2's count (bits 7:6 = 10, access bits 00).
const CHANNEL2_LATCH: u8 = 0b1000_0000;
/// Reads of a counter that must show a change before it counts as running
/// (one tick is 838 ns; each read takes three port accesses of ≥ 0.3 µs).
const LIVENESS_READS: u32 = 200;

fn out(port: u16, value: u8) {
    // SAFETY: the PIT ports and the gate bits of 0x61 belong to this module;
    // the sequences below follow the 8254 programming model.
    unsafe { Port::<u8>::new(port).write(value) }
}

fn input(port: u16) -> u8 {
    // SAFETY: as in `out`; reading a latched count has no other effect.
    unsafe { Port::<u8>::new(port).read() }
}

/// Starts channel 2 counting down from 0xFFFF (speaker off) and checks that
/// it runs. False if no PIT answers (e.g. microvm without `pit=on`).
pub fn start_channel2() -> bool {
    let gate = input(GATE_PORT);
    out(GATE_PORT, (gate & !SPEAKER) | GATE2);
    out(COMMAND, CHANNEL2_ONE_SHOT);
    out(CHANNEL2, 0xff);
    out(CHANNEL2, 0xff);
    let first = channel2_count();
    (0..LIVENESS_READS).any(|_| channel2_count() != first)
}

/// Channel 2's current count (counts down; wraps after 0).
pub fn channel2_count() -> u16 {
    out(COMMAND, CHANNEL2_LATCH);
    let low = input(CHANNEL2);
    let high = input(CHANNEL2);
    u16::from_le_bytes([low, high])
}

/// Arms channel 0 to raise IRQ 0 once after `count` ticks (1..=65535;
/// 0 means 65536).
pub fn start_channel0_one_shot(count: u16) {
    let [low, high] = count.to_le_bytes();
    out(COMMAND, CHANNEL0_ONE_SHOT);
    out(CHANNEL0, low);
    out(CHANNEL0, high);
}
