//! Thread hypercalls: the hard context of kernel threads.
//!
//! The host creates and schedules threads; the kernel attaches its own soft
//! context (its `Lwp`, the rump papers' `curlwp`) to each one through the
//! per-thread slot ([`Threads::thread_slot`]).

use alloc::boxed::Box;
use core::fmt;

/// A host thread's identity, unique for the life of the implementation and
/// never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId(pub u64);

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a new thread runs. When it returns, the thread ends as if it had
/// called [`Threads::thread_exit`].
pub type ThreadEntry = Box<dyn FnOnce() + Send + 'static>;

/// How to create a thread.
#[derive(Debug, Clone, Copy)]
pub struct ThreadSpec<'a> {
    /// A short name for diagnostics (backtraces, debugger, logs).
    pub name: &'a str,
    /// Stack size in bytes; 0 asks for the host's default. The host rounds
    /// it up to its granularity.
    pub stack_size: usize,
    /// Whether someone will call [`Threads::thread_join`] on it. A thread
    /// that is not joinable is reaped by the host when it ends.
    pub joinable: bool,
}

/// Why a thread call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadError {
    /// No memory for the thread's stack or bookkeeping.
    OutOfMemory,
    /// The host's thread limit is reached.
    TooManyThreads,
    /// Join of a thread that does not exist, was not created joinable, or
    /// was already joined.
    NotJoinable,
    /// A thread tried to join itself.
    JoinSelf,
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OutOfMemory => "no memory for a new thread",
            Self::TooManyThreads => "thread limit reached",
            Self::NotJoinable => "thread is not joinable",
            Self::JoinSelf => "a thread cannot join itself",
        })
    }
}

impl core::error::Error for ThreadError {}

/// Thread hypercalls.
pub trait Threads {
    /// Creates a thread that runs `entry` and makes it runnable. Never
    /// blocks; the new thread may start before or after this call returns.
    ///
    /// # Errors
    /// [`ThreadError::OutOfMemory`] or [`ThreadError::TooManyThreads`]; the
    /// entry function is dropped without running.
    fn thread_create(
        &self,
        spec: ThreadSpec<'_>,
        entry: ThreadEntry,
    ) -> Result<ThreadId, ThreadError>;

    /// Waits until the joinable thread `thread` has ended, then releases
    /// it. *May block.*
    ///
    /// # Errors
    /// [`ThreadError::NotJoinable`], [`ThreadError::JoinSelf`].
    fn thread_join(&self, thread: ThreadId) -> Result<(), ThreadError>;

    /// Ends the calling thread, which must be one that
    /// [`Threads::thread_create`] made. Destructors of values on its stack
    /// do not run, so the kernel calls this only with nothing left to drop.
    fn thread_exit(&self) -> !;

    /// Lets other runnable threads run before the caller continues. *May
    /// block* (briefly).
    fn thread_yield(&self);

    /// The calling thread's identity. Never blocks.
    fn thread_current(&self) -> ThreadId;

    /// The calling thread's kernel slot: one machine word the kernel uses to
    /// find its context for this thread (the rump papers' `curlwp`). It is 0
    /// in a new thread and in a thread the implementation did not create.
    /// Never blocks.
    fn thread_slot(&self) -> usize;

    /// Sets the calling thread's kernel slot (see [`Threads::thread_slot`]).
    /// Never blocks.
    fn set_thread_slot(&self, value: usize);
}
