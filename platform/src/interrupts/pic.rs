//! The two cascaded 8259 PICs: remapped to vectors 0x20..=0x2F, masked.
//!
//! With an I/O APIC the PIC stays fully masked. Without one (or without
//! any APIC) ISA IRQ n arrives at vector 0x20 + n, through the local APIC's
//! LINT0 (ExtINT) or straight to the CPU. IRQ 7 and IRQ 15 may be spurious
//! (the line dropped before the CPU acknowledged it): the in-service
//! register tells, and a spurious IRQ gets no EOI from its own chip.

use spin::Mutex;

use crate::port::OwnedPort;

const MASTER_COMMAND: OwnedPort<u8> = pic_port(0x20);
const MASTER_DATA: OwnedPort<u8> = pic_port(0x21);
const SLAVE_COMMAND: OwnedPort<u8> = pic_port(0xa0);
const SLAVE_DATA: OwnedPort<u8> = pic_port(0xa1);
const INIT_WITH_ICW4: u8 = 0x11;
const MODE_8086: u8 = 0x01;
const END_OF_INTERRUPT: u8 = 0x20;
const READ_IN_SERVICE: u8 = 0x0b;
/// The slave is wired to the master's IRQ 2.
const CASCADE_IRQ: u8 = 2;

/// The current masks (bit n masks IRQ n), None until [`probe_and_mask`]
/// found the chips.
static MASKS: Mutex<Option<u16>> = Mutex::new(None);

const fn pic_port(number: u16) -> OwnedPort<u8> {
    // SAFETY: the PIC's four ports belong to this module alone; the 8259
    // only raises interrupts, whatever is written to it.
    unsafe { OwnedPort::new(number) }
}

/// Detects the PICs (a mask written must read back), remaps them to
/// `base` and `base + 8` and masks every line. Returns whether they exist.
pub fn probe_and_mask(base: u8) -> bool {
    crate::cpu::without_interrupts(|| {
        MASTER_DATA.write(0xa5);
        if MASTER_DATA.read() != 0xa5 {
            return false;
        }
        for (command, data, offset, wiring) in [
            (MASTER_COMMAND, MASTER_DATA, base, 1 << CASCADE_IRQ),
            (SLAVE_COMMAND, SLAVE_DATA, base + 8, CASCADE_IRQ),
        ] {
            command.write(INIT_WITH_ICW4);
            data.write(offset);
            data.write(wiring);
            data.write(MODE_8086);
            data.write(0xff);
        }
        *MASKS.lock() = Some(0xffff);
        true
    })
}

/// Masks (true) or unmasks ISA `irq` (0..=15); unmasking a slave line also
/// unmasks the cascade. False if there is no PIC or `irq` is out of range.
pub fn set_masked(irq: u8, masked: bool) -> bool {
    if irq > 15 {
        return false;
    }
    crate::cpu::without_interrupts(|| {
        let mut guard = MASKS.lock();
        let Some(masks) = guard.as_mut() else {
            return false;
        };
        if masked {
            *masks |= 1 << irq;
        } else {
            *masks &= !(1 << irq);
            if irq >= 8 {
                *masks &= !(1 << CASCADE_IRQ);
            }
        }
        let [low, high] = masks.to_le_bytes();
        MASTER_DATA.write(low);
        SLAVE_DATA.write(high);
        true
    })
}

fn in_service(command: OwnedPort<u8>) -> u8 {
    command.write(READ_IN_SERVICE);
    command.read()
}

/// Whether ISA `irq` is a ghost: IRQ 7 or 15 raised while nothing was in
/// service. A ghost IRQ 15 still came through the master's cascade line,
/// which gets its EOI here; a ghost gets no other EOI.
pub fn is_spurious(irq: u8) -> bool {
    match irq {
        7 => in_service(MASTER_COMMAND) & 0x80 == 0,
        15 if in_service(SLAVE_COMMAND) & 0x80 == 0 => {
            MASTER_COMMAND.write(END_OF_INTERRUPT);
            true
        }
        _ => false,
    }
}

/// Acknowledges ISA `irq` (slave and master for IRQs 8..=15).
pub fn end_of_interrupt(irq: u8) {
    if irq >= 8 {
        SLAVE_COMMAND.write(END_OF_INTERRUPT);
    }
    MASTER_COMMAND.write(END_OF_INTERRUPT);
}
