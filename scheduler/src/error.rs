//! Errors of spawn and join: small Copy enums with Display and Error.

use core::fmt;

/// Why [`crate::Scheduler::spawn`] failed. The entry was dropped unrun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    /// No memory for the stack or the scheduler's bookkeeping, or a stack
    /// size no allocation can satisfy.
    OutOfMemory,
    /// The scheduler's thread limit is reached.
    TooManyThreads,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OutOfMemory => "no memory for a new thread",
            Self::TooManyThreads => "thread limit reached",
        })
    }
}

impl core::error::Error for SpawnError {}

/// Why [`crate::Scheduler::join`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinError {
    /// The thread is unknown, detached, already joined, or being joined by
    /// another thread.
    NotJoinable,
    /// A thread tried to join itself.
    JoinSelf,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotJoinable => "thread is not joinable",
            Self::JoinSelf => "a thread cannot join itself",
        })
    }
}

impl core::error::Error for JoinError {}
