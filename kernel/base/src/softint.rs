//! Soft interrupts: deferred work run by a per-level kernel thread.
//!
//! A driver's interrupt handler schedules a softint for the work that need
//! not run at once (network input, clock processing). Softints of one level
//! run one at a time, in the order scheduled, in that level's thread, and
//! only after the code that scheduled them gives up the virtual CPU: the
//! properties the rump papers require (their §3.3.2). Scheduling a softint
//! that is already pending does nothing, so a burst of interrupts costs one
//! run.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use hypercall::ThreadError;

use crate::context::{Context, Handler};
use crate::cpu_cell::CpuCell;
use crate::kernel::{Kernel, KernelId};
use crate::worker::Worker;

/// Softint priority classes, after NetBSD's `SOFTINT_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftintLevel {
    /// Clock-driven work.
    Clock = 0,
    /// Block I/O completion.
    Bio = 1,
    /// Network protocol input.
    Net = 2,
    /// Serial and other character devices.
    Serial = 3,
}

const LEVELS: usize = 4;

impl SoftintLevel {
    fn name(self) -> &'static str {
        match self {
            Self::Clock => "softclk",
            Self::Bio => "softbio",
            Self::Net => "softnet",
            Self::Serial => "softser",
        }
    }
}

/// An established soft interrupt.
#[derive(Clone)]
pub struct Softint {
    inner: Arc<SoftintInner>,
}

struct SoftintInner {
    /// The kernel whose level thread runs it.
    kernel: KernelId,
    level: SoftintLevel,
    /// Queued and not yet run. Written only under the virtual CPU.
    pending: AtomicBool,
    runs: AtomicU64,
    handler: Handler,
}

impl Softint {
    /// Queues the softint to run after the current code leaves the CPU.
    ///
    /// # Panics
    /// If `context` is of another kernel than the one it was established in.
    pub fn schedule(&self, context: &Context<'_>) {
        let kernel = context.kernel().id();
        assert_eq!(kernel, self.inner.kernel, "softint of another kernel");
        if self.inner.pending.load(Relaxed) {
            return;
        }
        self.inner.pending.store(true, Relaxed);
        let level = &context.kernel().softints.levels[self.inner.level as usize];
        let inner = self.inner.clone();
        level.queue.with(context, |queue| queue.push_back(inner));
        level.worker.wake(context);
    }

    /// How many times the handler has run.
    pub fn runs(&self) -> u64 {
        self.inner.runs.load(Relaxed)
    }
}

impl core::fmt::Debug for Softint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Softint")
            .field("level", &self.inner.level)
            .field("runs", &self.runs())
            .finish()
    }
}

struct Level {
    queue: CpuCell<VecDeque<Arc<SoftintInner>>>,
    worker: Worker,
    /// Whether the level's thread was started. Under the virtual CPU.
    started: AtomicBool,
}

/// The kernel's softint levels.
pub(crate) struct Softints {
    levels: [Level; LEVELS],
}

impl Softints {
    pub(crate) fn new() -> Self {
        Self {
            levels: [const {
                Level {
                    queue: CpuCell::new(VecDeque::new()),
                    worker: Worker::new(),
                    started: AtomicBool::new(false),
                }
            }; LEVELS],
        }
    }

    /// Wakes every level's thread (at shutdown).
    pub(crate) fn wake_all(&self, context: &Context<'_>) {
        for level in &self.levels {
            level.worker.wake(context);
        }
    }

    fn run(kernel: &Kernel, level: SoftintLevel, context: &Context<'_>) {
        let level = &kernel.softints.levels[level as usize];
        level.worker.register(context);
        while !kernel.is_shutting_down() {
            while let Some(softint) = level.queue.with(context, VecDeque::pop_front) {
                softint.pending.store(false, Relaxed);
                softint.runs.store(softint.runs.load(Relaxed) + 1, Relaxed);
                (softint.handler)(context);
            }
            context.park(None);
        }
    }
}

impl Kernel {
    /// Establishes a softint at `level`, starting the level's thread on
    /// first use.
    ///
    /// # Errors
    /// When the level's thread cannot be created.
    pub fn softint_establish(
        self: &Arc<Self>,
        context: &Context<'_>,
        level: SoftintLevel,
        handler: impl Fn(&Context<'_>) + Send + Sync + 'static,
    ) -> Result<Softint, ThreadError> {
        debug_assert!(context.holds_cpu(), "`started` is guarded by the CPU");
        let state = &self.softints.levels[level as usize];
        if !state.started.load(Relaxed) {
            let kernel = self.clone();
            let thread = self.spawn(level.name(), move |context| {
                Softints::run(&kernel, level, context);
            })?;
            self.add_system_thread(thread);
            state.started.store(true, Relaxed);
        }
        Ok(Softint {
            inner: Arc::new(SoftintInner {
                kernel: self.id(),
                level,
                pending: AtomicBool::new(false),
                runs: AtomicU64::new(0),
                handler: Box::new(handler),
            }),
        })
    }
}
