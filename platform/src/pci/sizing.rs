//! Reading BARs from configuration space and sizing them.
//!
//! Sizing writes all ones to a BAR and reads the mask back, which would
//! move a live BAR, so it happens with decoding switched off. Under QEMU
//! every change of a device's decoding rebuilds the guest memory map
//! (measured: ~0.3 ms each under TCG), so devices firmware already enabled
//! are not sized at boot: their BARs are read as they are (size 0) and
//! sized on first use ([`ensure_sized`]), or when assignment needs every
//! size. Devices with decoding off (all of them under qboot and microvm)
//! are sized at once, at no such cost.

use super::address::PciAddress;
use super::bar::{self, Bar};
use super::config::{read, write};
use super::inventory::Function;

pub(super) const COMMAND: u16 = 0x04;
pub(super) const DECODE_IO: u32 = 1 << 0;
pub(super) const DECODE_MEMORY: u32 = 1 << 1;
const BAR0: u16 = 0x10;

/// The command bit that makes a function decode BARs of `kind`.
pub(super) fn decode_bit(kind: bar::BarKind) -> u32 {
    if kind.is_memory() {
        DECODE_MEMORY
    } else {
        DECODE_IO
    }
}

/// Sets `bits` in the command register unless they are set already (a
/// write that changes decoding is the costly part under QEMU).
pub(super) fn enable(address: PciAddress, bits: u32) {
    let Ok(command) = read(address, COMMAND) else {
        return;
    };
    if command & bits != bits {
        let _ = write(address, COMMAND, (command & 0xffff) | bits);
    }
}

/// How many BAR slots a header type has.
fn slots(header_type: u8) -> u8 {
    match header_type {
        0 => 6,
        1 => 2,
        _ => 0,
    }
}

/// The BARs of a function, and whether they are sized (only when decoding
/// is off, so that sizing changes nothing the machine can see).
pub(super) fn read_bars(address: PciAddress, header_type: u8) -> ([Option<Bar>; 6], bool) {
    let count = slots(header_type);
    let command = read(address, COMMAND).unwrap_or(0);
    if command & (DECODE_IO | DECODE_MEMORY) == 0 {
        return (each_bar(address, count, probe_slot), true);
    }
    (
        each_bar(address, count, |address, offset| {
            (read(address, offset).unwrap_or(0), 0)
        }),
        false,
    )
}

/// Sizes `function`'s BARs if that has not happened yet, switching its
/// decoding off for the duration.
pub(super) fn ensure_sized(function: &mut Function) {
    if function.sized {
        return;
    }
    let address = function.info.address;
    let command = read(address, COMMAND).unwrap_or(0) & 0xffff;
    let _ = write(address, COMMAND, command & !(DECODE_IO | DECODE_MEMORY));
    function.bars = each_bar(address, slots(function.info.header_type), probe_slot);
    let _ = write(address, COMMAND, command);
    function.sized = true;
}

/// Decodes `count` BAR slots, reading each as `(value, mask)` with
/// `access` (see [`bar::decode_slots`]).
fn each_bar(
    address: PciAddress,
    count: u8,
    access: impl Fn(PciAddress, u16) -> (u32, u32),
) -> [Option<Bar>; 6] {
    bar::decode_slots(count, |slot| access(address, BAR0 + 4 * u16::from(slot)))
}

/// Reads a BAR slot, writes all ones, reads the mask, restores the slot.
fn probe_slot(address: PciAddress, offset: u16) -> (u32, u32) {
    let raw = read(address, offset).unwrap_or(0);
    let _ = write(address, offset, u32::MAX);
    let mask = read(address, offset).unwrap_or(0);
    let _ = write(address, offset, raw);
    (raw, mask)
}
