//! Plain types of the public interface: ids, spawn options, stats.

use core::fmt;

/// A thread's identity: never zero and never reused by its scheduler.
///
/// The low 16 bits are the thread's index in the scheduler's table (so a
/// lookup is O(1)); the bits above are a serial number that grows with
/// every spawn, so ids also sort in creation order. Treat the value as
/// opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId(pub u64);

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How to create a thread.
#[derive(Debug, Clone, Copy)]
pub struct SpawnSpec<'a> {
    /// A short name for diagnostics; the first 31 bytes are kept.
    pub name: &'a str,
    /// Stack size in bytes; 0 means [`crate::DEFAULT_STACK_SIZE`]. Rounded
    /// up to 16 bytes and to at least [`crate::MINIMUM_STACK_SIZE`].
    pub stack_size: usize,
    /// Whether someone will [`crate::Scheduler::join`] it. A detached
    /// thread disappears as soon as it has exited.
    pub joinable: bool,
}

/// Why [`crate::Scheduler::block_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeReason {
    /// [`crate::Scheduler::wake`] woke the thread (or it was woken between
    /// `prepare_block` and the block).
    Woken,
    /// The deadline passed first.
    TimedOut,
}

/// Counters for diagnostics and measurements ([`crate::Scheduler::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulerStats {
    /// Switches from one thread's stack to another's since creation.
    pub context_switches: u64,
    /// Threads that have not exited, the boot thread included.
    pub threads_alive: usize,
    /// Joinable threads that have exited and wait for their join.
    pub threads_unjoined: usize,
    /// Threads created by `spawn` since creation.
    pub threads_spawned: u64,
    /// Threads in the run queue right now.
    pub threads_runnable: usize,
    /// Threads waiting for a deadline right now.
    pub threads_sleeping: usize,
    /// Stacks allocated since creation.
    pub stacks_allocated: u64,
    /// Stacks freed since creation.
    pub stacks_freed: u64,
    /// Bytes of thread stacks allocated right now.
    pub stack_bytes: usize,
    /// Calls of [`crate::Platform::idle`] since creation.
    pub idle_calls: u64,
}
