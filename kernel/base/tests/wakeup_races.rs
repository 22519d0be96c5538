//! Wakeups that race: service-thread wakes during condvar waits, timed
//! waits against notifies, hand-off to waiters whose wait timed out.
//!
//! Every wait has a deadline, and each test checks a property a caller
//! relies on (no stale waiter is left queued, no notification is lost, a
//! mutex-protected counter is exact), not only that nothing hangs.

mod common;

use std::cell::Cell;
use std::sync::Arc;

use base::Context;
use base::softint::SoftintLevel;
use base::sync::{Condvar, Mutex};
use common::{DEADLINE_NS, boot, poll, shared, wait_for};
use hypercall::WaitResult;

/// The state of the softint test: what the waiting handler and the
/// late waiter wait for.
#[derive(Debug, Default)]
struct Gates {
    handler_may_finish: bool,
    handler_finished: bool,
    late_waiter_may_finish: bool,
}

/// A softint handler schedules more work at its own level (which wakes
/// its own thread) and then waits on a condvar. That wake must not end the
/// wait while the waiter is still queued, or the stale queue entry
/// swallows a later `notify_one` meant for another waiter.
#[test]
fn a_service_thread_wake_leaves_no_stale_condvar_waiter() {
    let test = boot("");
    let kernel = &test.kernel;
    let gates = shared(Gates::default());
    let context = kernel.enter().unwrap();
    let more_work = kernel.softint_establish(&context, SoftintLevel::Net, |_| {});
    let more_work = more_work.unwrap();
    let (in_handler, queued_work) = (gates.clone(), more_work.clone());
    let waiting = kernel.softint_establish(&context, SoftintLevel::Net, move |context| {
        queued_work.schedule(context);
        wait_for(context, &in_handler, |g| g.handler_may_finish);
        in_handler.0.lock(context).handler_finished = true;
    });
    waiting.unwrap().schedule(&context);
    poll(&context, "the handler to wait", || gates.1.has_waiters());
    gates.0.lock(&context).handler_may_finish = true;
    gates.1.notify_one(&context);
    poll(&context, "the handler", || {
        gates.0.lock(&context).handler_finished
    });
    assert!(!gates.1.has_waiters(), "a finished waiter is still queued");

    let late = gates.clone();
    let late_waiter = kernel.spawn("late waiter", move |context| {
        wait_for(context, &late, |g| g.late_waiter_may_finish);
    });
    poll(&context, "the late waiter to wait", || {
        gates.1.has_waiters()
    });
    gates.0.lock(&context).late_waiter_may_finish = true;
    gates.1.notify_one(&context);
    late_waiter.unwrap().join(&context).unwrap();
    poll(&context, "the queued work to run", || more_work.runs() == 1);
}

/// A count only the kernel mutex protects.
struct Unsynchronised(Cell<u64>);
// SAFETY: only touched while holding the kernel mutex of the test.
unsafe impl Sync for Unsynchronised {}
// SAFETY: as above.
unsafe impl Send for Unsynchronised {}

