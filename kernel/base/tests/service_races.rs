//! Softints and callouts driven from many threads at once, and shutdown.
//!
//! Softints scheduled concurrently must each be followed by a run; a
//! callout re-armed and stopped from other threads while its handler runs
//! must keep the clock consistent; a shut-down kernel must be freed.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base::callout::Callout;
use base::softint::{Softint, SoftintLevel};
use base::thread::JoinHandle;
use base::{Context, Kernel};
use common::{DEADLINE_NS, Shared, boot, shared, wait_for};
use hypercall::InterruptSource;

/// Requests made and the latest request a softint run has seen.
#[derive(Debug, Default)]
struct Requests {
    made: u64,
    seen_by_a_run: u64,
}

const REQUESTS_EACH: u64 = 100;

/// Counts a request, then schedules the softint that must see it.
fn request(context: &Context<'_>, requests: &Shared<Requests>, softint: &Softint) {
    requests.0.lock(context).made += 1;
    softint.schedule(context);
}

/// Starts `count` kernel threads that each make `REQUESTS_EACH` requests.
fn requesting_kernel_threads(
    kernel: &Arc<Kernel>,
    count: u64,
    requests: &Shared<Requests>,
    softint: &Softint,
) -> Vec<JoinHandle> {
    let start = |_| {
        let (requests, softint) = (requests.clone(), softint.clone());
        let thread = kernel.spawn("requester", move |context| {
            for round in 0..REQUESTS_EACH {
                request(context, &requests, &softint);
                if round.is_multiple_of(4) {
                    context.yield_now();
                }
            }
        });
        thread.expect("spawn")
    };
    (0..count).map(start).collect()
}

/// Kernel threads and host threads (implicit entries) schedule one softint
/// concurrently. Runs coalesce, but the last request is always followed
/// by a run that sees it.
#[test]
fn softints_scheduled_from_many_threads_are_never_lost() {
    const THREADS_EACH_KIND: u64 = 4;
    let test = boot("");
    let kernel = &test.kernel;
    let requests = shared(Requests::default());
    let context = kernel.enter().unwrap();
    let seen = requests.clone();
    let softint = kernel.softint_establish(&context, SoftintLevel::Net, move |context| {
        let mut requests = seen.0.lock(context);
        requests.seen_by_a_run = requests.made;
        seen.1.notify_all(context);
    });
    let softint = softint.unwrap();
    drop(context);
    let joins = requesting_kernel_threads(kernel, THREADS_EACH_KIND, &requests, &softint);
    std::thread::scope(|scope| {
        for _ in 0..THREADS_EACH_KIND {
            scope.spawn(|| {
                for _ in 0..REQUESTS_EACH {
                    request(&kernel.enter().unwrap(), &requests, &softint);
                }
            });
        }
    });
    let context = kernel.enter().unwrap();
    joins
        .into_iter()
        .for_each(|thread| thread.join(&context).unwrap());
    let total = 2 * THREADS_EACH_KIND * REQUESTS_EACH;
    wait_for(&context, &requests, |r| r.seen_by_a_run == total);
    assert!(softint.runs() >= 1 && softint.runs() <= total);
}

/// How often a callout fired, and whether it runs right now.
#[derive(Debug, Default)]
struct Firings {
    count: u64,
    running: bool,
}

/// A callout whose handler gives the CPU away in the middle of its run.
fn yielding_callout(firings: &Shared<Firings>) -> Arc<Callout> {
    let firings = firings.clone();
    Arc::new(Callout::new(move |context| {
        firings.0.lock(context).running = true;
        context.yield_now();
        let mut state = firings.0.lock(context);
        *state = Firings {
            count: state.count + 1,
            running: false,
        };
        firings.1.notify_all(context);
    }))
}

/// Re-arms (soon) or stops `callout`, yielding after each.
fn rearm_and_stop(context: &Context<'_>, callout: &Callout, rearmer: u64) {
    for round in 0..150u64 {
        match (round + rearmer) % 3 {
            0 => drop(callout.stop(context)),
            _ => callout.schedule_after(context, (round % 7) * 30_000),
        }
        context.yield_now();
    }
}

/// Threads re-arm and stop a callout while its handler runs. Afterwards
/// the callout and the clock still work: one more arming fires once, and
/// the callout is idle again.
#[test]
fn callouts_rearmed_and_stopped_from_other_threads_while_firing_stay_consistent() {
    let test = boot("");
    let kernel = &test.kernel;
    let firings = shared(Firings::default());
    let callout = yielding_callout(&firings);
    let start = |rearmer| {
        let callout = callout.clone();
        let thread = kernel.spawn("rearmer", move |context| {
            rearm_and_stop(context, &callout, rearmer);
        });
        thread.expect("spawn")
    };
    let joins: Vec<_> = (0..3).map(start).collect();
    let context = kernel.enter().unwrap();
    joins
        .into_iter()
        .for_each(|thread| thread.join(&context).unwrap());
    callout.stop(&context);
    assert!(!callout.is_pending());
    wait_for(&context, &firings, |f| !f.running);
    let before = firings.0.lock(&context).count;
    callout.schedule_after(&context, 1_000_000);
    wait_for(&context, &firings, |f| f.count > before);
    assert_eq!(firings.0.lock(&context).count, before + 1);
    assert!(!callout.is_pending());
    assert!(kernel.callouts_fired() > before);
}

/// A kernel shut down with a far callout armed, softint threads started
/// and an interrupt established and dropped is freed: no thread or cycle
/// keeps it alive.
#[test]
fn a_shut_down_kernel_with_pending_work_is_freed() {
    let test = boot("");
    let kernel = Arc::downgrade(&test.kernel);
    let far = Callout::new(|_| {});
    {
        let kernel = &test.kernel;
        let context = kernel.enter().unwrap();
        far.schedule_after(&context, 3_600_000_000_000);
        for level in [SoftintLevel::Net, SoftintLevel::Clock] {
            let softint = kernel.softint_establish(&context, level, |_| {});
            softint.unwrap().schedule(&context);
        }
        drop(context);
        let interrupt = kernel.interrupt_establish("dropped", InterruptSource::Software, |_| {});
        drop(interrupt.unwrap());
    }
    drop(test);
    let deadline = Instant::now() + Duration::from_nanos(DEADLINE_NS);
    while kernel.strong_count() > 0 {
        assert!(Instant::now() < deadline, "the kernel is still alive");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        far.is_pending(),
        "the callout was never disarmed, only freed"
    );
}
