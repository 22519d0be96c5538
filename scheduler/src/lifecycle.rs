//! Thread lifecycle: spawn, exit, join.

use crate::{
    JoinError, Platform, SpawnError, SpawnSpec, ThreadId,
    dispatch::{Inner, stack_overflow, thread_start},
    stack::Stack,
    switch,
    thread::{Entry, RunState, Thread, Wakeup},
};

impl<P: Platform> Inner<P> {
    /// See [`crate::Scheduler::spawn`].
    pub(crate) fn spawn(&self, spec: SpawnSpec<'_>, entry: Entry) -> Result<ThreadId, SpawnError> {
        let stack = Stack::allocate(spec.stack_size).ok_or(SpawnError::OutOfMemory)?;
        let start = thread_start::<P> as extern "C" fn(*const Self) -> ! as usize;
        let argument = core::ptr::from_ref(self).addr();
        // SAFETY: the stack is fresh, 16-byte aligned and at least the
        // minimum size; `thread_start::<P>` is an `extern "C"` function of
        // one pointer argument that never returns.
        let stack_pointer = unsafe { switch::initial_frame(stack.top(), start, argument) };
        let mut thread = Thread::new(spec.name, spec.joinable, stack, entry);
        thread.saved_stack_pointer = stack_pointer;
        let admitted = self.with_state(|state| state.admit(thread));
        // On failure the thread (its stack and entry) is dropped here,
        // outside the borrow.
        admitted.map_err(|(error, _thread)| error)
    }

    /// See [`crate::Scheduler::exit`].
    pub(crate) fn exit(&self) -> ! {
        match self.with_state(|state| state.retire_current()) {
            Err(name) => stack_overflow(name),
            Ok(Some(joiner)) => {
                self.with_state(|state| state.wake(joiner));
            }
            Ok(None) => {}
        }
        self.reschedule();
        unreachable!("an exited thread is never switched back to")
    }

    /// See [`crate::Scheduler::join`].
    pub(crate) fn join(&self, thread: ThreadId) -> Result<(), JoinError> {
        self.with_state(|state| {
            let me = state.current_thread().id;
            if thread == me {
                return Err(JoinError::JoinSelf);
            }
            let target = state
                .threads
                .get_mut(thread)
                .ok_or(JoinError::NotJoinable)?;
            if !target.joinable || target.joiner.is_some() {
                return Err(JoinError::NotJoinable);
            }
            target.joiner = Some(me);
            Ok(())
        })?;
        loop {
            self.prepare_block();
            if self.has_exited(thread) {
                break;
            }
            self.block(None);
        }
        self.reap(thread);
        Ok(())
    }

    fn has_exited(&self, thread: ThreadId) -> bool {
        self.with_state(|state| {
            let target = state.threads.get_mut(thread);
            target
                .expect("a thread being joined stays in the table")
                .run_state
                == RunState::Exited
        })
    }

    /// Removes the joined, exited `thread` from the table and cancels the
    /// joiner's prepared block.
    fn reap(&self, thread: ThreadId) {
        let reaped = self.with_state(|state| {
            state.current_thread().wakeup = Wakeup::Idle;
            let index = state
                .threads
                .index_of(thread)
                .expect("a joined thread stays until reaped");
            state.counters.threads_unjoined -= 1;
            state.threads.remove(index)
        });
        drop(reaped);
    }
}
