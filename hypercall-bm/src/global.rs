//! The machine's one scheduler, reachable from every hypercall.
//!
//! There is one CPU and no preemption, and interrupt handlers never call
//! the scheduler (they set flags that [`crate::scheduling::SchedulerPlatform`] reports),
//! so a plain static cell is enough. It is filled once, on the boot thread,
//! before any other thread exists.

use core::cell::UnsafeCell;

use scheduler::Scheduler;

use crate::scheduling::SchedulerPlatform;

struct GlobalScheduler(UnsafeCell<Option<Scheduler<SchedulerPlatform>>>);

// SAFETY: the image runs on one CPU without preemption, and interrupt
// handlers never touch the scheduler, so no two contexts ever access the
// cell at once; it is written once by `install` before anything reads it.
unsafe impl Sync for GlobalScheduler {}

static SCHEDULER: GlobalScheduler = GlobalScheduler(UnsafeCell::new(None));

/// Makes `scheduler` the machine's scheduler. Called once, at start.
pub(crate) fn install(scheduler: Scheduler<SchedulerPlatform>) {
    // SAFETY: called once on the boot thread before any other thread or
    // reader exists (see `crate::start`), so the write is unobserved.
    let cell = unsafe { &mut *SCHEDULER.0.get() };
    assert!(cell.is_none(), "the scheduler is installed once");
    *cell = Some(scheduler);
}

/// The machine's scheduler.
///
/// # Panics
/// Before [`install`].
pub(crate) fn scheduler() -> &'static Scheduler<SchedulerPlatform> {
    // SAFETY: after `install` the cell is only read (see the Sync impl).
    let cell = unsafe { &*SCHEDULER.0.get() };
    cell.as_ref().expect("the scheduler runs")
}
