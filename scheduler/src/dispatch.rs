//! The scheduling decision and the switch: pick the next thread, go there.
//!
//! Borrowing rule: the state lives in a `RefCell` and is borrowed only for
//! the length of one transition. No borrow is held across a call of the
//! platform (which may call back into the scheduler), a context switch, a
//! thread's entry, or the drop of anything user-supplied.

use core::cell::RefCell;

use crate::{
    Platform,
    state::State,
    switch,
    thread::{RunState, ThreadName},
};

/// The scheduler proper. It lives at a fixed heap address for its whole
/// life, because every spawned thread's first frame holds that address.
pub(crate) struct Inner<P: Platform> {
    pub(crate) platform: P,
    state: RefCell<State>,
}

/// What to do after the running thread has left the `Running` state.
enum Switch {
    /// The next thread is the running one: carry on.
    Stay,
    /// Store the stack pointer at `save`, load `load`.
    To { save: *mut usize, load: usize },
}

impl<P: Platform> Inner<P> {
    pub(crate) fn new(platform: P, max_threads: usize) -> Self {
        Self {
            platform,
            state: RefCell::new(State::new(max_threads)),
        }
    }

    /// Runs one transition on the state.
    pub(crate) fn with_state<R>(&self, transition: impl FnOnce(&mut State) -> R) -> R {
        transition(&mut self.state.borrow_mut())
    }

    /// Called after the running thread became `Ready` (queued), `Blocked`
    /// or `Exited`: runs other threads until this one is chosen again.
    /// Never returns for an exited thread.
    pub(crate) fn reschedule(&self) {
        let next = self.pick_next();
        let plan = self.with_state(|state| plan_switch(state, next));
        match plan {
            Ok(Switch::Stay) => {}
            Ok(Switch::To { save, load }) => {
                // SAFETY: `save` points into the state, which nothing moves
                // or touches before the switch's first store through it;
                // `load` is the saved or initial stack pointer of a
                // thread that is not running and whose stack is allocated
                // (stacks are freed only after their thread exited, and an
                // exited thread is never chosen).
                unsafe { switch::switch(save, load) };
                self.after_switch();
            }
            Err(name) => stack_overflow(name),
        }
    }

    /// Picks the next thread to run, idling while there is none. Polls
    /// external wakeups and expires deadlines first, every time.
    fn pick_next(&self) -> u32 {
        loop {
            self.platform.poll_wakeups(&mut |thread| {
                self.with_state(|state| state.wake(thread));
            });
            if !self.with_state(|state| state.deadlines.is_empty()) {
                let now_ns = self.platform.now_ns();
                self.with_state(|state| state.expire(now_ns));
            }
            let (next, deadline_ns) = self.with_state(|state| {
                let next = state.run_queue.pop();
                state.counters.idle_calls += u64::from(next.is_none());
                (next, state.deadlines.next_deadline())
            });
            match next {
                Some(next) => return next,
                None => self.platform.idle(deadline_ns),
            }
        }
    }

    /// First thing on a stack after a switch lands on it: free the stack of
    /// the thread that exited before the switch, now that nobody runs on it.
    pub(crate) fn after_switch(&self) {
        let dead_stack = self.with_state(State::take_dead_stack);
        drop(dead_stack);
    }
}

/// Makes `next` the running thread and says how to get there. Checks the
/// canaries of both threads first; Err names the thread whose canary broke.
fn plan_switch(state: &mut State, next: u32) -> Result<Switch, ThreadName> {
    let previous = state.current;
    if previous == next && !state.current_exited {
        state.current_thread().run_state = RunState::Running;
        return Ok(Switch::Stay);
    }
    if !state.current_exited && !state.current_thread().canary_intact() {
        return Err(state.current_thread().name);
    }
    let incoming = state.threads.at_mut(next);
    if !incoming.canary_intact() {
        return Err(incoming.name);
    }
    incoming.run_state = RunState::Running;
    let load = incoming.saved_stack_pointer;
    let save = if state.current_exited {
        &raw mut state.discarded_stack_pointer
    } else {
        &raw mut state.threads.at_mut(previous).saved_stack_pointer
    };
    state.current = next;
    state.current_exited = false;
    state.counters.context_switches += 1;
    Ok(Switch::To { save, load })
}

/// Where a spawned thread starts (through the trampoline of `switch`):
/// runs its entry, then exits it. `extern "C"`, so a panic in the entry
/// aborts instead of unwinding into the assembly frame.
pub(crate) extern "C" fn thread_start<P: Platform>(inner: *const Inner<P>) -> ! {
    // SAFETY: `spawn` passed the address of this scheduler's `Inner`, which
    // is freed only by `Scheduler::drop` on the boot thread; after that no
    // thread of the scheduler is ever switched to, so it is live here.
    let inner = unsafe { &*inner };
    inner.after_switch();
    let entry = inner.with_state(|state| state.current_thread().entry.take());
    entry.expect("a thread that has not started still has its entry")();
    inner.exit()
}

/// Reports a broken stack canary.
pub(crate) fn stack_overflow(name: ThreadName) -> ! {
    panic!("stack overflow in thread '{name}'")
}
