//! Entering the kernel: the [`Context`] token and bound threads.
//!
//! A [`Context`] proves that the current thread holds the kernel's virtual
//! CPU; every kernel operation takes one. It is neither `Send` nor `Sync`,
//! so it never leaves the thread that entered. Dropping it leaves the
//! kernel (releases the CPU).
//!
//! Threads enter in one of three ways:
//! - kernel threads ([`crate::Kernel::spawn`]) receive a context for their
//!   whole life;
//! - a thread that enters often binds itself once ([`crate::Kernel::bind_thread`])
//!   and enters through its [`ThreadBinding`] (the rump papers' *bound*
//!   thread);
//! - any other thread calls [`crate::Kernel::enter`] and gets an *implicit*
//!   lwp for that one entry, taken from a cache.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::marker::PhantomData;

use hypercall::{MemoryError, WaitResult};

use crate::cpu::VirtualCpu;
use crate::kernel::Kernel;
use crate::lwp::{Lwp, LwpId, slot_value};
use crate::process::Process;

/// Work the kernel runs later in one of its threads, with the CPU held
/// (callout and softint handlers).
pub(crate) type Handler = Box<dyn Fn(&Context<'_>) + Send + Sync>;

/// Proof that this thread runs on the kernel's virtual CPU.
pub struct Context<'a> {
    kernel: &'a Kernel,
    lwp: LwpRef<'a>,
    /// The thread slot to restore when leaving (implicit entries only).
    previous_slot: usize,
    _not_send: PhantomData<*const ()>,
}

enum LwpRef<'a> {
    Bound(&'a Arc<Lwp>),
    Implicit(Arc<Lwp>),
}

impl<'a> Context<'a> {
    /// Enters `kernel` as `lwp` (already in the thread slot), taking the CPU.
    pub(crate) fn enter_bound(kernel: &'a Kernel, lwp: &'a Arc<Lwp>) -> Self {
        assert_not_inside(kernel);
        kernel.cpu.schedule(lwp.id());
        Self {
            kernel,
            lwp: LwpRef::Bound(lwp),
            previous_slot: 0,
            _not_send: PhantomData,
        }
    }

    /// Enters `kernel` with an implicit lwp, taking the CPU.
    pub(crate) fn enter_implicit(kernel: &'a Kernel) -> Result<Self, MemoryError> {
        assert_not_inside(kernel);
        let hyper = kernel.hypercalls();
        let previous_slot = hyper.thread_slot();
        let lwp = kernel.implicit_lwp()?;
        hyper.set_thread_slot(slot_value(kernel.id().0, lwp.id()));
        kernel.cpu.schedule(lwp.id());
        Ok(Self {
            kernel,
            lwp: LwpRef::Implicit(lwp),
            previous_slot,
            _not_send: PhantomData,
        })
    }

