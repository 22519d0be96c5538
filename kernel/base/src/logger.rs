//! The kernel log: the `log` facade, written to each kernel's console.
//!
//! The `log` crate allows one logger per process, so the sinks are the
//! base's one global: every booted kernel registers its console and level
//! here. A record goes to the kernel the calling thread is in (read from
//! the thread slot), or to the first kernel for threads outside any, so that
//! several kernels in one test keep separate logs. Records are formatted into
//! a fixed buffer, no allocation, and written with one console call so
//! concurrent lines do not mix: `[    1.000250] info  base: message`. The
//! boot parameter `log=` sets a kernel's level (`off`, `error`, `warn`,
//! `info` (default), `debug`, `trace`).

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt::{self, Write};

use hypercall::Hypercalls;
use log::{LevelFilter, Log, Metadata, Record};
use spin::Mutex;

use crate::lwp::slot_kernel;

const LINE_CAPACITY: usize = 240;

/// Where one kernel's records go.
struct Sink {
    kernel: u32,
    host: Weak<dyn Hypercalls>,
    level: LevelFilter,
}

struct KernelLogger {
    sinks: Mutex<Vec<Sink>>,
}

static LOGGER: KernelLogger = KernelLogger {
    sinks: Mutex::new(Vec::new()),
};

/// Parses a `log=` value.
pub fn parse_level(text: &str) -> Option<LevelFilter> {
    text.parse().ok()
}

/// Sends kernel `kernel`'s records to `host`'s console at `level`.
pub(crate) fn register(kernel: u32, host: &Arc<dyn Hypercalls>, level: LevelFilter) {
    let mut sinks = LOGGER.sinks.lock();
    sinks.retain(|sink| sink.host.strong_count() > 0);
    sinks.push(Sink {
        kernel,
        host: Arc::downgrade(host),
        level,
    });
    let loudest = sinks.iter().map(|sink| sink.level).max();
    drop(sinks);
    // Only fails if another logger was set: then that one keeps logging.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(loudest.unwrap_or(LevelFilter::Off));
}

impl KernelLogger {
    /// The console and level for the calling thread's kernel.
    fn sink_for_caller(&self) -> Option<(Arc<dyn Hypercalls>, LevelFilter)> {
        let sinks = self.sinks.lock();
        let any = sinks.iter().find_map(|sink| sink.host.upgrade())?;
        let kernel = slot_kernel(any.thread_slot());
        let sink = sinks
            .iter()
            .find(|sink| sink.kernel == kernel)
            .or_else(|| sinks.first())?;
        Some((sink.host.upgrade()?, sink.level))
    }
}

impl Log for KernelLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        let Some((host, level)) = self.sink_for_caller() else {
            return;
        };
        if record.level() > level {
            return;
        }
        let mut line = LineBuffer::new();
        let micros = host.clock_monotonic_ns() / 1_000;
        let _ = write!(
            line,
            "[{:5}.{:06}] {:<5} {}: {}",
            micros / 1_000_000,
            micros % 1_000_000,
            record.level().as_str().to_ascii_lowercase(),
            record.target(),
            record.args()
        );
        line.finish();
        host.console_write(line.as_bytes());
    }

    fn flush(&self) {}
}

/// A line built on the stack; overlong lines end in `…` and a newline.
struct LineBuffer {
    bytes: [u8; LINE_CAPACITY],
    len: usize,
    truncated: bool,
}

impl LineBuffer {
    fn new() -> Self {
        Self {
            bytes: [0; LINE_CAPACITY],
            len: 0,
            truncated: false,
        }
    }

    fn finish(&mut self) {
        let marker: &[u8] = if self.truncated {
            "…\n".as_bytes()
        } else {
            b"\n"
        };
        let end = self.len.min(LINE_CAPACITY - marker.len());
        self.bytes[end..end + marker.len()].copy_from_slice(marker);
        self.len = end + marker.len();
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Write for LineBuffer {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // Keep room for the longest end marker.
        let room = LINE_CAPACITY - 4 - self.len;
        let mut take = text.len().min(room);
        while !text.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.len..self.len + take].copy_from_slice(&text.as_bytes()[..take]);
        self.len += take;
        self.truncated |= take < text.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_on_a_character_boundary_and_marked() {
        let mut line = LineBuffer::new();
        let long = "é".repeat(200);
        write!(line, "{long}").unwrap();
        line.finish();
        let text = core::str::from_utf8(line.as_bytes()).expect("valid UTF-8");
        assert!(text.ends_with("…\n"));
        assert!(line.as_bytes().len() <= LINE_CAPACITY);
    }

    #[test]
    fn short_lines_end_with_a_newline() {
        let mut line = LineBuffer::new();
        write!(line, "hello").unwrap();
        line.finish();
        assert_eq!(line.as_bytes(), b"hello\n");
    }

    #[test]
    fn levels_parse_like_the_log_crate() {
        assert_eq!(parse_level("debug"), Some(LevelFilter::Debug));
        assert_eq!(parse_level("off"), Some(LevelFilter::Off));
        assert_eq!(parse_level("loud"), None);
    }
}
