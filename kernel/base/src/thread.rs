//! Kernel threads: host threads bound to a kernel lwp for their whole life.
//!
//! [`crate::Kernel::spawn`] asks the host for a thread whose entry is a
//! *bouncer*: it binds the new host thread to a fresh lwp, enters the
//! kernel and runs the caller's function with the context (the rump papers'
//! kthread_create). The lwp is made by the spawning thread, so running out
//! of memory is reported to it rather than lost in the new thread. Each
//! thread's stack is charged to the `threads` account from its creation to
//! the end of its body.

use alloc::boxed::Box;
use alloc::sync::Arc;

use hypercall::{ThreadError, ThreadId, ThreadSpec};

use crate::context::{Context, ThreadBinding};
use crate::kernel::Kernel;
use crate::lwp::{Lwp, LwpId};
use crate::memory::Account;

/// Default stack for kernel threads: enough for protocol processing.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;

/// What one kernel thread is charged: its stack, plus about a kilobyte for
/// its lwp, its binding and the host's record of the thread.
pub const THREAD_BYTES: usize = DEFAULT_STACK_SIZE + 1024;

/// A thread's charge, given back when the thread's body ends (or when a
/// thread that could not be created drops its body).
struct ThreadCharge(Account);

impl Drop for ThreadCharge {
    fn drop(&mut self) {
        self.0.release(THREAD_BYTES);
    }
}

/// A joinable kernel thread.
#[must_use = "a joinable thread must be joined"]
#[derive(Debug)]
pub struct JoinHandle {
    thread: ThreadId,
    lwp: LwpId,
}

impl JoinHandle {
    /// The thread's lwp.
    pub fn lwp_id(&self) -> LwpId {
        self.lwp
    }

    /// Waits for the thread to end, with the virtual CPU released.
    ///
    /// # Errors
    /// [`ThreadError::JoinSelf`] when a thread joins itself.
    pub fn join(self, context: &Context<'_>) -> Result<(), ThreadError> {
        let hyper = context.kernel().hypercalls();
        let thread = self.thread;
        context.block_on_host(move || hyper.thread_join(thread))
    }

    /// Waits for the thread to end from outside the kernel.
    pub(crate) fn join_outside(self, kernel: &Kernel) -> Result<(), ThreadError> {
        kernel.hypercalls().thread_join(self.thread)
    }
}

/// What a kernel thread runs.
pub type KernelThreadBody = Box<dyn FnOnce(&Context<'_>) + Send + 'static>;

impl Kernel {
    /// Starts a joinable kernel thread running `body` with its context.
    ///
    /// # Errors
    /// [`ThreadError::OutOfMemory`] or [`ThreadError::TooManyThreads`].
    pub fn spawn(
        self: &Arc<Self>,
        name: &str,
        body: impl FnOnce(&Context<'_>) + Send + 'static,
    ) -> Result<JoinHandle, ThreadError> {
        let (thread, lwp) = self.spawn_thread(name, true, Box::new(body))?;
        Ok(JoinHandle { thread, lwp })
    }

    /// Starts a kernel thread that nobody joins; the host reaps it.
    ///
    /// # Errors
    /// As [`Kernel::spawn`].
    pub fn spawn_detached(
        self: &Arc<Self>,
        name: &str,
        body: impl FnOnce(&Context<'_>) + Send + 'static,
    ) -> Result<LwpId, ThreadError> {
        self.spawn_thread(name, false, Box::new(body))
            .map(|(_, lwp)| lwp)
    }

    fn spawn_thread(
        self: &Arc<Self>,
        name: &str,
        joinable: bool,
        body: KernelThreadBody,
    ) -> Result<(ThreadId, LwpId), ThreadError> {
        let account = self.memory().account("threads");
        account
            .charge(THREAD_BYTES)
            .map_err(|_| ThreadError::OutOfMemory)?;
        let charge = ThreadCharge(account);
        let lwp = Lwp::create(self.hypercalls()).map_err(|_| ThreadError::OutOfMemory)?;
        let lwp = Arc::new(lwp);
        let lwp_id = lwp.id();
        let kernel = self.clone();
        let bouncer = Box::new(move || {
            let _charge = charge;
            let binding = ThreadBinding::new(kernel, lwp);
            let context = binding.enter();
            body(&context);
        });
        let spec = ThreadSpec {
            name,
            stack_size: DEFAULT_STACK_SIZE,
            joinable,
        };
        let thread = self.hypercalls().thread_create(spec, bouncer)?;
        Ok((thread, lwp_id))
    }
}
