//! Exit hypercall: end the process, or unwind to a test that catches it.
//!
//! [`ExitMode::Process`] is what a hosted kernel binary wants: flush the
//! console and `std::process::exit`. Under `cargo test` that would end the
//! whole test run, so [`ExitMode::Unwind`] instead unwinds the calling
//! thread with a [`KernelExit`] payload (no panic message is printed), and
//! [`KernelExit::catch`] turns that back into a value.

use std::panic::{self, AssertUnwindSafe};

use hypercall::{Exit, ExitStatus};

use crate::Posix;

/// What the exit hypercall does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExitMode {
    /// Flush the console and end the process with the status's code.
    #[default]
    Process,
    /// Unwind the calling thread with a [`KernelExit`] payload.
    Unwind,
}

/// The unwind payload of the exit hypercall in [`ExitMode::Unwind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelExit(pub ExitStatus);

impl KernelExit {
    /// Runs `body` and returns its value, or the [`KernelExit`] it unwound
    /// with. Any other panic continues to unwind.
    ///
    /// # Errors
    /// The kernel's exit status when `body` called the exit hypercall.
    pub fn catch<R>(body: impl FnOnce() -> R) -> Result<R, KernelExit> {
        match panic::catch_unwind(AssertUnwindSafe(body)) {
            Ok(value) => Ok(value),
            Err(payload) => match payload.downcast::<KernelExit>() {
                Ok(exit) => Err(*exit),
                Err(other) => panic::resume_unwind(other),
            },
        }
    }
}

/// The process exit code of `status`: 0 for success, the failure code
/// otherwise, with a failure code of 0 read as 1.
pub(crate) fn process_code(status: ExitStatus) -> i32 {
    match status {
        ExitStatus::Success => 0,
        ExitStatus::Failure(0) => 1,
        ExitStatus::Failure(code) => i32::from(code),
    }
}

impl Exit for Posix {
    fn exit(&self, status: ExitStatus) -> ! {
        match self.exit_mode {
            ExitMode::Process => {
                self.console.flush();
                std::process::exit(process_code(status))
            }
            ExitMode::Unwind => panic::resume_unwind(Box::new(KernelExit(status))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PosixConfig;
    use crate::test_support::wait_for;
    use hypercall::Console;

    /// Set in the child process of the process-exit test.
    const CHILD_VARIABLE: &str = "HYPERCALL_POSIX_EXIT_CHILD";

    #[test]
    fn unwind_mode_delivers_the_status() {
        let posix = Posix::new(PosixConfig {
            exit: ExitMode::Unwind,
            ..PosixConfig::default()
        });
        let outcome: Result<(), KernelExit> =
            KernelExit::catch(|| posix.exit(ExitStatus::Failure(3)));
        assert_eq!(outcome, Err(KernelExit(ExitStatus::Failure(3))));
        assert_eq!(KernelExit::catch(|| 5), Ok(5));
    }

    #[test]
    #[should_panic(expected = "an ordinary panic")]
    fn catch_lets_other_panics_through() {
        let _ = KernelExit::catch(|| panic!("an ordinary panic"));
    }

    #[test]
    fn process_codes() {
        assert_eq!(process_code(ExitStatus::Success), 0);
        assert_eq!(process_code(ExitStatus::Failure(0)), 1);
        assert_eq!(process_code(ExitStatus::Failure(3)), 3);
        assert_eq!(process_code(ExitStatus::Failure(127)), 127);
    }

    /// Runs this very test in a child process, which writes to the console
    /// and exits with 7; the parent checks the code and the output.
    #[test]
    fn process_mode_ends_the_process_with_the_code() {
        if std::env::var_os(CHILD_VARIABLE).is_some() {
            let posix = Posix::new(PosixConfig::default());
            posix.console_write(b"last words\n");
            posix.exit(ExitStatus::Failure(7));
        }
        let test_binary = std::env::current_exe().expect("test binary path");
        let mut child = std::process::Command::new(test_binary)
            .args([
                "--exact",
                "exit::tests::process_mode_ends_the_process_with_the_code",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD_VARIABLE, "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the child");
        let mut status = None;
        wait_for("the child to exit", || {
            status = child.try_wait().expect("child status");
            status.is_some()
        });
        let mut stderr = String::new();
        let mut pipe = child.stderr.take().expect("piped");
        std::io::Read::read_to_string(&mut pipe, &mut stderr).expect("child stderr");
        assert_eq!(
            status.and_then(|status| status.code()),
            Some(7),
            "stderr: {stderr}"
        );
        assert!(stderr.contains("last words\n"), "stderr: {stderr}");
    }
}
