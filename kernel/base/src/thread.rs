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

/// Bytes a kernel thread is charged besides its stack: about a kilobyte
/// for its lwp, its binding and the host's record of the thread.
pub const THREAD_OVERHEAD: usize = 1024;

/// What a thread with the default stack is charged.
pub const THREAD_BYTES: usize = DEFAULT_STACK_SIZE + THREAD_OVERHEAD;

/// A thread's charge, given back when the thread's body ends (or when a
/// thread that could not be created drops its body).
struct ThreadCharge(Account, usize);

impl Drop for ThreadCharge {
    fn drop(&mut self) {
        self.0.release(self.1);
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
        let spec = ThreadSpec {
            name,
            stack_size: DEFAULT_STACK_SIZE,
            joinable: true,
        };
        let (thread, lwp) = self.spawn_thread(spec, Box::new(body))?;
        Ok(JoinHandle { thread, lwp })
    }

    /// [`Kernel::spawn`] with a stack of `stack_size` bytes, for a thread
    /// whose work is known to be shallow.
    ///
    /// # Errors
    /// As [`Kernel::spawn`].
    pub fn spawn_with_stack(
        self: &Arc<Self>,
        name: &str,
        stack_size: usize,
        body: impl FnOnce(&Context<'_>) + Send + 'static,
    ) -> Result<JoinHandle, ThreadError> {
        let spec = ThreadSpec {
            name,
            stack_size,
            joinable: true,
        };
        let (thread, lwp) = self.spawn_thread(spec, Box::new(body))?;
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
        let spec = ThreadSpec {
            name,
            stack_size: DEFAULT_STACK_SIZE,
            joinable: false,
        };
        self.spawn_thread(spec, Box::new(body)).map(|(_, lwp)| lwp)
    }

    fn spawn_thread(
        self: &Arc<Self>,
        spec: ThreadSpec<'_>,
        body: KernelThreadBody,
    ) -> Result<(ThreadId, LwpId), ThreadError> {
        let account = self.memory().account("threads");
        let bytes = spec.stack_size + THREAD_OVERHEAD;
        account
            .charge(bytes)
            .map_err(|_| ThreadError::OutOfMemory)?;
        let charge = ThreadCharge(account, bytes);
        let process = self.kernel_process().clone();
        let lwp = Lwp::create(self.hypercalls(), process).map_err(|_| ThreadError::OutOfMemory)?;
        let lwp = Arc::new(lwp);
        let lwp_id = lwp.id();
        let kernel = self.clone();
        let bouncer = Box::new(move || {
            let _charge = charge;
            let binding = ThreadBinding::new(kernel, lwp);
            let context = binding.enter();
            body(&context);
        });
        let thread = self.hypercalls().thread_create(spec, bouncer)?;
        Ok((thread, lwp_id))
    }
}
