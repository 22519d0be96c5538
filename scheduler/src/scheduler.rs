//! The public scheduler handle: creation, the thread API, and drop.
//!
//! The handle owns a heap-allocated `Inner` through a raw pointer rather
//! than a `Box`, because every spawned thread keeps that address in its
//! first frame; the handle itself can move freely. The raw pointer also
//! makes the handle neither `Send` nor `Sync`, which is what we want.

use alloc::boxed::Box;
use core::{fmt, marker::PhantomData, ptr::NonNull};

use crate::{
    JoinError, MAX_THREADS, Platform, SchedulerStats, SpawnError, SpawnSpec, ThreadId, ThreadName,
    WakeReason, dispatch::Inner,
};

/// A cooperative scheduler for one CPU. See the crate documentation.
///
/// Every method must be called from a thread of this scheduler: the
/// context that created it ("boot") or one it spawned. None may be called
/// from an interrupt handler.
pub struct Scheduler<P: Platform> {
    inner: NonNull<Inner<P>>,
    _owns: PhantomData<Inner<P>>,
}

impl<P: Platform> Scheduler<P> {
    /// Creates a scheduler and adopts the calling context (its stack, which
    /// the scheduler never frees) as the first thread, named "boot".
    /// Several schedulers may exist at once, e.g. one per host test.
    pub fn new(platform: P) -> Self {
        Self::with_max_threads(platform, MAX_THREADS)
    }

    /// Like [`Scheduler::new`], with at most `max_threads` threads at a
    /// time (boot and unjoined ones included; capped at [`MAX_THREADS`]).
    pub fn with_max_threads(platform: P, max_threads: usize) -> Self {
        let inner = Box::new(Inner::new(platform, max_threads));
        Self {
            inner: NonNull::from(Box::leak(inner)),
            _owns: PhantomData,
        }
    }

    fn inner(&self) -> &Inner<P> {
        // SAFETY: `inner` came from `Box::leak` in `with_max_threads` and is
        // freed only in `drop`, so it is live for as long as `self`.
        unsafe { self.inner.as_ref() }
    }

    /// Creates a thread running `entry` and queues it at the back of the
    /// run queue; it starts when the caller yields or blocks. When `entry`
    /// returns the thread exits. Never switches threads.
    ///
    /// # Errors
    /// [`SpawnError::OutOfMemory`] when the stack (of `spec.stack_size`
    /// bytes) or bookkeeping cannot be allocated, [`SpawnError::TooManyThreads`]
    /// at the thread limit. `entry` is then dropped unrun.
    pub fn spawn(
        &self,
        spec: SpawnSpec<'_>,
        entry: Box<dyn FnOnce() + Send + 'static>,
    ) -> Result<ThreadId, SpawnError> {
        self.inner().spawn(spec, entry)
    }

    /// The running thread.
    pub fn current(&self) -> ThreadId {
        self.inner().with_state(|state| state.current_thread().id)
    }

    /// Lets every other runnable thread run once before the caller goes on.
    /// Returns at once (no switch) when no other thread is runnable.
    pub fn yield_now(&self) {
        self.inner().yield_now();
    }

    /// Ends the running thread; also what happens when its entry returns.
    /// Destructors of values still on its stack do not run, and the stack
    /// is freed right after the switch away: call it with nothing left to
    /// drop (and nothing pinned on the stack that others point to).
    pub fn exit(&self) -> ! {
        self.inner().exit()
    }

    /// Waits until the joinable `thread` has exited, then forgets it.
    ///
    /// # Errors
    /// [`JoinError::JoinSelf`] for the caller itself,
    /// [`JoinError::NotJoinable`] for an unknown, detached or already
    /// joined thread, or one another thread is joining.
    pub fn join(&self, thread: ThreadId) -> Result<(), JoinError> {
        self.inner().join(thread)
    }

