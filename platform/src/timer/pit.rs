//! The 8254 programmable interval timer (1.193182 MHz): channel 2 as a
//! calibration reference, channel 0 as a one-shot interrupt source.
//!
//! Channel 2's gate is bit 0 of port 0x61 (bit 1 would drive the speaker
//! and stays clear); it counts down from 0xFFFF in mode 0, wrapping every
//! 55 ms, and is read by latching. Channel 0 drives ISA IRQ 0 (GSI 2 on the
//! I/O APIC): in mode 0 its output rises once when the count runs out.

use crate::port::OwnedPort;

/// The PIT input clock.
pub const FREQUENCY_HZ: u64 = 1_193_182;

const CHANNEL0: OwnedPort<u8> = pit_port(0x40);
const CHANNEL2: OwnedPort<u8> = pit_port(0x42);
const COMMAND: OwnedPort<u8> = pit_port(0x43);
/// System control port B: the channel 2 gate and the speaker.
const GATE_PORT: OwnedPort<u8> = pit_port(0x61);
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

const fn pit_port(number: u16) -> OwnedPort<u8> {
    // SAFETY: the PIT ports and port 0x61 belong to this module alone (0x61
    // is written back with only its gate and speaker bits changed); the
    // 8254 only counts and raises IRQ 0.
    unsafe { OwnedPort::new(number) }
}

/// Starts channel 2 counting down from 0xFFFF (speaker off) and checks that
/// it runs. False if no PIT answers (e.g. microvm without `pit=on`).
pub fn start_channel2() -> bool {
    let gate = GATE_PORT.read();
    GATE_PORT.write((gate & !SPEAKER) | GATE2);
    COMMAND.write(CHANNEL2_ONE_SHOT);
    CHANNEL2.write(0xff);
    CHANNEL2.write(0xff);
    let first = channel2_count();
    (0..LIVENESS_READS).any(|_| channel2_count() != first)
}

/// Channel 2's current count (counts down; wraps after 0).
pub fn channel2_count() -> u16 {
    COMMAND.write(CHANNEL2_LATCH);
    let low = CHANNEL2.read();
    let high = CHANNEL2.read();
    u16::from_le_bytes([low, high])
}

/// Arms channel 0 to raise IRQ 0 once after `count` ticks (1..=65535;
/// 0 means 65536).
pub fn start_channel0_one_shot(count: u16) {
    let [low, high] = count.to_le_bytes();
    COMMAND.write(CHANNEL0_ONE_SHOT);
    CHANNEL0.write(low);
    CHANNEL0.write(high);
}
