//! Thread hypercalls: std threads with process-unique ids and a slot.
//!
//! Each created thread runs its entry inside a wrapper that adopts the
//! identity chosen by the creator and catches the private unwind that
//! [`Threads::thread_exit`] starts, so the thread ends quietly at that
//! point. Unwinding runs the destructors on the thread's stack, which the
//! interface does not promise; the kernel calls `thread_exit` with nothing
//! left to drop anyway.
//!
//! A real panic in an entry stays a panic of that thread: std's hook prints
//! its message at once, the thread ends, and [`Threads::thread_join`] still
//! returns `Ok` (the thread has ended, which is all join promises) after
//! writing `thread N ended by a panic: …` to the console. An exit in
//! [`crate::ExitMode::Unwind`] on a joinable thread is re-raised by the
//! joiner, so it reaches the test that catches it; on a detached thread it
//! ends only that thread.

use std::any::Any;
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::thread::JoinHandle;

use hypercall::{Console, ThreadEntry, ThreadError, ThreadId, ThreadSpec, Threads};

use crate::exit::KernelExit;
use crate::sync::lock;
use crate::{Posix, identity};

/// The unwind payload of `thread_exit`; only the wrapper ever sees it.
struct ThreadExitMarker;

/// The joinable threads of one instance that nobody has joined yet.
#[derive(Debug, Default)]
pub(crate) struct ThreadRegistry {
    joinable: Mutex<HashMap<ThreadId, JoinHandle<()>>>,
}

impl Threads for Posix {
    fn thread_create(
        &self,
        spec: ThreadSpec<'_>,
        entry: ThreadEntry,
    ) -> Result<ThreadId, ThreadError> {
        let builder = self.thread_builder(spec)?;
        let identity = identity::allocate();
        // Hold the registry while spawning so that the handle is there
        // before the new thread can hand its identity to a joiner.
        let mut joinable = lock(&self.threads.joinable);
        let handle = builder
            .spawn(move || run_entry(identity, entry))
            .map_err(|error| spawn_error(&error))?;
        if spec.joinable {
            joinable.insert(identity, handle);
        }
        Ok(identity)
    }

    fn thread_join(&self, thread: ThreadId) -> Result<(), ThreadError> {
        if thread == identity::current() {
            return Err(ThreadError::JoinSelf);
        }
        let handle = lock(&self.threads.joinable).remove(&thread);
        let handle = handle.ok_or(ThreadError::NotJoinable)?;
        if let Err(payload) = handle.join() {
            self.report_ended_by_unwind(thread, payload);
        }
        Ok(())
    }

    fn thread_exit(&self) -> ! {
        if !identity::created_by_us() {
            panic!(
                "thread_exit on host thread {}, which hypercall-posix did not create \
                 (only threads made by thread_create can be ended this way)",
                identity::current()
            );
        }
        panic::resume_unwind(Box::new(ThreadExitMarker))
    }

    fn thread_yield(&self) {
        std::thread::yield_now();
    }

    fn thread_current(&self) -> ThreadId {
        identity::current()
    }

    fn thread_slot(&self) -> usize {
        identity::slot()
    }

    fn set_thread_slot(&self, value: usize) {
        identity::set_slot(value);
    }
}

impl Posix {
    /// A std builder for `spec`. A stack larger than the whole memory
    /// limit cannot be meant seriously and is refused up front (std would
    /// otherwise overflow rounding sizes near `usize::MAX`).
    fn thread_builder(&self, spec: ThreadSpec<'_>) -> Result<std::thread::Builder, ThreadError> {
        if spec.stack_size > self.memory.limit() {
            return Err(ThreadError::OutOfMemory);
        }
        // std refuses names with interior NULs by panicking.
        let mut builder = std::thread::Builder::new().name(spec.name.replace('\0', "?"));
        if spec.stack_size != 0 {
            builder = builder.stack_size(spec.stack_size);
        }
        Ok(builder)
    }

    /// Handles a joined thread that ended by unwinding: re-raises a kernel
    /// exit, logs a panic.
    fn report_ended_by_unwind(&self, thread: ThreadId, payload: Box<dyn Any + Send>) {
        if payload.is::<KernelExit>() {
            panic::resume_unwind(payload);
        }
        let message = panic_message(payload.as_ref());
        let line = format!("hypercall-posix: thread {thread} ended by a panic: {message}\n");
        self.console_write(line.as_bytes());
    }
}

/// The body of every created thread.
fn run_entry(identity: ThreadId, entry: ThreadEntry) {
    identity::adopt(identity);
    match panic::catch_unwind(AssertUnwindSafe(entry)) {
        Ok(()) => {}
        Err(payload) if payload.is::<ThreadExitMarker>() => {}
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// Maps a failed spawn: no memory for the stack, or any other refusal of
/// the host (EAGAIN: thread limit or resources) as the thread limit.
fn spawn_error(error: &std::io::Error) -> ThreadError {
    match error.kind() {
        std::io::ErrorKind::OutOfMemory => ThreadError::OutOfMemory,
        _ => ThreadError::TooManyThreads,
    }
}

/// The text of a panic payload (`panic!` gives `&str` or `String`).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

#[cfg(test)]
mod tests;
