//! The scheduler's mutable state and its transitions, free of side effects.
//!
//! Nothing here calls the platform or switches stacks: the callers in
//! `dispatch`, `blocking` and `lifecycle` borrow the state, apply one of
//! these transitions, release the borrow, and only then call out.

use crate::{
    SchedulerStats, SpawnError, ThreadId,
    queues::{DeadlineQueue, RunQueue},
    stack::Stack,
    table::ThreadTable,
    thread::{RunState, Thread, ThreadName, Wakeup},
};

/// Event counters behind [`SchedulerStats`].
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) context_switches: u64,
    pub(crate) threads_alive: usize,
    pub(crate) threads_unjoined: usize,
    pub(crate) threads_spawned: u64,
    pub(crate) stacks_allocated: u64,
    pub(crate) stacks_freed: u64,
    pub(crate) stack_bytes: usize,
    pub(crate) idle_calls: u64,
}

/// Everything the scheduler changes while threads run.
pub(crate) struct State {
    pub(crate) threads: ThreadTable,
    pub(crate) run_queue: RunQueue,
    pub(crate) deadlines: DeadlineQueue,
    /// Table index of the running thread (stale once it exited, see
    /// `current_exited`).
    pub(crate) current: u32,
    /// The running thread has exited: its control block may be gone and
    /// its context is never saved (the switch writes into `discarded`).
    pub(crate) current_exited: bool,
    /// Where the switch stores the stack pointer of an exited thread.
    pub(crate) discarded_stack_pointer: usize,
    /// The stack of the thread that exited last; freed by the next thread
    /// to run, right after the switch (nobody runs on it any more).
    pub(crate) dead_stack: Option<Stack>,
    /// The thread that created the scheduler.
    pub(crate) boot: ThreadId,
    pub(crate) counters: Counters,
}

impl State {
    /// The state of a new scheduler whose only thread is the caller.
    pub(crate) fn new(max_threads: usize) -> Self {
        let mut threads = ThreadTable::new(max_threads.max(1));
        let current = threads
            .insert(Thread::adopted("boot"))
            .ok()
            .expect("an empty table with room for one thread admits the boot thread");
        let boot = threads.at(current).id;
        let (mut run_queue, mut deadlines) = (RunQueue::new(), DeadlineQueue::new());
        let reserved = run_queue.reserve(1).and_then(|()| deadlines.reserve(1));
        reserved.expect("memory for the boot thread's queue entries (a few bytes)");
        Self {
            threads,
            run_queue,
            deadlines,
            current,
            current_exited: false,
            discarded_stack_pointer: 0,
            dead_stack: None,
            boot,
            counters: Counters {
                threads_alive: 1,
                ..Counters::default()
            },
        }
    }

    /// The running thread's control block.
    pub(crate) fn current_thread(&mut self) -> &mut Thread {
        self.threads.at_mut(self.current)
    }

    /// Admits a new thread and queues it. On failure the thread comes back
    /// so that its stack and entry are dropped outside the borrow.
    pub(crate) fn admit(&mut self, thread: Thread) -> Result<ThreadId, (SpawnError, Thread)> {
        let stack_bytes = thread.stack.as_ref().map_or(0, Stack::size);
        let threads_after = self.threads.count() + 1;
        let index_bound = self.threads.index_bound_after_insert();
        let reserved = self
            .run_queue
            .reserve(threads_after)
            .and_then(|()| self.deadlines.reserve(index_bound));
        if reserved.is_err() {
            return Err((SpawnError::OutOfMemory, thread));
        }
        let index = self.threads.insert(thread)?;
        self.run_queue.push(index);
        let counters = &mut self.counters;
        counters.threads_alive += 1;
        counters.threads_spawned += 1;
        counters.stacks_allocated += 1;
        counters.stack_bytes += stack_bytes;
        Ok(self.threads.at(index).id)
    }

    /// Puts the running thread at the back of the run queue.
    pub(crate) fn requeue_current(&mut self) {
        self.current_thread().run_state = RunState::Ready;
        self.run_queue.push(self.current);
    }

