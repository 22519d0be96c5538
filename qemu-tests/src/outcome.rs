//! The outcome of one boot: verdict, serial log, run time, and assertions.
//!
//! Every assertion that fails panics with the whole serial log (with line
//! arrival times), so a failing QEMU test always shows what the guest said,
//! and the file and line of each backtrace frame when the image has a
//! `.debug` file (see [`crate::locations`]).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::locations::{debug_file, frame_locations};
use crate::serial::{SerialLine, format_log};
use crate::verdict::Verdict;

/// One finished boot: its verdict, everything it printed, and how long it ran.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How the boot ended.
    pub verdict: Verdict,
    /// The whole serial output, one `\n`-terminated line per guest line.
    pub serial: String,
    /// The same lines with their arrival time after QEMU was spawned.
    pub lines: Vec<SerialLine>,
    /// From spawning QEMU to its exit (or to the deadline).
    pub elapsed: Duration,
    /// The ELF that was booted, if QEMU booted one with `-kernel`.
    image: Option<PathBuf>,
}

impl Outcome {
    /// Builds an outcome from the received `lines`.
    pub fn new(verdict: Verdict, lines: Vec<SerialLine>, elapsed: Duration) -> Outcome {
        let serial = lines
            .iter()
            .map(|line| format!("{}\n", line.text))
            .collect();
        Outcome {
            verdict,
            serial,
            lines,
            elapsed,
            image: None,
        }
    }

    /// The outcome of booting `image` (its `.debug` file places frames).
    pub fn with_image(self, image: Option<PathBuf>) -> Outcome {
        Outcome { image, ..self }
    }

    /// Panics, with the serial log, unless the verdict is `expected`.
    #[track_caller]
    pub fn assert_verdict(&self, expected: &Verdict) {
        assert!(
            &self.verdict == expected,
            "expected verdict `{expected}`, {self}"
        );
    }

    /// Panics, with the serial log, unless the guest passed.
    #[track_caller]
    pub fn assert_passed(&self) {
        self.assert_verdict(&Verdict::Passed);
    }

    /// Panics, with the serial log, unless the guest failed with `code`.
    #[track_caller]
    pub fn assert_failed(&self, code: u8) {
        self.assert_verdict(&Verdict::Failed(code));
    }

    /// The first line containing `text`, if any.
    pub fn line_containing(&self, text: &str) -> Option<&SerialLine> {
        self.lines.iter().find(|line| line.text.contains(text))
    }

    /// The first line that starts with `prefix`; panics with the serial log
    /// if none does. Protocol lines such as `panic: ` are matched this way,
    /// so that a detail line mentioning the word does not match.
    #[track_caller]
    pub fn expect_line_starting(&self, prefix: &str) -> &SerialLine {
        match self.lines.iter().find(|line| line.text.starts_with(prefix)) {
            Some(line) => line,
            None => panic!("no serial line starts with `{prefix}`; {self}"),
        }
    }

    /// The first line containing `text`; panics with the serial log if none does.
    #[track_caller]
    pub fn expect_line(&self, text: &str) -> &SerialLine {
        match self.line_containing(text) {
            Some(line) => line,
            None => panic!("no serial line contains `{text}`; {self}"),
        }
    }

    /// Panics, with the serial log, unless some line contains `text`.
    #[track_caller]
    pub fn assert_contains(&self, text: &str) {
        self.expect_line(text);
    }
}

impl fmt::Display for Outcome {
    /// The verdict, the run time and the full serial log with timestamps.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "got `{}` after {:.3} s; ",
            self.verdict,
            self.elapsed.as_secs_f64()
        )?;
        formatter.write_str(&format_log(&self.lines))?;
        let Some(image) = &self.image else {
            return Ok(());
        };
        let locations = frame_locations(&self.serial, image);
        if locations.is_empty() {
            return Ok(());
        }
        let source = debug_file(image);
        write!(
            formatter,
            "\nbacktrace lines (host, from {}):\n{locations}",
            source.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> Outcome {
        let line = |text: &str| SerialLine {
            at: Duration::from_millis(40),
            text: text.into(),
        };
        let lines = vec![
            line("anykernel: boot via PVH"),
            line("selftest sleep: PASS"),
        ];
        Outcome::new(Verdict::Failed(3), lines, Duration::from_millis(900))
    }

    #[test]
    fn outcome_keeps_serial_and_finds_lines() {
        let outcome = outcome();
        assert_eq!(
            outcome.serial,
            "anykernel: boot via PVH\nselftest sleep: PASS\n"
        );
        assert_eq!(outcome.expect_line("PASS").text, "selftest sleep: PASS");
        assert!(outcome.line_containing("panic").is_none());
        outcome.assert_failed(3);
    }

    #[test]
    fn failed_assertions_carry_the_serial_log() {
        let outcome = outcome();
        let panic = std::panic::catch_unwind(|| outcome.assert_passed()).expect_err("must fail");
        let message = panic.downcast_ref::<String>().expect("formatted message");
        assert!(message.contains("expected verdict `passed`"), "{message}");
        assert!(message.contains("failed with code 3"), "{message}");
        assert!(message.contains("anykernel: boot via PVH"), "{message}");
    }
}
