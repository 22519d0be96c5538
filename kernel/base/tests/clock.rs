//! Callouts fire in deadline order from the clock thread, can be moved and
//! stopped, and re-arm themselves for periodic work; sleeps last long
//! enough.

mod common;

use std::sync::{Arc, Mutex as StdMutex};

use base::callout::Callout;
use base::sync::{Condvar, Mutex};
use common::{DEADLINE_NS, boot};
use hypercall::WaitResult;

type Log = Arc<(Mutex<Vec<(&'static str, u64)>>, Condvar)>;

fn recorder(log: &Log, name: &'static str) -> Callout {
    let log = log.clone();
    Callout::new(move |context| {
        log.0.lock(context).push((name, context.now_ns()));
        log.1.notify_all(context);
    })
}

fn wait_for_entries(
    context: &base::Context<'_>,
    log: &Log,
    count: usize,
) -> Vec<(&'static str, u64)> {
    let deadline = context.now_ns() + DEADLINE_NS;
    let mut guard = log.0.lock(context);
    while guard.len() < count {
        let (next, result) = log.1.wait_until(guard, deadline);
        assert_eq!(
            result,
            WaitResult::Woken,
            "callouts did not fire: {:?}",
            *next
        );
        guard = next;
    }
    guard.clone()
}

#[test]
fn callouts_fire_in_deadline_order_not_before_their_deadline() {
    let test = boot("");
    let context = test.kernel.enter().unwrap();
    let log: Log = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
    let now = context.now_ns();
    let late = recorder(&log, "late");
    let early = recorder(&log, "early");
    let middle = recorder(&log, "middle");
    late.schedule_at(&context, now + 30_000_000);
    early.schedule_at(&context, now + 10_000_000);
    middle.schedule_at(&context, now + 20_000_000);
    assert!(early.is_pending());
    let fired = wait_for_entries(&context, &log, 3);
    let names: Vec<_> = fired.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["early", "middle", "late"]);
    assert!(fired[0].1 >= now + 10_000_000);
    assert!(fired[2].1 >= now + 30_000_000);
    assert!(!late.is_pending());
}

#[test]
fn stopped_callouts_do_not_fire_and_moved_ones_fire_once_at_the_new_time() {
    let test = boot("");
    let context = test.kernel.enter().unwrap();
    let log: Log = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
    let now = context.now_ns();
    let stopped = recorder(&log, "stopped");
    let moved = recorder(&log, "moved");
    let marker = recorder(&log, "marker");
    stopped.schedule_at(&context, now + 5_000_000);
    moved.schedule_at(&context, now + 5_000_000);
    moved.schedule_at(&context, now + 25_000_000);
    assert!(stopped.stop(&context));
    assert!(!stopped.stop(&context), "already stopped");
    marker.schedule_at(&context, now + 40_000_000);
    let fired = wait_for_entries(&context, &log, 2);
    let names: Vec<_> = fired.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["moved", "marker"]);
    assert!(fired[0].1 >= now + 25_000_000);
}

#[test]
fn a_callout_can_rearm_itself_periodically() {
    let test = boot("");
    let ticks = Arc::new(StdMutex::new(Vec::new()));
    let done = Arc::new((Mutex::new(false), Condvar::new()));
    let callout: Arc<StdMutex<Option<Arc<Callout>>>> = Arc::new(StdMutex::new(None));
    let periodic = {
        let ticks = ticks.clone();
        let done = done.clone();
        let myself = callout.clone();
        Arc::new(Callout::new(move |context| {
            let mut ticks = ticks.lock().unwrap();
            ticks.push(context.now_ns());
            if ticks.len() < 5 {
                let me = myself.lock().unwrap().clone().expect("set before arming");
                me.schedule_after(context, 2_000_000);
            } else {
                *done.0.lock(context) = true;
                done.1.notify_all(context);
            }
        }))
    };
    *callout.lock().unwrap() = Some(periodic.clone());
    let context = test.kernel.enter().unwrap();
    periodic.schedule_after(&context, 2_000_000);
    let deadline = context.now_ns() + DEADLINE_NS;
    let mut guard = done.0.lock(&context);
    while !*guard {
        let (next, result) = done.1.wait_until(guard, deadline);
        assert_eq!(result, WaitResult::Woken);
        guard = next;
    }
    let ticks = ticks.lock().unwrap();
    assert!(ticks.windows(2).all(|pair| pair[1] >= pair[0] + 2_000_000));
    assert!(test.kernel.callouts_fired() >= 5);
    *callout.lock().unwrap() = None;
}

#[test]
fn sleep_lasts_at_least_as_long_as_asked_and_frees_the_cpu() {
    let test = boot("");
    let kernel = &test.kernel;
    let sleeper = kernel
        .spawn("sleeper", |context| {
            let start = context.now_ns();
            context.sleep_until(start + 15_000_000);
            assert!(context.now_ns() >= start + 15_000_000);
        })
        .unwrap();
    // The sleeper does not hold the CPU: this thread can enter meanwhile.
    let context = kernel.enter().unwrap();
    sleeper.join(&context).unwrap();
}

#[test]
#[should_panic(expected = "used by two kernels")]
fn a_callout_belongs_to_the_kernel_it_was_first_armed_in() {
    let first = boot("");
    let second = boot("");
    let callout = Callout::new(|_| {});
    callout.schedule_after(&first.kernel.enter().unwrap(), 3_600_000_000_000);
    let context = second.kernel.enter().unwrap();
    callout.schedule_after(&context, 1);
}