    /// Blocks the running thread unless it was woken since `prepare_block`;
    /// returns whether it must switch away. A `deadline_ns` puts it in the
    /// deadline queue too.
    pub(crate) fn block_current(&mut self, deadline_ns: Option<u64>) -> bool {
        let current = self.current;
        let thread = self.current_thread();
        let woken = thread.wakeup == Wakeup::Woken;
        thread.wakeup = Wakeup::Idle;
        if woken {
            return false;
        }
        thread.run_state = RunState::Blocked;
        thread.timed_out = false;
        if let Some(deadline_ns) = deadline_ns {
            self.deadlines.insert(current, deadline_ns);
        }
        true
    }

    /// Wakes `id` if it is blocked or preparing to block; see
    /// [`crate::Scheduler::wake`].
    pub(crate) fn wake(&mut self, id: ThreadId) -> bool {
        let Some(index) = self.threads.index_of(id) else {
            return false;
        };
        let thread = self.threads.at_mut(index);
        match (thread.run_state, thread.wakeup) {
            (RunState::Blocked, _) => {
                thread.run_state = RunState::Ready;
                self.deadlines.remove(index);
                self.run_queue.push(index);
                true
            }
            (RunState::Running | RunState::Ready, Wakeup::Prepared) => {
                thread.wakeup = Wakeup::Woken;
                true
            }
            _ => false,
        }
    }

    /// Makes every thread whose deadline is at or before `now_ns` runnable,
    /// marked as timed out.
    pub(crate) fn expire(&mut self, now_ns: u64) {
        while let Some(index) = self.deadlines.pop_expired(now_ns) {
            let thread = self.threads.at_mut(index);
            debug_assert_eq!(
                thread.run_state,
                RunState::Blocked,
                "only blocked threads have deadlines"
            );
            thread.run_state = RunState::Ready;
            thread.timed_out = true;
            self.run_queue.push(index);
        }
    }

    /// Ends the running thread: its stack becomes `dead_stack`, a detached
    /// thread leaves the table. Returns the thread waiting to join it, or
    /// the thread's name if its canary is broken.
    pub(crate) fn retire_current(&mut self) -> Result<Option<ThreadId>, ThreadName> {
        let current = self.current;
        let thread = self.current_thread();
        if !thread.canary_intact() {
            return Err(thread.name);
        }
        thread.run_state = RunState::Exited;
        let (stack, joiner, joinable) = (thread.stack.take(), thread.joiner, thread.joinable);
        if joinable {
            self.counters.threads_unjoined += 1;
        } else {
            self.threads.remove(current);
        }
        self.counters.threads_alive -= 1;
        debug_assert!(
            self.dead_stack.is_none(),
            "the previous dead stack was freed"
        );
        self.dead_stack = stack;
        self.current_exited = true;
        Ok(joiner)
    }

    /// Takes the dead stack (if any) for the caller to free, counting it.
    pub(crate) fn take_dead_stack(&mut self) -> Option<Stack> {
        let stack = self.dead_stack.take()?;
        self.counters.stacks_freed += 1;
        self.counters.stack_bytes -= stack.size();
        Some(stack)
    }

    /// Whether the running thread is the boot thread, still alive.
    pub(crate) fn on_boot_thread(&self) -> bool {
        !self.current_exited && self.threads.at(self.current).id == self.boot
    }

    /// Forgets the stacks of threads that started and have not exited:
    /// their suspended frames may hold values others point to, so the
    /// memory is leaked rather than freed under them (scheduler drop).
    pub(crate) fn leak_suspended_stacks(&mut self) {
        let suspended =
            |thread: &Thread| thread.run_state != RunState::Exited && thread.entry.is_none();
        for thread in self.threads.iter_mut().filter(|thread| suspended(thread)) {
            core::mem::forget(thread.stack.take());
        }
    }

    pub(crate) fn stats(&self) -> SchedulerStats {
        let counters = &self.counters;
        SchedulerStats {
            context_switches: counters.context_switches,
            threads_alive: counters.threads_alive,
            threads_unjoined: counters.threads_unjoined,
            threads_spawned: counters.threads_spawned,
            threads_runnable: self.run_queue.len(),
            threads_sleeping: self.deadlines.len(),
            stacks_allocated: counters.stacks_allocated,
            stacks_freed: counters.stacks_freed,
            stack_bytes: counters.stack_bytes,
            idle_calls: counters.idle_calls,
        }
    }
}
