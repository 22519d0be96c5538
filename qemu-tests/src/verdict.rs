//! Verdicts decoded from QEMU's exit status.
//!
//! The guest writes v to isa-debug-exit and QEMU exits with (v << 1) | 1:
//! Success (v = 0x10) is status 33, Failure(code) (v = 0x40 | code, code
//! 1..=63) is status 129 + 2 * code. Every other status (0 after a signal or
//! a guest reset under -no-reboot, 1 for a QEMU error or v = 0, ...) is not a
//! guest verdict and becomes [`Verdict::BootError`] with QEMU's stderr.

use std::fmt;

/// QEMU's exit status when the guest reports success.
pub const PASSED_STATUS: i32 = 33;
/// The guest's failure code after a panic.
pub const PANIC_CODE: u8 = 63;
/// The guest's failure code after an unexpected CPU exception.
pub const EXCEPTION_CODE: u8 = 62;

/// What a boot came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The guest exited with Success.
    Passed,
    /// The guest exited with Failure(code), code in 1..=63.
    Failed(u8),
    /// The deadline passed first; QEMU was killed.
    Timeout,
    /// QEMU ended without a guest verdict; the text says how.
    BootError(String),
}

impl Verdict {
    /// Decodes QEMU's exit `status` (`None`: killed by a signal); `stderr` is
    /// what QEMU printed, quoted in a boot error.
    pub fn from_exit_status(status: Option<i32>, stderr: &str) -> Verdict {
        let Some(status) = status else {
            return Verdict::boot_error("QEMU was killed by a signal", stderr);
        };
        if status == PASSED_STATUS {
            return Verdict::Passed;
        }
        if let Some(code) = failure_code(status) {
            return Verdict::Failed(code);
        }
        let reason = match status {
            0 => "QEMU exited with status 0: the guest reset or powered off without a verdict, \
                  or QEMU got a signal"
                .to_string(),
            1 => "QEMU exited with status 1: QEMU failed, or the guest wrote 0 to the exit port"
                .to_string(),
            _ => format!("QEMU exited with status {status}, which is not a guest verdict"),
        };
        Verdict::boot_error(&reason, stderr)
    }

    fn boot_error(reason: &str, stderr: &str) -> Verdict {
        let stderr = stderr.trim();
        if stderr.is_empty() {
            Verdict::BootError(reason.to_string())
        } else {
            Verdict::BootError(format!("{reason}; QEMU said: {stderr}"))
        }
    }
}

/// The guest's failure code behind QEMU status `status`, if it is one.
fn failure_code(status: i32) -> Option<u8> {
    if status % 2 != 1 {
        return None;
    }
    let value = (status - 1) / 2;
    if value & !0x3f != 0x40 {
        return None;
    }
    let code = u8::try_from(value & 0x3f).expect("masked to six bits");
    (code != 0).then_some(code)
}

impl fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Passed => write!(formatter, "passed"),
            Verdict::Failed(code) => write!(formatter, "failed with code {code}"),
            Verdict::Timeout => write!(formatter, "timed out"),
            Verdict::BootError(reason) => write!(formatter, "boot error: {reason}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_and_every_failure_code_decode() {
        assert_eq!(Verdict::from_exit_status(Some(33), ""), Verdict::Passed);
        for code in 1..=63u8 {
            let status = (i32::from(0x40 | code) << 1) | 1;
            assert_eq!(
                Verdict::from_exit_status(Some(status), ""),
                Verdict::Failed(code)
            );
        }
        assert_eq!(
            Verdict::from_exit_status(Some(255), ""),
            Verdict::Failed(PANIC_CODE)
        );
        assert_eq!(
            Verdict::from_exit_status(Some(253), ""),
            Verdict::Failed(EXCEPTION_CODE)
        );
    }

    #[test]
    fn statuses_that_are_no_guest_verdict_are_boot_errors() {
        for status in [
            Some(0),
            Some(1),
            Some(2),
            Some(35),
            Some(127),
            Some(128),
            Some(129),
            None,
        ] {
            let verdict = Verdict::from_exit_status(status, "");
            assert!(
                matches!(verdict, Verdict::BootError(_)),
                "{status:?} gave {verdict:?}"
            );
        }
    }

    #[test]
    fn boot_errors_quote_qemu() {
        let verdict = Verdict::from_exit_status(Some(1), "qemu: could not open kernel file\n");
        let Verdict::BootError(reason) = verdict else {
            panic!("not a boot error")
        };
        assert!(
            reason.ends_with("QEMU said: qemu: could not open kernel file"),
            "{reason}"
        );
    }
}
