//! Console hypercall: standard error, or a buffer that tests read back.
//!
//! Each call is one `write_all` of one buffer, so the output of concurrent
//! callers never interleaves within a call. With a kernel name, every line
//! begins with `"[name] "`. Whether the next byte starts a line is tracked
//! per instance across calls (an atomic flag, no lock), so a line written
//! in pieces gets one prefix; with concurrent writers of unfinished lines
//! the prefix may land mid-line, which only costs cosmetics.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hypercall::Console;

use crate::Posix;
use crate::sync::lock;

/// Where console output goes.
#[derive(Debug, Clone, Default)]
pub enum ConsoleSink {
    /// The process's standard error.
    #[default]
    Stderr,
    /// A shared buffer; keep a clone of the [`ConsoleCapture`] to read it.
    Capture(ConsoleCapture),
}

/// A shared buffer that collects console output, for tests.
#[derive(Debug, Clone, Default)]
pub struct ConsoleCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl ConsoleCapture {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        lock(&self.buffer).clone()
    }

    /// Everything written so far as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    fn append(&self, bytes: &[u8]) {
        lock(&self.buffer).extend_from_slice(bytes);
    }
}

/// One instance's console: sink, line prefix and line-start state.
#[derive(Debug)]
pub(crate) struct PosixConsole {
    /// `"[name] "`, or empty for no prefix.
    prefix: Vec<u8>,
    sink: ConsoleSink,
    /// Whether the next byte written begins a line.
    at_line_start: AtomicBool,
}

impl PosixConsole {
    pub(crate) fn new(name: &str, sink: ConsoleSink) -> Self {
        let prefix = if name.is_empty() {
            Vec::new()
        } else {
            format!("[{name}] ").into_bytes()
        };
        Self {
            prefix,
            sink,
            at_line_start: AtomicBool::new(true),
        }
    }

    /// Writes `bytes` as one unit, prefixed where lines begin.
    pub(crate) fn write(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.prefix.is_empty() {
            return self.emit(bytes);
        }
        let ends_line = bytes.ends_with(b"\n");
        let starts_line = self.at_line_start.swap(ends_line, Ordering::AcqRel);
        self.emit(&prefix_lines(&self.prefix, bytes, starts_line));
    }

    /// Flushes standard error (a no-op for the capture buffer).
    pub(crate) fn flush(&self) {
        if let ConsoleSink::Stderr = self.sink {
            let _ = std::io::stderr().lock().flush();
        }
    }

    fn emit(&self, bytes: &[u8]) {
        match &self.sink {
            // Nothing sensible is left to do if standard error is gone.
            ConsoleSink::Stderr => drop(std::io::stderr().lock().write_all(bytes)),
            ConsoleSink::Capture(capture) => capture.append(bytes),
        }
    }
}

/// `bytes` with `prefix` before every line start: the first byte if
/// `starts_line`, and every byte that follows a newline inside `bytes`.
fn prefix_lines(prefix: &[u8], bytes: &[u8], starts_line: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + prefix.len() * 2);
    let mut line_start = starts_line;
    for &byte in bytes {
        if line_start {
            out.extend_from_slice(prefix);
        }
        out.push(byte);
        line_start = byte == b'\n';
    }
    out
}

impl Console for Posix {
    fn console_write(&self, bytes: &[u8]) {
        self.console.write(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PosixConfig;

    fn captured(name: &str) -> (std::sync::Arc<Posix>, ConsoleCapture) {
        let capture = ConsoleCapture::new();
        let config = PosixConfig {
            name: name.into(),
            console: ConsoleSink::Capture(capture.clone()),
            ..PosixConfig::default()
        };
        (Posix::new(config), capture)
    }

    #[test]
    fn capture_holds_what_was_written_without_a_name() {
        let (posix, capture) = captured("");
        posix.console_write(b"hello ");
        posix.console_write(b"world\n");
        assert_eq!(capture.text(), "hello world\n");
    }

    #[test]
    fn named_kernel_prefixes_each_line_once() {
        let (posix, capture) = captured("k1");
        posix.console_write(b"boot ");
        posix.console_write(b"ok\nsecond line\nthird");
        posix.console_write(b" end\n");
        posix.console_write(b"");
        posix.console_write(b"last\n");
        assert_eq!(
            capture.text(),
            "[k1] boot ok\n[k1] second line\n[k1] third end\n[k1] last\n"
        );
    }

    #[test]
    fn concurrent_calls_do_not_interleave_within_a_call() {
        let (posix, capture) = captured("");
        let lines = ["aaaaaaaaaaaaaaaaaaaaaaaa\n", "bbbbbbbbbbbbbbbbbbbbbbbb\n"];
        std::thread::scope(|scope| {
            for line in lines {
                let posix = &posix;
                scope.spawn(move || (0..500).for_each(|_| posix.console_write(line.as_bytes())));
            }
        });
        let text = capture.text();
        assert_eq!(text.lines().count(), 1000);
        assert!(
            text.lines()
                .all(|line| line == &lines[0][..24] || line == &lines[1][..24])
        );
    }

    #[test]
    fn prefix_lines_marks_every_line_start() {
        assert_eq!(prefix_lines(b"> ", b"a\nb\n", true), b"> a\n> b\n");
        assert_eq!(prefix_lines(b"> ", b"a\nb", false), b"a\n> b");
        assert_eq!(prefix_lines(b"> ", b"\n\n", true), b"> \n> \n");
    }
}
