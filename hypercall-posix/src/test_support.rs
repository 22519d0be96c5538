//! Test helpers: every wait in a test has a deadline.
//!
//! [`run_with_deadline`] runs a closure that may borrow the test's locals
//! and aborts the test process with a message if it does not finish in
//! time (a scoped thread cannot be abandoned, and a hung test must fail
//! rather than hang). [`wait_for`] polls a condition until a deadline.

use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long any single wait in a test may take.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `body` on a scoped thread and returns its result; aborts the
/// process if it takes longer than [`DEADLINE`]. A panic in `body` is
/// propagated.
pub(crate) fn run_with_deadline<R: Send>(body: impl FnOnce() -> R + Send) -> R {
    let (done, finished) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let result = body();
            let _ = done.send(());
            result
        });
        if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(DEADLINE) {
            // Straight to the file descriptor: the harness's capture of
            // `eprintln!` would be lost with the abort.
            let message = format!("test deadline of {DEADLINE:?} passed: a wait never ended\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), message.as_bytes());
            std::process::abort();
        }
        match worker.join() {
            Ok(result) => result,
            Err(payload) => std::panic::resume_unwind(payload),
        }
    })
}

/// Polls `condition` until it holds; panics naming `what` after
/// [`DEADLINE`].
pub(crate) fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}
