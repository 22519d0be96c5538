//! Tests of two-phase blocking, deadlines, sleeping and interrupt wakeups.

use std::{boxed::Box, sync::Arc, thread, vec::Vec};

use super::{Log, joinable, lock, milliseconds, record, with_scheduler};
use crate::{Platform, ThreadId, WakeReason};

#[test]
fn a_wake_between_prepare_and_block_is_not_lost() {
    with_scheduler(|scheduler| {
        let log: Log<(&str, u64)> = Log::default();
        let sleeper_log = Arc::clone(&log);
        let entry = move || {
            scheduler.prepare_block();
            scheduler.yield_now(); // boot wakes us here
            let switches = scheduler.stats().context_switches;
            scheduler.block();
            record(
                &sleeper_log,
                (
                    "switches in block",
                    scheduler.stats().context_switches - switches,
                ),
            );
        };
        let sleeper = scheduler
            .spawn(joinable("sleeper"), Box::new(entry))
            .expect("memory");
        scheduler.yield_now();
        assert!(
            scheduler.wake(sleeper),
            "a prepared thread reports the wake"
        );
        assert!(!scheduler.wake(sleeper), "a second wake has nothing to do");
        scheduler.join(sleeper).expect("joinable");
        assert_eq!(*lock(&log), [("switches in block", 0)]);
    });
}

#[test]
fn waking_a_thread_that_is_not_blocking_reports_false() {
    with_scheduler(|scheduler| {
        let runnable = scheduler
            .spawn(joinable("runnable"), Box::new(|| {}))
            .expect("memory");
        assert!(!scheduler.wake(runnable));
        assert!(!scheduler.wake(scheduler.current()));
        assert!(!scheduler.wake(ThreadId(0xdead_0000)));
        scheduler.join(runnable).expect("joinable");
        assert!(!scheduler.wake(runnable), "an ended thread is unknown");
    });
}

#[test]
fn block_until_reports_a_timeout_not_before_the_deadline() {
    with_scheduler(|scheduler| {
        let log: Log<(WakeReason, bool)> = Log::default();
        let waiter_log = Arc::clone(&log);
        let entry = move || {
            let deadline = scheduler.platform().now_ns() + milliseconds(20);
            scheduler.prepare_block();
            let reason = scheduler.block_until(deadline);
            record(
                &waiter_log,
                (reason, scheduler.platform().now_ns() >= deadline),
            );
        };
        let waiter = scheduler
            .spawn(joinable("waiter"), Box::new(entry))
            .expect("memory");
        scheduler.join(waiter).expect("joinable");
        assert_eq!(*lock(&log), [(WakeReason::TimedOut, true)]);
        assert!(
            scheduler.stats().idle_calls >= 1,
            "nothing was runnable while it waited"
        );
    });
}

#[test]
fn block_until_reports_a_wake_before_the_deadline() {
    with_scheduler(|scheduler| {
        let log: Log<(WakeReason, bool)> = Log::default();
        let waiter_log = Arc::clone(&log);
        let entry = move || {
            let deadline = scheduler.platform().now_ns() + milliseconds(10_000);
            scheduler.prepare_block();
            let reason = scheduler.block_until(deadline);
            record(
                &waiter_log,
                (reason, scheduler.platform().now_ns() < deadline),
            );
        };
        let waiter = scheduler
            .spawn(joinable("waiter"), Box::new(entry))
            .expect("memory");
        scheduler.yield_now();
        assert_eq!(scheduler.stats().threads_sleeping, 1);
        assert!(scheduler.wake(waiter));
        assert_eq!(
            scheduler.stats().threads_sleeping,
            0,
            "a woken thread leaves the deadline queue"
        );
        scheduler.join(waiter).expect("joinable");
        assert_eq!(*lock(&log), [(WakeReason::Woken, true)]);
    });
}

#[test]
fn block_until_a_past_deadline_times_out_at_once() {
    with_scheduler(|scheduler| {
        scheduler.prepare_block();
        assert_eq!(scheduler.block_until(0), WakeReason::TimedOut);
        scheduler.prepare_block();
        assert!(scheduler.wake(scheduler.current()));
        assert_eq!(
            scheduler.block_until(0),
            WakeReason::Woken,
            "a wake before the block wins"
        );
        let stats = scheduler.stats();
        assert_eq!(
            (
                stats.context_switches,
                stats.idle_calls,
                stats.threads_sleeping
            ),
            (0, 0, 0)
        );
    });
}

#[test]
fn sleepers_wake_in_deadline_order_and_not_early() {
    with_scheduler(|scheduler| {
        let log: Log<(u64, bool)> = Log::default();
        let start = scheduler.platform().now_ns();
        let sleepers: Vec<ThreadId> = [30, 10, 20, 10]
            .into_iter()
            .map(|offset| {
                let log = Arc::clone(&log);
                let deadline = start + milliseconds(offset);
                let entry = move || {
                    scheduler.sleep_until(deadline);
                    record(&log, (offset, scheduler.platform().now_ns() >= deadline));
                };
                scheduler
                    .spawn(joinable("sleeper"), Box::new(entry))
                    .expect("memory")
            })
            .collect();
        sleepers
            .into_iter()
            .for_each(|sleeper| scheduler.join(sleeper).expect("joinable"));
        assert_eq!(
            *lock(&log),
            [(10, true), (10, true), (20, true), (30, true)]
        );
    });
}

#[test]
fn a_wake_does_not_cut_a_sleep_short() {
    with_scheduler(|scheduler| {
        let log: Log<bool> = Log::default();
        let sleeper_log = Arc::clone(&log);
        let deadline = scheduler.platform().now_ns() + milliseconds(30);
        let entry = move || {
            scheduler.sleep_until(deadline);
            record(&sleeper_log, scheduler.platform().now_ns() >= deadline);
        };
        let sleeper = scheduler
            .spawn(joinable("sleeper"), Box::new(entry))
            .expect("memory");
        scheduler.yield_now();
        assert!(scheduler.wake(sleeper), "a sleeping thread is blocked");
        scheduler.join(sleeper).expect("joinable");
        assert_eq!(*lock(&log), [true]);
    });
}

#[test]
fn an_interrupt_reported_by_the_platform_wakes_a_blocked_thread() {
    with_scheduler(|scheduler| {
        let log: Log<&str> = Log::default();
        let waiter_log = Arc::clone(&log);
        let entry = move || {
            scheduler.prepare_block();
            scheduler.block();
            record(&waiter_log, "woken");
        };
        let waiter = scheduler
            .spawn(joinable("waiter"), Box::new(entry))
            .expect("memory");
        scheduler.yield_now(); // the waiter blocks
        let line = scheduler.platform().interrupt_line();
        let device = thread::spawn(move || line.raise(waiter));
        scheduler.join(waiter).expect("joinable");
        device.join().expect("the device thread does not panic");
        assert_eq!(*lock(&log), ["woken"]);
    });
}

#[test]
#[should_panic(expected = "deadlock")]
fn blocking_with_nothing_to_wake_anyone_reaches_the_platform_idle() {
    with_scheduler(|scheduler| {
        scheduler.prepare_block();
        scheduler.block();
    });
}
