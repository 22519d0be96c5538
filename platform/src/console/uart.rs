//! A 16550A UART on COM1, programmed directly: 115200 8N1, FIFOs on.
//!
//! Output only. [`Uart::probe`] checks the scratch register first (present
//! from the 16450 on): where no UART answers (reads float to all ones)
//! there is no console. Each wait for the transmitter is bounded
//! ([`TRANSMIT_POLLS`]), so a stuck UART drops output instead of hanging
//! the machine. When the line status says the transmitter is empty, the
//! whole transmit FIFO is free, so one status read covers up to 16 bytes:
//! half the port accesses of polling before every byte, which counts under
//! emulation (each access leaves the translated code). A UART whose
//! interrupt identification register does not report the FIFOs enabled
//! (a 16450) gets one byte per status read.

use crate::port::OwnedPort;

/// Bytes the 16550A transmit FIFO holds.
const TRANSMIT_FIFO: usize = 16;
/// Line status polls before a byte is given up (a byte takes 87 µs at
/// 115200 baud; one poll is one port access of at least ~0.3 µs).
const TRANSMIT_POLLS: u32 = 100_000;
/// Divisor latch value for 115200 baud (115200 / 115200).
const DIVISOR_115200: u8 = 1;

const DATA: u16 = 0;
const INTERRUPT_ENABLE: u16 = 1;
const FIFO_CONTROL: u16 = 2;
/// Read: interrupt identification; write: FIFO control.
const INTERRUPT_IDENTIFICATION: u16 = 2;
const LINE_CONTROL: u16 = 3;
const MODEM_CONTROL: u16 = 4;
const LINE_STATUS: u16 = 5;
const SCRATCH: u16 = 7;
/// Line control: divisor latch access bit.
const DIVISOR_LATCH: u8 = 0x80;
/// Line control: 8 data bits, no parity, 1 stop bit.
const EIGHT_N_ONE: u8 = 0x03;
/// FIFO control: enable, clear both FIFOs, receive trigger at 14 bytes.
const FIFOS_ON: u8 = 0xc7;
/// Modem control: DTR, RTS and OUT2 (no loopback).
const DTR_RTS_OUT2: u8 = 0x0b;
/// Interrupt identification: both bits set when the FIFOs are enabled.
const FIFOS_ENABLED: u8 = 0xc0;
/// Line status: transmit holding register (and FIFO) empty.
const TRANSMIT_EMPTY: u8 = 1 << 5;

/// An initialised UART.
#[derive(Debug)]
pub(super) struct Uart {
    base: u16,
    /// Bytes the transmitter takes once it reports empty (16 or 1).
    capacity: usize,
    /// Bytes that may still be written before the next status check.
    room: usize,
}

impl Uart {
    /// Programs the UART at I/O `base` if one answers.
    ///
    /// # Safety
    /// The eight ports from `base` belong to the caller alone for the life
    /// of the image (a UART does no DMA).
    pub(super) unsafe fn probe(base: u16) -> Option<Self> {
        let mut uart = Self {
            base,
            capacity: 1,
            room: 0,
        };
        for value in [0x5a, 0xa5] {
            uart.write_register(SCRATCH, value);
            if uart.read_register(SCRATCH) != value {
                return None;
            }
        }
        uart.write_register(INTERRUPT_ENABLE, 0);
        uart.write_register(LINE_CONTROL, DIVISOR_LATCH);
        uart.write_register(DATA, DIVISOR_115200);
        uart.write_register(INTERRUPT_ENABLE, 0);
        uart.write_register(LINE_CONTROL, EIGHT_N_ONE);
        uart.write_register(FIFO_CONTROL, FIFOS_ON);
        uart.write_register(MODEM_CONTROL, DTR_RTS_OUT2);
        let fifos = uart.read_register(INTERRUPT_IDENTIFICATION) & FIFOS_ENABLED;
        if fifos == FIFOS_ENABLED {
            uart.capacity = TRANSMIT_FIFO;
        }
        Some(uart)
    }

    /// Sends `byte`, waiting (bounded) for room in the transmit FIFO.
    pub(super) fn send(&mut self, byte: u8) {
        if self.room == 0 {
            let empty =
                (0..TRANSMIT_POLLS).any(|_| self.read_register(LINE_STATUS) & TRANSMIT_EMPTY != 0);
            if !empty {
                return;
            }
            self.room = self.capacity;
        }
        self.write_register(DATA, byte);
        self.room -= 1;
    }

    fn port(&self, register: u16) -> OwnedPort<u8> {
        // SAFETY: `probe`'s caller gave this UART its eight ports; a UART
        // register access cannot touch memory.
        unsafe { OwnedPort::new(self.base + register) }
    }

    fn read_register(&self, register: u16) -> u8 {
        self.port(register).read()
    }

    fn write_register(&self, register: u16, value: u8) {
        self.port(register).write(value);
    }
}
