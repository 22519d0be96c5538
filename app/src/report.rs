//! Protocol lines on the console: readiness, selftest verdicts, figures.
//!
//! These lines are what the host-side tools read (see xtask and
//! qemu-tests), so their shape is fixed: `anykernel: …`,
//! `selftest <case>: …`, `bench <metric> <value> <unit>`.

use alloc::string::String;
use core::fmt::{self, Write};

use kernel::hypercall::{ExitStatus, Hypercalls};

/// Writes one formatted line to `host`'s console in a single call.
pub fn say(host: &dyn Hypercalls, args: fmt::Arguments<'_>) {
    let mut line = String::new();
    let _ = line.write_fmt(args);
    line.push('\n');
    host.console_write(line.as_bytes());
}

/// Reports the progress and verdict of one selftest case.
pub struct Reporter<'a> {
    host: &'a dyn Hypercalls,
    case: &'a str,
}

impl<'a> Reporter<'a> {
    /// A reporter for `case`.
    pub fn new(host: &'a dyn Hypercalls, case: &'a str) -> Self {
        Self { host, case }
    }

    /// A detail line: `selftest <case>: <text>`.
    pub fn line(&self, args: fmt::Arguments<'_>) {
        say(self.host, format_args!("selftest {}: {}", self.case, args));
    }

    /// A benchmark figure: `bench <metric> <value> <unit>`.
    pub fn figure(&self, metric: &str, value: u64, unit: &str) {
        say(self.host, format_args!("bench {metric} {value} {unit}"));
    }

    /// The verdict line for `outcome`, and the status to exit with.
    pub fn verdict(&self, outcome: Result<(), String>) -> ExitStatus {
        match outcome {
            Ok(()) => {
                self.line(format_args!("PASS"));
                ExitStatus::Success
            }
            Err(reason) => {
                self.line(format_args!("FAIL {reason}"));
                ExitStatus::Failure(1)
            }
        }
    }
}

impl fmt::Debug for Reporter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("case", &self.case)
            .finish()
    }
}
