//! The pagedaemon: the kernel thread that gives memory back under pressure.
//!
//! Its policy (the rump papers' §3.4.3, NetBSD's `uvm_pageout`):
//!
//! - **When it runs.** It sleeps until woken, so a kernel with room costs
//!   nothing. Three things wake it: an allocation that takes the kernel's
//!   use from below the *high-water mark* (90 % of the limit) to or above
//!   it, an allocation that is refused, and a caller in
//!   [`Memory::wait_for_reclaim`]. While use stays at or above the
//!   high-water mark after a pass, it looks again every [`RECHECK_NS`]
//!   (connections go idle, caches age); once below, it sleeps until woken.
//! - **What it takes, cheapest first** (the papers: "in stages, from the
//!   ones most likely to bring benefit to the least likely"), stopping as
//!   soon as use is below the *low-water mark* (80 %):
//!   1. pools return wholly free chunks: nothing has to be rebuilt;
//!   2. reclaimers at [`ReclaimLevel::Idle`]: caches shrink (ARP's held
//!      packets and stale entries, reassembly's oldest datagrams) and TCP
//!      gives back the buffers of connections idle for a while; then the
//!      pools again, for the blocks those freed;
//!   3. reclaimers at [`ReclaimLevel::Urgent`]: every connection with empty
//!      buffers gives them back, however recently it was used; pools again.
//!
//!   A pass asked for by a refused allocation or a waiter runs every stage
//!   whatever the marks say: someone needs memory now.
//! - **It never sleeps on a lock** inside a pass: reclaimers try their
//!   locks and skip a busy subsystem, so a caller that waits for the
//!   pagedaemon while holding a lock cannot deadlock it.
//! - **After each pass** it wakes the callers waiting for one; each
//!   retries its allocation once and fails cleanly if there is still no
//!   room.
//!
//! The thread is started by the [`PAGEDAEMON`] component (init level
//! `Kern`), or by [`start`] from the boot sequence.

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use core::sync::atomic::Ordering::Relaxed;

use super::{Memory, ReclaimLevel};
use crate::component::{Component, ComponentError, InitLevel};
use crate::context::Context;
use crate::kernel::Kernel;

/// How often the pagedaemon looks again while use stays above the
/// high-water mark.
pub const RECHECK_NS: u64 = 1_000_000_000;

/// The pagedaemon's stack: a pass is shallow (reclaimers walk their
/// tables and free), and a small kernel cannot spare the default 64 KiB.
pub const STACK_SIZE: usize = 16 * 1024;

/// The component that starts the pagedaemon.
pub static PAGEDAEMON: Component = Component {
    name: "pagedaemon",
    level: InitLevel::Kern,
    requires: &[],
    init: start,
};

/// Starts the pagedaemon thread of `context`'s kernel (a system thread:
/// shutdown wakes and joins it).
///
/// # Errors
/// [`ComponentError::NoThread`] when the thread cannot be created.
pub fn start(context: &Context<'_>) -> Result<(), ComponentError> {
    let kernel = context.kernel().arc();
    if !kernel.memory().pressure.start() {
        return Err(ComponentError::Failed("a pagedaemon runs already"));
    }
    let daemon_kernel = kernel.clone();
    let thread = kernel
        .spawn_with_stack("pagedaemon", STACK_SIZE, move |context| {
            run(&daemon_kernel, context);
        })
        .map_err(|_| ComponentError::NoThread)?;
    kernel.add_system_thread(thread);
    let weak = Arc::downgrade(&kernel);
    kernel.on_shutdown(Box::new(move || wake_for_shutdown(&weak)));
    Ok(())
}

/// The shutdown hook: the thread sees the kernel's flag once woken.
fn wake_for_shutdown(kernel: &Weak<Kernel>) {
    let Some(kernel) = kernel.upgrade() else {
        return;
    };
    if let Ok(_context) = kernel.enter() {
        kernel.memory().pressure.wake();
    }
}

/// The thread's body.
fn run(kernel: &Arc<Kernel>, context: &Context<'_>) {
    let memory = kernel.memory();
    memory.pressure.attach(kernel, context.lwp().clone());
    let mut recheck_at = None;
    while !kernel.is_shutting_down() {
        let urgent = memory.pressure.take_urgent();
        let requested = memory.pressure.take_request() || urgent;
        let due = recheck_at.is_some_and(|at| context.now_ns() >= at);
        if requested || due {
            pass(context, memory, urgent);
            recheck_at = memory
                .above_high_water()
                .then(|| context.now_ns().saturating_add(RECHECK_NS));
        }
        context.park(recheck_at);
    }
}

/// One reclaim pass (see the module docs for the stages).
fn pass(context: &Context<'_>, memory: &Memory, urgent: bool) {
    memory.pressure.passes.lock(context).started += 1;
    let before = memory.in_use();
    let done = |memory: &Memory| !urgent && memory.in_use() < memory.low_water();
    reclaim_pools(memory);
    for level in [ReclaimLevel::Idle, ReclaimLevel::Urgent] {
        if done(memory) {
            break;
        }
        for reclaimer in memory.pressure.reclaimers() {
            reclaimer.reclaim(context, level);
        }
        reclaim_pools(memory);
    }
    let freed = before.saturating_sub(memory.in_use());
    let pressure = &memory.pressure;
    pressure.reclaimed.fetch_add(freed as u64, Relaxed);
    pressure.pass_count.fetch_add(1, Relaxed);
    log::debug!(
        "pagedaemon: freed {freed} bytes, {} of {} in use",
        memory.in_use(),
        memory.stats().limit
    );
    pressure.passes.lock(context).finished += 1;
    pressure.pass_done.notify_all(context);
}

fn reclaim_pools(memory: &Memory) {
    for pool in memory.pressure.pools() {
        pool.reclaim();
    }
}
