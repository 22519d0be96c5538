//! Running QEMU with COM1 on the terminal (`cargo xtask run` and `gdb`).
//!
//! QEMU inherits our stdin, stdout and stderr and our process group, so
//! Ctrl-C sends SIGINT to QEMU and to us alike. QEMU ends on it with status
//! 0; we must outlive it to report, so while QEMU runs our SIGINT only sets
//! a flag. A caught signal is reset to the default by exec, so QEMU still
//! gets the default disposition although the handler is installed first.
//! Only one QEMU can own the terminal: runs in one process are serialised,
//! which also keeps the process-wide handler consistent.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::QemuConfig;
use crate::running::SpawnError;
use crate::verdict::Verdict;

/// How a run on the terminal ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerminalRun {
    /// The guest's verdict (a boot error with status 0 after Ctrl-C).
    pub verdict: Verdict,
    /// Whether Ctrl-C (SIGINT) arrived while QEMU ran.
    pub interrupted: bool,
    /// From spawning QEMU to its exit.
    pub elapsed: Duration,
}

impl QemuConfig {
    /// Runs QEMU with the serial port on this terminal until it exits.
    pub fn run_in_terminal(&self) -> Result<TerminalRun, SpawnError> {
        let command = self.command().map_err(SpawnError::Config)?;
        let (status, interrupted, elapsed) = run_command_in_terminal(command)?;
        Ok(TerminalRun {
            verdict: Verdict::from_exit_status(status.code(), ""),
            interrupted,
            elapsed,
        })
    }
}

/// Runs `command` on this terminal until it exits, surviving the Ctrl-C
/// that ends it: its exit status, whether SIGINT arrived, and how long it
/// ran. Hosted kernels run this way too.
pub fn run_command_in_terminal(
    mut command: std::process::Command,
) -> Result<(std::process::ExitStatus, bool, Duration), SpawnError> {
    let _terminal = TERMINAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let guard = InterruptGuard::install();
    let spawned_at = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|error| SpawnError::Io(error.kind()))?;
    let status = child.wait().map_err(|error| SpawnError::Io(error.kind()))?;
    let elapsed = spawned_at.elapsed();
    guard.settle();
    Ok((status, guard.interrupted(), elapsed))
}

/// Held while a QEMU owns the terminal.
static TERMINAL: Mutex<()> = Mutex::new(());

/// Set by the SIGINT handler; read after QEMU exits.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

const SIGINT: i32 = 2;
/// `SIG_ERR`, what `signal` returns when it fails.
const SIGNAL_ERROR: usize = usize::MAX;

unsafe extern "C" {
    /// C library `signal(2)`; the handler is passed as its address.
    fn signal(signal_number: i32, handler: usize) -> usize;
    /// C library `sigpending(2)`.
    fn sigpending(set: *mut SignalSet) -> i32;
    /// C library `sigismember(3)`.
    fn sigismember(set: *const SignalSet, signal_number: i32) -> i32;
}

/// glibc's `sigset_t`: 1024 bits.
#[repr(C)]
struct SignalSet([u64; 16]);

/// Whether a SIGINT is pending: sent (by a child that has exited since,
/// say) but not yet delivered to any of our threads.
fn interrupt_pending() -> bool {
    let mut set = SignalSet([0; 16]);
    // SAFETY: sigpending(2) writes a sigset_t, which `set` is sized and
    // aligned for; sigismember(3) only reads it.
    unsafe { sigpending(&mut set) == 0 && sigismember(&set, SIGINT) == 1 }
}

extern "C" fn on_interrupt(_signal_number: i32) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catches SIGINT while alive; restores the previous disposition on drop.
struct InterruptGuard {
    previous: usize,
}

impl InterruptGuard {
    fn install() -> InterruptGuard {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let handler = on_interrupt as extern "C" fn(i32) as usize;
        // SAFETY: signal(2) with a valid signal number and the address of an
        // `extern "C" fn(i32)` that only stores to an atomic, which is
        // async-signal-safe.
        let previous = unsafe { signal(SIGINT, handler) };
        InterruptGuard { previous }
    }

    fn interrupted(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }

    /// Waits (up to a second) until no SIGINT is pending: one sent just
    /// before the child exited (Ctrl-C reaches QEMU and us together) may
    /// still be on its way to one of our threads, and must land on our
    /// handler before [`InterruptGuard::interrupted`] is read and before
    /// the default disposition comes back.
    fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while interrupt_pending() && Instant::now() < deadline {
            std::thread::yield_now();
        }
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        self.settle();
        if self.previous != SIGNAL_ERROR {
            // SAFETY: restores the disposition signal(2) returned, which is
            // SIG_DFL, SIG_IGN or a handler that was valid before ours.
            unsafe { signal(SIGINT, self.previous) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration whose "QEMU" is `sh` running `script` (QEMU's
    /// arguments become the script's positional parameters).
    fn fake(script: &str) -> QemuConfig {
        QemuConfig::kernel("unused")
            .program("sh")
            .program_args(["-c", script, "fake-qemu"])
    }

    #[test]
    fn the_guest_verdict_comes_back_from_a_terminal_run() {
        let run = fake("exit 255").run_in_terminal().expect("sh starts");
        assert_eq!(run.verdict, Verdict::Failed(63));
        assert!(!run.interrupted);
    }

    #[test]
    fn ctrl_c_is_reported_and_does_not_kill_the_caller() {
        // Like QEMU on Ctrl-C: the signal reaches us while the child still
        // runs (QEMU takes a moment to shut down). A child that exits the
        // instant it signals would race this multi-threaded test binary's
        // own delivery of the signal, which a terminal never does.
        let run = fake("kill -INT $PPID; sleep 0.3; exit 0")
            .run_in_terminal()
            .expect("sh starts");
        assert!(run.interrupted, "{run:?}");
        assert!(matches!(run.verdict, Verdict::BootError(_)), "{run:?}");
    }
}
