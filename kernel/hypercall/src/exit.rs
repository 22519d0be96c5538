//! Exit hypercall: the end of the host container.
//!
//! Under QEMU the status becomes QEMU's exit status (through
//! `isa-debug-exit`); on hardware the machine powers off or resets; hosted,
//! the process exits. Kernel panics are Rust panics: each implementation's
//! panic handler prints the message and a backtrace and then exits with
//! [`ExitStatus::Failure`].

/// How the host container ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything went as intended.
    Success,
    /// Something failed; the code (1..=127) says what, 0 is read as 1.
    Failure(u8),
}

/// Exit hypercalls.
pub trait Exit {
    /// Ends the host container with `status`. Does not return. Output
    /// already written to the console is flushed first.
    fn exit(&self, status: ExitStatus) -> !;
}