/// Starts one kernel thread per index running `body(context, index)` and
/// joins them all from this thread.
fn run_threads(
    kernel: &Arc<base::Kernel>,
    count: u64,
    body: impl Fn(&Context<'_>, u64) + Send + Sync + 'static,
) {
    let body = Arc::new(body);
    let threads: Vec<_> = (0..count)
        .map(|index| {
            let body = body.clone();
            let thread = kernel.spawn("racer", move |context| body(context, index));
            thread.expect("spawn")
        })
        .collect();
    let context = kernel.enter().unwrap();
    for thread in threads {
        thread.join(&context).expect("join");
    }
}

const CONSUMERS: u64 = 6;
const PRODUCERS: u64 = 3;
const TOKENS_EACH: u64 = 400;
const TOKENS: u64 = PRODUCERS * TOKENS_EACH;

/// Tokens handed from producers to consumers through one condvar.
type Tokens = (Mutex<(u64, u64)>, Condvar);

/// Takes tokens (the guarded pair is available, taken) until all are
/// taken, with waits short enough to time out often.
fn consume(context: &Context<'_>, tokens: &Tokens, consumer: u64) {
    let give_up = context.now_ns() + DEADLINE_NS;
    let mut guard = tokens.0.lock(context);
    while guard.1 < TOKENS {
        if guard.0 > 0 {
            *guard = (guard.0 - 1, guard.1 + 1);
            continue;
        }
        assert!(context.now_ns() < give_up, "tokens went missing");
        let deadline = context.now_ns() + 20_000 * (consumer + 1);
        let (next, result) = tokens.1.wait_until(guard, deadline);
        guard = next;
        if result == WaitResult::TimedOut {
            assert!(context.now_ns() >= deadline, "timed out early");
        }
    }
    tokens.1.notify_all(context);
}

/// Makes `TOKENS_EACH` tokens, notifying one or all waiters each time.
fn produce(context: &Context<'_>, tokens: &Tokens, producer: u64) {
    for token in 0..TOKENS_EACH {
        tokens.0.lock(context).0 += 1;
        if (token + producer).is_multiple_of(5) {
            tokens.1.notify_all(context);
        } else {
            tokens.1.notify_one(context);
        }
        if token.is_multiple_of(3) {
            context.yield_now();
        }
    }
}

/// Consumers wait with deadlines so short that many time out while
/// producers notify: every token is taken exactly once, a timed-out wait
/// is never early, and no waiter is left queued.
#[test]
fn timed_waits_racing_notifies_lose_no_token_and_leave_no_waiter() {
    let test = boot("");
    let tokens: Arc<Tokens> = Arc::new((Mutex::new((0, 0)), Condvar::new()));
    let shared = tokens.clone();
    run_threads(
        &test.kernel,
        CONSUMERS + PRODUCERS,
        move |context, index| match index.checked_sub(CONSUMERS) {
            None => consume(context, &shared, index),
            Some(producer) => produce(context, &shared, producer),
        },
    );
    let context = test.kernel.enter().unwrap();
    assert_eq!(*tokens.0.lock(&context), (0, TOKENS));
    assert!(!tokens.1.has_waiters(), "a waiter was left queued");
}

const WAITERS: u64 = 4;
const HAMMERS: u64 = 4;
const ROUNDS: u64 = 200;

/// A mutex, a condvar on it, and a count only the mutex protects.
type Contended = (Mutex<()>, Condvar, Unsynchronised);

/// One round of a contender: waiters wait (briefly) on the condvar,
/// hammers notify; all then add one to the count, giving the CPU away
/// between the read and the write now and then.
fn contend(context: &Context<'_>, shared: &Contended, index: u64, round: u64) {
    let (mutex, condvar, count) = shared;
    let mut guard = mutex.lock(context);
    if index < WAITERS {
        let deadline = context.now_ns() + 10_000;
        guard = condvar.wait_until(guard, deadline).0;
    } else if round.is_multiple_of(4) {
        condvar.notify_one(context);
    }
    let before = count.0.get();
    if round.is_multiple_of(3) {
        context.yield_now();
    }
    count.0.set(before + 1);
    drop(guard);
}

/// Waiters whose timed condvar waits expire must queue for the mutex
/// again behind threads that hammer it; the counter the mutex protects
/// stays exact and the mutex ends free.
#[test]
fn mutex_hand_off_to_timed_out_condvar_waiters_keeps_exclusion() {
    let test = boot("");
    let count = Unsynchronised(Cell::new(0));
    let contended: Arc<Contended> = Arc::new((Mutex::new(()), Condvar::new(), count));
    let shared = contended.clone();
    run_threads(&test.kernel, WAITERS + HAMMERS, move |context, index| {
        (0..ROUNDS).for_each(|round| contend(context, &shared, index, round));
    });
    assert_eq!(contended.2.0.get(), (WAITERS + HAMMERS) * ROUNDS);
    assert_eq!(contended.0.owner(), None);
    assert!(!contended.1.has_waiters());
}