    /// The kernel this context runs in.
    pub fn kernel(&self) -> &'a Kernel {
        self.kernel
    }

    /// The current kernel thread.
    pub fn lwp_id(&self) -> LwpId {
        self.lwp().id()
    }

    /// The process context this thread runs for: its descriptors.
    pub fn process(&self) -> &Arc<Process> {
        self.lwp().process()
    }

    pub(crate) fn lwp(&self) -> &Arc<Lwp> {
        match &self.lwp {
            LwpRef::Bound(lwp) => lwp,
            LwpRef::Implicit(lwp) => lwp,
        }
    }

    /// Whether this thread holds the CPU as this context's lwp. False only
    /// while this context's [`Context::block_on_host`] or park is in
    /// progress, when safe code can reach the context only by smuggling it
    /// (see `CpuCell`).
    pub(crate) fn holds_cpu(&self) -> bool {
        self.kernel.cpu.is_held_by(self.lwp_id())
    }

    /// Nanoseconds on the kernel's monotonic clock.
    pub fn now_ns(&self) -> u64 {
        self.kernel.hypercalls().clock_monotonic_ns()
    }

    /// The time of day: nanoseconds since 1970-01-01 00:00 UTC, as well as
    /// the host knows it. For what users see (an HTTP `Date`, a file's
    /// modification time), never for timers: it may jump.
    pub fn time_of_day_ns(&self) -> u64 {
        self.kernel.hypercalls().clock_wall_ns()
    }

    /// Runs a blocking host call with the virtual CPU released, so that
    /// other threads can run kernel code meanwhile.
    ///
    /// `f` is `Send`, which keeps it from capturing this context or any
    /// kernel guard: no kernel state is reachable while the CPU is away.
    ///
    /// If `f` unwinds (a hosted exit, a panic), the CPU is taken back first,
    /// so that this context is left as usual.
    pub fn block_on_host<R>(&self, f: impl FnOnce() -> R + Send) -> R {
        let lwp = self.lwp_id();
        self.kernel.cpu.unschedule(lwp);
        let _retake = Retake {
            cpu: &self.kernel.cpu,
            lwp,
        };
        f()
    }

    /// Sleeps until the monotonic clock reads `deadline_ns`.
    pub fn sleep_until(&self, deadline_ns: u64) {
        let hyper = self.kernel.hypercalls();
        self.block_on_host(|| hyper.clock_sleep_until(deadline_ns));
    }

    /// Lets other threads run before continuing.
    pub fn yield_now(&self) {
        let hyper = self.kernel.hypercalls();
        self.block_on_host(|| hyper.thread_yield());
    }

    /// Parks the current lwp until unparked or `deadline_ns`.
    pub(crate) fn park(&self, deadline_ns: Option<u64>) -> WaitResult {
        self.lwp().park(&self.kernel.cpu, deadline_ns)
    }
}

/// Takes the CPU back when dropped: after a blocking host call, also one
/// that unwinds.
struct Retake<'a> {
    cpu: &'a VirtualCpu,
    lwp: LwpId,
}

impl Drop for Retake<'_> {
    fn drop(&mut self) {
        self.cpu.schedule(self.lwp);
    }
}

/// Panics if the calling thread already holds `kernel`'s CPU (through any
/// lwp, also when another kernel was entered in between): taking it again
/// would deadlock.
fn assert_not_inside(kernel: &Kernel) {
    let me = kernel.hypercalls().thread_current();
    assert!(
        !kernel.cpu.is_held_by_thread(me),
        "kernel entered twice by one thread: use the Context it already has"
    );
}

impl Drop for Context<'_> {
    fn drop(&mut self) {
        self.kernel.cpu.unschedule(self.lwp_id());
        if let LwpRef::Implicit(lwp) = &self.lwp {
            self.kernel.hypercalls().set_thread_slot(self.previous_slot);
            self.kernel.recycle_implicit_lwp(lwp.clone());
        }
    }
}

/// A thread bound to a kernel lwp for as long as this value lives.
///
/// Entering through a binding ([`ThreadBinding::enter`]) costs only taking
/// the virtual CPU. Made by [`crate::Kernel::bind_thread`].
pub struct ThreadBinding {
    kernel: Arc<Kernel>,
    lwp: Arc<Lwp>,
    _not_send: PhantomData<*const ()>,
}

impl ThreadBinding {
    pub(crate) fn new(kernel: Arc<Kernel>, lwp: Arc<Lwp>) -> Self {
        let slot = slot_value(kernel.id().0, lwp.id());
        kernel.hypercalls().set_thread_slot(slot);
        Self {
            kernel,
            lwp,
            _not_send: PhantomData,
        }
    }

    /// Enters the kernel as this thread's lwp.
    ///
    /// # Panics
    /// If this thread is already inside the kernel.
    pub fn enter(&self) -> Context<'_> {
        Context::enter_bound(&self.kernel, &self.lwp)
    }

    /// The kernel this thread is bound to.
    pub fn kernel(&self) -> &Arc<Kernel> {
        &self.kernel
    }
}

impl Drop for ThreadBinding {
    fn drop(&mut self) {
        self.kernel.hypercalls().set_thread_slot(0);
    }
}

impl core::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context")
            .field("kernel", &self.kernel.id())
            .field("lwp", &self.lwp_id())
            .finish()
    }
}

impl core::fmt::Debug for ThreadBinding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ThreadBinding")
            .field("kernel", &self.kernel.id())
            .field("lwp", &self.lwp.id())
            .finish()
    }
}
