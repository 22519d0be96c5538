//! Kernel mutex, condvar and rwlock under real contention between kernel
//! threads and host threads entering the kernel.

mod common;

use std::cell::Cell;
use std::sync::Arc;

use base::sync::{Condvar, Mutex, RwLock};
use common::{DEADLINE_NS, boot};
use hypercall::WaitResult;

/// A counter with no synchronisation of its own: only the kernel mutex
/// protects it, so lost updates would show.
struct Unsynchronised(Cell<u64>);
// SAFETY: in these tests it is only touched while holding a kernel mutex.
unsafe impl Sync for Unsynchronised {}
// SAFETY: as above.
unsafe impl Send for Unsynchronised {}

#[test]
fn mutex_excludes_across_kernel_threads_that_block_while_holding_it() {
    let test = boot("");
    let kernel = &test.kernel;
    let shared = Arc::new((Mutex::new(()), Unsynchronised(Cell::new(0))));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let shared = shared.clone();
            kernel
                .spawn("worker", move |context| {
                    for round in 0..200 {
                        let _guard = shared.0.lock(context);
                        let value = shared.1.0.get();
                        if round % 16 == 0 {
                            // Give the CPU away while holding the mutex.
                            context.yield_now();
                        }
                        shared.1.0.set(value + 1);
                    }
                })
                .expect("spawn")
        })
        .collect();
    let context = kernel.enter().unwrap();
    for thread in threads {
        thread.join(&context).expect("join");
    }
    assert_eq!(shared.1.0.get(), 8 * 200);
    assert_eq!(shared.0.owner(), None);
}

#[test]
fn try_lock_fails_while_held_and_owner_names_the_holder() {
    let test = boot("");
    let context = test.kernel.enter().unwrap();
    let mutex = Mutex::new(5);
    let guard = mutex.lock(&context);
    assert_eq!(mutex.owner(), Some(context.lwp_id()));
    assert!(mutex.try_lock(&context).is_none());
    drop(guard);
    assert_eq!(*mutex.try_lock(&context).expect("free now"), 5);
}

#[test]
fn condvar_hands_every_item_from_producer_to_consumer() {
    let test = boot("");
    let kernel = &test.kernel;
    let queue = Arc::new((Mutex::new(Vec::<u32>::new()), Condvar::new()));
    let consumer_queue = queue.clone();
    let consumer = kernel
        .spawn("consumer", move |context| {
            let (items, ready) = &*consumer_queue;
            let mut received = 0u32;
            let deadline = context.now_ns() + DEADLINE_NS;
            while received < 1000 {
                let mut guard = items.lock(context);
                while guard.is_empty() {
                    let (next, result) = ready.wait_until(guard, deadline);
                    assert_eq!(result, WaitResult::Woken, "consumer starved");
                    guard = next;
                }
                for item in guard.drain(..) {
                    assert_eq!(item, received, "items arrive in order");
                    received += 1;
                }
            }
        })
        .expect("spawn");
    let context = kernel.enter().unwrap();
    for item in 0..1000 {
        queue.0.lock(&context).push(item);
        queue.1.notify_one(&context);
        if item % 7 == 0 {
            context.yield_now();
        }
    }
    consumer.join(&context).expect("join");
}

#[test]
fn notify_all_wakes_every_waiter() {
    let test = boot("");
    let kernel = &test.kernel;
    let state = Arc::new((Mutex::new((false, 0u32)), Condvar::new()));
    let waiters: Vec<_> = (0..5)
        .map(|_| {
            let state = state.clone();
            kernel
                .spawn("waiter", move |context| {
                    let (flag, changed) = &*state;
                    let mut guard = flag.lock(context);
                    guard.1 += 1;
                    changed.notify_all(context);
                    guard = changed.wait_while(guard, |(go, _)| !*go);
                    assert!(guard.0);
                })
                .expect("spawn")
        })
        .collect();
    let context = kernel.enter().unwrap();
    let deadline = context.now_ns() + DEADLINE_NS;
    let mut guard = state.0.lock(&context);
    while guard.1 < 5 {
        let (next, result) = state.1.wait_until(guard, deadline);
        assert_eq!(result, WaitResult::Woken);
        guard = next;
    }
    guard.0 = true;
    state.1.notify_all(&context);
    drop(guard);
    for waiter in waiters {
        waiter.join(&context).expect("join");
    }
    assert!(!state.1.has_waiters());
}

#[test]
fn timed_wait_times_out_no_earlier_than_the_deadline() {
    let test = boot("");
    let context = test.kernel.enter().unwrap();
    let mutex = Mutex::new(());
    let condvar = Condvar::new();
    let start = context.now_ns();
    let (_guard, result) = condvar.wait_until(mutex.lock(&context), start + 20_000_000);
    assert_eq!(result, WaitResult::TimedOut);
    assert!(context.now_ns() >= start + 20_000_000);
    assert!(
        !condvar.has_waiters(),
        "a timed-out waiter leaves the queue"
    );
}

#[test]
fn rwlock_shares_readers_and_a_waiting_writer_goes_before_new_readers() {
    let test = boot("");
    let kernel = &test.kernel;
    let lock = Arc::new(RwLock::new(Vec::<&'static str>::new()));
    let context = kernel.enter().unwrap();
    let first_read = lock.read(&context);
    let second_read = lock.read(&context);
    assert_eq!(lock.reader_count(), 2);

    let writer_lock = lock.clone();
    let writer = kernel
        .spawn("writer", move |context| {
            writer_lock.write(context).push("writer");
        })
        .unwrap();
    let deadline = context.now_ns() + DEADLINE_NS;
    while lock.waiting_writers() == 0 {
        assert!(context.now_ns() < deadline, "writer never queued");
        context.yield_now();
    }
    let reader_lock = lock.clone();
    let late_reader = kernel
        .spawn("late reader", move |context| {
            let seen = reader_lock.read(context).clone();
            assert_eq!(seen, ["writer"], "the waiting writer went first");
        })
        .unwrap();
    while lock.waiting_readers() == 0 {
        assert!(context.now_ns() < deadline, "late reader never queued");
        context.yield_now();
    }
    drop(first_read);
    drop(second_read);
    writer.join(&context).unwrap();
    late_reader.join(&context).unwrap();
}
