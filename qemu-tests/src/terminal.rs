//! Running a program with the terminal: QEMU (`cargo xtask run` and
//! `gdb`, in `power_down.rs`) and hosted kernels.
//!
//! A hosted kernel inherits our stdin, stdout and stderr and our process
//! group, so Ctrl-C sends SIGINT to it and to us alike; it stops in order
//! on it. We must outlive it to report, so while it runs our SIGINT only
//! sets a flag (signal-hook's actions; outside a run SIGINT ends us as by
//! default). A caught signal is reset to the default by exec, so the child
//! still gets the default disposition although the handler is installed
//! first. QEMU instead runs in a process group of its own and hears of
//! Ctrl-C from us. Only one program can own the terminal: runs in one
//! process are serialised, which also keeps the process-wide handler
//! consistent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use signal_hook::consts::SIGINT;
use signal_hook::flag;

use crate::running::SpawnError;
use crate::verdict::Verdict;

/// How a run on the terminal ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerminalRun {
    /// The guest's verdict (success after an orderly stop on Ctrl-C; a
    /// boot error if QEMU had to be killed).
    pub verdict: Verdict,
    /// Whether Ctrl-C (SIGINT) arrived while QEMU ran.
    pub interrupted: bool,
    /// Whether QEMU was killed (a second Ctrl-C, or no stop in time).
    pub killed: bool,
    /// From spawning QEMU to its exit.
    pub elapsed: Duration,
}

/// Runs `command` on this terminal until it exits, surviving the Ctrl-C
/// that ends it: its exit status, whether SIGINT arrived, and how long it
/// ran. Hosted kernels run this way too.
pub fn run_command_in_terminal(
    mut command: std::process::Command,
) -> Result<(std::process::ExitStatus, bool, Duration), SpawnError> {
    let _terminal = lock_terminal();
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

/// Takes the terminal for one run.
pub(crate) fn lock_terminal() -> std::sync::MutexGuard<'static, ()> {
    TERMINAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Our two SIGINT actions, registered once for the life of the process:
/// while `idle` (no QEMU owns the terminal) a SIGINT does what it does by
/// default, ending us; while a QEMU runs it only sets `interrupted`.
#[derive(Debug)]
struct InterruptFlags {
    idle: Arc<AtomicBool>,
    interrupted: Arc<AtomicBool>,
}

/// The registered actions; `None` if they could not be registered (then
/// SIGINT keeps its disposition and is never reported).
fn interrupt_flags() -> Option<&'static InterruptFlags> {
    static FLAGS: OnceLock<Option<InterruptFlags>> = OnceLock::new();
    let register = || {
        let flags = InterruptFlags {
            idle: Arc::new(AtomicBool::new(true)),
            interrupted: Arc::new(AtomicBool::new(false)),
        };
        // The default action must come first: when idle it ends us.
        flag::register_conditional_default(SIGINT, Arc::clone(&flags.idle)).ok()?;
        flag::register(SIGINT, Arc::clone(&flags.interrupted)).ok()?;
        Some(flags)
    };
    FLAGS.get_or_init(register).as_ref()
}

/// Whether a SIGINT is pending: sent (by a child that has exited since,
/// say) but not yet delivered to any of our threads.
fn interrupt_pending() -> bool {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigpending(2) fills the sigset_t it is pointed at and returns
    // 0 when it did; only then does sigismember(3) read it.
    unsafe {
        libc::sigpending(set.as_mut_ptr()) == 0 && libc::sigismember(set.as_ptr(), SIGINT) == 1
    }
}

/// Catches SIGINT while alive; SIGINT ends us again after the drop.
pub(crate) struct InterruptGuard {
    flags: Option<&'static InterruptFlags>,
}

impl InterruptGuard {
    pub(crate) fn install() -> InterruptGuard {
        let flags = interrupt_flags();
        if let Some(flags) = flags {
            flags.interrupted.store(false, Ordering::SeqCst);
            flags.idle.store(false, Ordering::SeqCst);
        }
        InterruptGuard { flags }
    }

    fn interrupted(&self) -> bool {
        self.flags
            .is_some_and(|flags| flags.interrupted.load(Ordering::SeqCst))
    }

    /// Whether a SIGINT arrived since the last call (or the install).
    pub(crate) fn take(&self) -> bool {
        self.flags
            .is_some_and(|flags| flags.interrupted.swap(false, Ordering::SeqCst))
    }

    /// Waits (up to a second) until no SIGINT is pending: one sent just
    /// before the child exited (Ctrl-C reaches QEMU and us together) may
    /// still be on its way to one of our threads, and must land on our
    /// action before [`InterruptGuard::interrupted`] is read and before
    /// SIGINT ends us again.
    pub(crate) fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while interrupt_pending() && Instant::now() < deadline {
            std::thread::yield_now();
        }
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        self.settle();
        if let Some(flags) = self.flags {
            flags.idle.store(true, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::QemuConfig;

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

    /// Set in the child process of the test below.
    const CHILD_VARIABLE: &str = "QEMU_TESTS_SIGINT_AFTER_RUN";

    #[test]
    fn after_a_run_ctrl_c_ends_the_caller_again() {
        let name = "terminal::tests::after_a_run_ctrl_c_ends_the_caller_again";
        if std::env::var_os(CHILD_VARIABLE).is_some() {
            fake("exit 0").run_in_terminal().expect("sh starts");
            // SAFETY: raise(3) has no preconditions; SIGINT should end us
            // before it returns.
            unsafe { libc::raise(SIGINT) };
            std::process::exit(0);
        }
        let child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["--exact", name, "--test-threads=1"])
            .env(CHILD_VARIABLE, "1")
            .output()
            .expect("the child runs");
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(child.status.signal(), Some(SIGINT), "{:?}", child.status);
    }
}
