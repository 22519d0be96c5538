//! The serial console on COM1 (115200 8N1), the platform's only output.
//!
//! Initialised first thing at entry. If no UART answers (hardware without
//! COM1), output is dropped silently: the console never blocks forever.

use core::fmt::{self, Write};

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::{BaudRate, Config, Uart16550Tty};

/// I/O port base of COM1.
const COM1: u16 = 0x3f8;

static SERIAL: Mutex<Option<Uart16550Tty<PioBackend>>> = Mutex::new(None);

/// Initialises COM1. Called once at entry, before any output.
pub fn init() {
    let config = Config {
        baud_rate: BaudRate::Baud115200,
        ..Config::DEFAULT
    };
    // SAFETY: COM1's eight registers at 0x3f8 belong to this console alone
    // for the life of the image; nothing else in the platform touches them.
    let uart = unsafe { Uart16550Tty::new_port(COM1, config) }.ok();
    *SERIAL.lock() = uart;
}

/// Writes `bytes` to the console (`\n` becomes `\r\n`).
pub fn write_bytes(bytes: &[u8]) {
    let mut serial = SERIAL.lock();
    if let Some(uart) = serial.as_mut() {
        for chunk in bytes.utf8_chunks() {
            let _ = uart.write_str(chunk.valid());
            if !chunk.invalid().is_empty() {
                let _ = uart.write_str("\u{fffd}");
            }
        }
    }
}

/// Writes formatted text to the console.
pub fn write_fmt(args: fmt::Arguments<'_>) {
    struct Console;
    impl Write for Console {
        fn write_str(&mut self, text: &str) -> fmt::Result {
            write_bytes(text.as_bytes());
            Ok(())
        }
    }
    let _ = Console.write_fmt(args);
}

/// Prints a line to the serial console.
#[macro_export]
macro_rules! println {
    () => { $crate::console::write_bytes(b"\n") };
    ($($arg:tt)*) => {
        $crate::console::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
