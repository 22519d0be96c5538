//! Callouts: functions that run at a time, from the kernel's clock thread.
//!
//! A [`Callout`] is armed with a deadline on the monotonic clock and runs
//! its handler once, under the virtual CPU, in the clock thread (NetBSD's
//! callout(9); TCP's timers are callouts). Re-arming a pending callout moves
//! it. The clock thread sleeps until the earliest deadline, so an idle
//! kernel takes no timer interrupts: the kernel is tickless.
//!
//! Pending callouts sit in a binary heap. Re-arming and stopping leave the
//! old heap entry behind, marked stale by a generation number, and the
//! heap is compacted when stale entries outnumber live ones; arming is
//! O(log n) and never scans.

use alloc::boxed::Box;
use alloc::collections::BinaryHeap;
use alloc::sync::Arc;
use core::cmp::Ordering;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::context::{Context, Handler};
use crate::cpu_cell::CpuCell;
use crate::kernel::Kernel;
use crate::sync::KernelBinding;
use crate::worker::Worker;

/// A timer whose handler runs in the clock thread.
///
/// A callout belongs to the kernel it is first armed in. Dropping an armed
/// callout does not disarm it (that needs the virtual CPU): the clock keeps
/// its handler and runs it at the deadline, so [`Callout::stop`] it first.
pub struct Callout {
    inner: Arc<CalloutInner>,
}

struct CalloutInner {
    handler: Handler,
    /// The kernel whose clock the callout is armed on.
    binding: KernelBinding,
    /// Bumped by every arm and stop; heap entries of older generations are
    /// stale. Written only under the virtual CPU.
    generation: AtomicU64,
    /// The armed deadline, or `IDLE`. Written only under the virtual CPU.
    deadline: AtomicU64,
}

const IDLE: u64 = u64::MAX;

impl Callout {
    /// A callout that is not armed.
    pub fn new(handler: impl Fn(&Context<'_>) + Send + Sync + 'static) -> Self {
        Self {
            inner: Arc::new(CalloutInner {
                handler: Box::new(handler),
                binding: KernelBinding::new(),
                generation: AtomicU64::new(0),
                deadline: AtomicU64::new(IDLE),
            }),
        }
    }

    /// Arms the callout for `deadline_ns`, replacing an earlier arming.
    ///
    /// # Panics
    /// If the callout was armed in another kernel before.
    pub fn schedule_at(&self, context: &Context<'_>, deadline_ns: u64) {
        self.inner.binding.check(context);
        let deadline_ns = deadline_ns.min(IDLE - 1);
        let clock = &context.kernel().clock;
        let generation = self.inner.generation.load(Relaxed) + 1;
        self.inner.generation.store(generation, Relaxed);
        let was_idle = self.inner.deadline.swap(deadline_ns, Relaxed) == IDLE;
        clock.push(context, deadline_ns, generation, &self.inner, was_idle);
    }

    /// Arms the callout `delay_ns` from now.
    pub fn schedule_after(&self, context: &Context<'_>, delay_ns: u64) {
        self.schedule_at(context, context.now_ns().saturating_add(delay_ns));
    }

    /// Disarms the callout; true if it was armed. A handler already running
    /// is not waited for.
    pub fn stop(&self, context: &Context<'_>) -> bool {
        self.inner.binding.check(context);
        if self.inner.deadline.load(Relaxed) == IDLE {
            return false;
        }
        self.inner.deadline.store(IDLE, Relaxed);
        let generation = self.inner.generation.load(Relaxed) + 1;
        self.inner.generation.store(generation, Relaxed);
        context.kernel().clock.forget_one(context);
        true
    }

    /// Whether the callout is armed.
    pub fn is_pending(&self) -> bool {
        self.inner.deadline.load(Relaxed) != IDLE
    }

    /// The armed deadline.
    pub fn deadline(&self) -> Option<u64> {
        Some(self.inner.deadline.load(Relaxed)).filter(|&d| d != IDLE)
    }
}

impl core::fmt::Debug for Callout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Callout")
            .field("deadline", &self.deadline())
            .finish()
    }
}

/// One arming of a callout in the heap.
struct Entry {
    deadline: u64,
    generation: u64,
    callout: Arc<CalloutInner>,
}

impl Entry {
    fn is_current(&self) -> bool {
        self.callout.generation.load(Relaxed) == self.generation
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that the max-heap pops the earliest deadline.
    fn cmp(&self, other: &Self) -> Ordering {
        other.deadline.cmp(&self.deadline)
    }
}

struct Queue {
    heap: BinaryHeap<Entry>,
    /// Armed callouts (current entries in the heap).
    live: usize,
}

/// The clock: pending callouts and the thread that runs them.
pub(crate) struct Clock {
    queue: CpuCell<Queue>,
    worker: Worker,
    /// The deadline the clock thread sleeps until (`IDLE`: no deadline).
    sleeping_until: AtomicU64,
    fired: AtomicU64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self {
            queue: CpuCell::new(Queue {
                heap: BinaryHeap::new(),
                live: 0,
            }),
            worker: Worker::new(),
            sleeping_until: AtomicU64::new(IDLE),
            fired: AtomicU64::new(0),
        }
    }

    fn push(
        &self,
        context: &Context<'_>,
        deadline: u64,
        generation: u64,
        callout: &Arc<CalloutInner>,
        was_idle: bool,
    ) {
        self.queue.with(context, |queue| {
            queue.live += usize::from(was_idle);
            queue.heap.push(Entry {
                deadline,
                generation,
                callout: callout.clone(),
            });
            if queue.heap.len() > 2 * queue.live + 64 {
                queue.heap.retain(Entry::is_current);
            }
        });
        if deadline < self.sleeping_until.load(Relaxed) {
            self.worker.wake(context);
        }
    }

    fn forget_one(&self, context: &Context<'_>) {
        self.queue.with(context, |queue| queue.live -= 1);
    }

    /// Removes the earliest due callout, marking it idle.
    fn pop_due(&self, context: &Context<'_>, now: u64) -> Option<Arc<CalloutInner>> {
        self.queue.with(context, |queue| {
            while let Some(entry) = queue.heap.peek() {
                if !entry.is_current() {
                    queue.heap.pop();
                    continue;
                }
                if entry.deadline > now {
                    return None;
                }
                let entry = queue.heap.pop().expect("peeked");
                queue.live -= 1;
                entry.callout.deadline.store(IDLE, Relaxed);
                return Some(entry.callout);
            }
            None
        })
    }

    fn next_deadline(&self, context: &Context<'_>) -> Option<u64> {
        self.queue.with(context, |queue| {
            while queue.heap.peek().is_some_and(|e| !e.is_current()) {
                queue.heap.pop();
            }
            queue.heap.peek().map(|e| e.deadline)
        })
    }

    /// Callouts run since boot.
    pub(crate) fn fired(&self) -> u64 {
        self.fired.load(Relaxed)
    }

    pub(crate) fn worker(&self) -> &Worker {
        &self.worker
    }

    /// The clock thread's body: run what is due, sleep until the next.
    pub(crate) fn run(kernel: &Kernel, context: &Context<'_>) {
        let clock = &kernel.clock;
        clock.worker.register(context);
        while !kernel.is_shutting_down() {
            while let Some(callout) = clock.pop_due(context, context.now_ns()) {
                clock.fired.store(clock.fired.load(Relaxed) + 1, Relaxed);
                (callout.handler)(context);
            }
            let next = clock.next_deadline(context);
            clock.sleeping_until.store(next.unwrap_or(IDLE), Relaxed);
            context.park(next);
            clock.sleeping_until.store(0, Relaxed);
        }
    }
}
