//! Serial lines as they arrive from QEMU, stamped with their arrival time.
//!
//! A reader thread splits the guest's COM1 output at `\n`, drops a trailing
//! `\r`, and decodes lossily (a corrupt byte must not hide the rest of a
//! log). Timestamps count from just before QEMU was spawned, so "spawn to
//! first line" is simply the first line's `at`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

/// One line of guest output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialLine {
    /// When the line's last byte arrived, after QEMU was spawned.
    pub at: Duration,
    /// The line without its line ending.
    pub text: String,
}

impl SerialLine {
    /// Whether this line contains `pattern` (an empty pattern matches any line).
    pub fn matches(&self, pattern: &str) -> bool {
        self.text.contains(pattern)
    }
}

/// Reads `stream` line by line and sends each line until end of file or
/// until nobody listens. Runs on its own thread.
pub(crate) fn read_lines(stream: impl Read, spawned_at: Instant, sender: Sender<SerialLine>) {
    let mut reader = BufReader::new(stream);
    let mut bytes = Vec::new();
    loop {
        bytes.clear();
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = SerialLine {
                    at: spawned_at.elapsed(),
                    text: decode(&bytes),
                };
                if sender.send(line).is_err() {
                    return;
                }
            }
        }
    }
}

/// The text of one raw line, without `\n` or `\r\n`.
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// The log as a block for failure messages: one `[seconds] text` per line,
/// control characters (GRUB's terminal escapes) shown escaped.
pub fn format_log(lines: &[SerialLine]) -> String {
    let mut log = format!("serial log ({} lines):\n", lines.len());
    for line in lines {
        let _ = writeln!(
            log,
            "  [{:8.3}] {}",
            line.at.as_secs_f64(),
            printable(&line.text)
        );
    }
    log.push_str("(end of serial log)");
    log
}

fn printable(text: &str) -> String {
    let escape = |c: char| c.is_control() && c != '\t';
    text.chars()
        .map(|c| {
            if escape(c) {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn lines_of(input: &[u8]) -> Vec<String> {
        let (sender, receiver) = mpsc::channel();
        read_lines(input, Instant::now(), sender);
        receiver.iter().map(|line| line.text).collect()
    }

    #[test]
    fn splits_at_newlines_and_strips_carriage_returns() {
        let lines = lines_of(b"anykernel: boot via PVH\r\nsecond\n\nlast without newline");
        assert_eq!(
            lines,
            [
                "anykernel: boot via PVH",
                "second",
                "",
                "last without newline"
            ]
        );
    }

    #[test]
    fn invalid_utf8_does_not_lose_the_line() {
        assert_eq!(
            lines_of(b"bad \xff byte\nnext\n"),
            ["bad \u{fffd} byte", "next"]
        );
    }

    #[test]
    fn matching_is_by_substring() {
        let line = SerialLine {
            at: Duration::ZERO,
            text: "anykernel: ready in 812 us".into(),
        };
        assert!(line.matches("ready in"));
        assert!(line.matches(""));
        assert!(!line.matches("Ready"));
    }

    #[test]
    fn the_log_shows_every_line_with_its_time() {
        let line = |ms, text: &str| SerialLine {
            at: Duration::from_millis(ms),
            text: text.into(),
        };
        let log = format_log(&[
            line(41, "first"),
            line(1250, "second"),
            line(1300, "\x1b[H\r"),
        ]);
        assert!(log.starts_with("serial log (3 lines):\n"), "{log}");
        assert!(log.contains("] \\u{1b}[H\\r\n"), "{log}");
        assert!(log.contains("[   0.041] first\n"), "{log}");
        assert!(log.contains("[   1.250] second\n"), "{log}");
    }
}
