//! Thread control blocks: what the scheduler records about each thread.
//!
//! A thread is in exactly one run state. Invariants the scheduler keeps:
//! a `Ready` thread is in the run queue exactly once; only a `Blocked`
//! thread can be in the deadline queue; the `Running` thread is the
//! scheduler's current one; an `Exited` thread owns no stack.

use alloc::boxed::Box;
use core::{fmt, ops::Deref};

use crate::{ThreadId, stack::Stack};

/// What a new thread runs.
pub(crate) type Entry = Box<dyn FnOnce() + Send + 'static>;

/// Where a thread stands with respect to the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunState {
    /// It is the current thread.
    Running,
    /// It waits in the run queue.
    Ready,
    /// It waits for a wake (and maybe a deadline); in no run queue.
    Blocked,
    /// It has ended; only a joinable thread stays in this state, until
    /// its join.
    Exited,
}

/// The two-phase blocking protocol of a thread that is not blocked yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wakeup {
    /// No block is being prepared.
    Idle,
    /// `prepare_block` was called; a wake now turns this into `Woken`.
    Prepared,
    /// A wake came after `prepare_block`: the next block returns at once.
    Woken,
}

/// A thread's control block.
pub(crate) struct Thread {
    pub(crate) id: ThreadId,
    pub(crate) name: ThreadName,
    pub(crate) run_state: RunState,
    pub(crate) wakeup: Wakeup,
    /// Set when a deadline, not a wake, ended the last block.
    pub(crate) timed_out: bool,
    /// The stack pointer saved by the switch while the thread is not
    /// running; meaningless while it runs.
    pub(crate) saved_stack_pointer: usize,
    /// None for the boot thread (its stack is not ours) and after exit.
    pub(crate) stack: Option<Stack>,
    /// Taken when the thread starts.
    pub(crate) entry: Option<Entry>,
    /// The per-thread word of `Scheduler::slot`.
    pub(crate) slot: usize,
    pub(crate) joinable: bool,
    /// The thread waiting in `join` for this one, if any.
    pub(crate) joiner: Option<ThreadId>,
}

impl Thread {
    /// A thread that has not started: `Ready`, with its stack and entry.
    /// Its id is set when the table admits it.
    pub(crate) fn new(name: &str, joinable: bool, stack: Stack, entry: Entry) -> Self {
        Self {
            stack: Some(stack),
            entry: Some(entry),
            joinable,
            run_state: RunState::Ready,
            ..Self::adopted(name)
        }
    }

    /// The thread made of the context that created the scheduler: running,
    /// on a stack the scheduler did not allocate, not joinable.
    pub(crate) fn adopted(name: &str) -> Self {
        Self {
            id: ThreadId(0),
            name: ThreadName::new(name),
            run_state: RunState::Running,
            wakeup: Wakeup::Idle,
            timed_out: false,
            saved_stack_pointer: 0,
            stack: None,
            entry: None,
            slot: 0,
            joinable: false,
            joiner: None,
        }
    }

    /// Whether the thread's stack canary is intact (true without a stack).
    pub(crate) fn canary_intact(&self) -> bool {
        self.stack.as_ref().is_none_or(Stack::canary_intact)
    }
}

/// A thread's name, stored inline (no allocation), at most 31 bytes, cut
/// at a character boundary. Dereferences to `str`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ThreadName {
    bytes: [u8; ThreadName::CAPACITY],
    length: u8,
}

impl ThreadName {
    /// The longest name kept, in bytes.
    pub const CAPACITY: usize = 31;

    fn new(name: &str) -> Self {
        let mut length = name.len().min(Self::CAPACITY);
        while !name.is_char_boundary(length) {
            length -= 1;
        }
        let mut bytes = [0; Self::CAPACITY];
        bytes[..length].copy_from_slice(&name.as_bytes()[..length]);
        let length = u8::try_from(length).expect("CAPACITY fits in a u8");
        Self { bytes, length }
    }
}

impl Deref for ThreadName {
    type Target = str;

    fn deref(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.length)])
            .expect("names are cut at character boundaries")
    }
}

impl fmt::Display for ThreadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for ThreadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_whole_or_cut_at_a_character_boundary() {
        assert_eq!(&*ThreadName::new("worker"), "worker");
        let long = "a".repeat(40);
        assert_eq!(&*ThreadName::new(&long), &long[..31]);
        // 30 ASCII bytes then a 2-byte character straddling byte 31.
        let straddling = std::format!("{}é", "b".repeat(30));
        assert_eq!(&*ThreadName::new(&straddling), &straddling[..30]);
    }
}
