//! The serial console on COM1 (115200 8N1), the platform's only output.
//!
//! Initialised first thing at entry. If no UART answers (hardware without
//! COM1), output is dropped silently: the console never blocks forever.
//!
//! One spin lock guards the UART. A panic or CPU exception may strike while
//! that lock is held (inside a `println!`); the reporters then call
//! `seize_for_report`, which breaks the lock. That is sound only because
//! the platform runs one CPU, the reporters run with interrupts disabled,
//! and they end the machine: the interrupted holder never runs again.
//! If the interrupted output stopped mid-line, the report starts on a new
//! line, so that `panic:` and `exception:` always begin a line.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::{BaudRate, Config, Uart16550Tty};

/// I/O port base of COM1.
const COM1: u16 = 0x3f8;

static SERIAL: Mutex<Option<Uart16550Tty<PioBackend>>> = Mutex::new(None);

/// Whether the last byte written was a newline (or nothing was written).
static AT_LINE_START: AtomicBool = AtomicBool::new(true);

/// The UART, noting whether output ends at a line start.
struct Uart<'a>(&'a mut Uart16550Tty<PioBackend>);

impl Write for Uart<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if let Some(&last) = text.as_bytes().last() {
            AT_LINE_START.store(last == b'\n', Ordering::Relaxed);
        }
        self.0.write_str(text)
    }
}

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

/// Runs `write` on the UART, if there is one, with the console lock held
/// and interrupts disabled (so that an interrupt handler that prints cannot
/// deadlock against the code it interrupted, and lines do not interleave).
fn with_uart(write: impl FnOnce(&mut Uart<'_>)) {
    x86_64::instructions::interrupts::without_interrupts(|| {
        if let Some(uart) = SERIAL.lock().as_mut() {
            write(&mut Uart(uart));
        }
    });
}

/// Writes `bytes` to the console (`\n` becomes `\r\n`); bytes that are not
/// UTF-8 print as U+FFFD.
pub fn write_bytes(bytes: &[u8]) {
    with_uart(|uart| {
        for chunk in bytes.utf8_chunks() {
            let _ = uart.write_str(chunk.valid());
            if !chunk.invalid().is_empty() {
                let _ = uart.write_str("\u{fffd}");
            }
        }
    });
}

/// The console as a [`fmt::Write`] (each call takes the lock anew).
#[derive(Debug, Clone, Copy)]
pub struct Writer;

impl Write for Writer {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        write_bytes(text.as_bytes());
        Ok(())
    }
}

/// Writes formatted text to the console, holding the lock throughout so
/// the text is not interleaved with other output.
pub fn write_fmt(args: fmt::Arguments<'_>) {
    with_uart(|uart| {
        let _ = uart.write_fmt(args);
    });
}

/// Makes the console usable for a crash report even if the report
/// interrupted a holder of its lock (see the module docs).
///
/// Only the panic and exception reporters call this, with interrupts
/// disabled, and they end the machine afterwards.
pub(crate) fn seize_for_report() {
    if SERIAL.is_locked() {
        // SAFETY: single CPU and interrupts are off, so the holder is code
        // this report interrupted; the reporter ends the machine, so that
        // holder never resumes and never sees the lock it held released.
        unsafe { SERIAL.force_unlock() };
    }
    if !AT_LINE_START.load(Ordering::Relaxed) {
        write_bytes(b"\n");
    }
}

/// Prints a line to the serial console.
#[macro_export]
macro_rules! println {
    () => { $crate::console::write_bytes(b"\n") };
    ($($arg:tt)*) => {
        $crate::console::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