    /// First phase of blocking: from now on, a [`Scheduler::wake`] of the
    /// caller makes its next [`Scheduler::block`] or
    /// [`Scheduler::block_until`] return at once. Call it, then check the
    /// condition to wait for, then block.
    pub fn prepare_block(&self) {
        self.inner().prepare_block();
    }

    /// Second phase: waits for a wake, unless one came since
    /// [`Scheduler::prepare_block`] (without it, behaves as if it had just
    /// been called). Wakes may be spurious: re-check the condition.
    pub fn block(&self) {
        self.inner().block(None);
    }

    /// Like [`Scheduler::block`], but also ends at `deadline_ns` on the
    /// platform's clock. A deadline already past still passes through the
    /// scheduler once (like a yield) and reports [`WakeReason::TimedOut`].
    pub fn block_until(&self, deadline_ns: u64) -> WakeReason {
        self.inner().block(Some(deadline_ns))
    }

    /// Wakes `thread` if it is blocked, or marks it woken if it prepared to
    /// block; true if this call did either. False for an unknown, running
    /// (unprepared), runnable or exited thread. Call from thread context
    /// only; never switches threads.
    pub fn wake(&self, thread: ThreadId) -> bool {
        self.inner().wake(thread)
    }

    /// Blocks until the platform's clock reads at least `deadline_ns`;
    /// returns at once if it already does. Wakes do not shorten it. Uses
    /// the two-phase protocol itself, so do not call it between
    /// `prepare_block` and `block`.
    pub fn sleep_until(&self, deadline_ns: u64) {
        self.inner().sleep_until(deadline_ns);
    }

    /// The running thread's word (0 in a new thread).
    pub fn slot(&self) -> usize {
        self.inner().with_state(|state| state.current_thread().slot)
    }

    /// Sets the running thread's word.
    pub fn set_slot(&self, value: usize) {
        self.inner()
            .with_state(|state| state.current_thread().slot = value);
    }

    /// The name of `thread`, if the scheduler knows it (not after a
    /// detached thread exited or a joinable one was joined).
    pub fn thread_name(&self, thread: ThreadId) -> Option<ThreadName> {
        self.inner()
            .with_state(|state| Some(state.threads.get_mut(thread)?.name))
    }

    /// Counters for diagnostics and measurements.
    pub fn stats(&self) -> SchedulerStats {
        self.inner().with_state(|state| state.stats())
    }

    /// The platform the scheduler was created with.
    pub fn platform(&self) -> &P {
        &self.inner().platform
    }

    /// Overwrites the stack canary of `thread`, as an overflow would.
    #[cfg(test)]
    pub(crate) fn clobber_canary(&self, thread: ThreadId) {
        self.inner().with_state(|state| {
            let target = state
                .threads
                .get_mut(thread)
                .expect("the test names a live thread");
            target
                .stack
                .as_ref()
                .expect("a spawned thread has a stack")
                .clobber_canary();
        });
    }
}

impl<P: Platform> Drop for Scheduler<P> {
    /// On the boot thread, frees the scheduler: the stacks of threads that
    /// never started or have exited, and all bookkeeping. Stacks of started
    /// threads that have not exited are leaked, never freed under their
    /// suspended frames. Anywhere else (the boot thread has exited or a
    /// spawned thread drops the handle) everything is leaked, because the
    /// running stack belongs to the scheduler.
    fn drop(&mut self) {
        let on_boot_thread = self.inner().with_state(|state| state.on_boot_thread());
        if !on_boot_thread {
            return;
        }
        self.inner()
            .with_state(|state| state.leak_suspended_stacks());
        // SAFETY: `inner` came from `Box::leak` and is freed only here. We
        // run on the boot thread, whose stack the scheduler does not own,
        // and no thread of this scheduler can be switched to any more.
        drop(unsafe { Box::from_raw(self.inner.as_ptr()) });
    }
}

impl<P: Platform> fmt::Debug for Scheduler<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("current", &self.current())
            .field("stats", &self.stats())
            .finish()
    }
}
