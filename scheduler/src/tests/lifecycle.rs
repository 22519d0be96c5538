//! Tests of spawn, exit, join, reaping, slots, names and stack checks.

use std::{
    boxed::Box,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    vec::Vec,
};

use super::{Log, detached, joinable, lock, record, with_limit, with_scheduler};
use crate::{DEFAULT_STACK_SIZE, JoinError, SpawnError, SpawnSpec, ThreadId};

#[test]
fn detached_threads_are_reaped_with_their_stacks() {
    with_scheduler(|scheduler| {
        let finished = Arc::new(AtomicUsize::new(0));
        let threads: Vec<ThreadId> = (0..10)
            .map(|_| {
                let finished = Arc::clone(&finished);
                let entry = move || {
                    scheduler.yield_now();
                    scheduler.yield_now();
                    finished.fetch_add(1, Ordering::Relaxed);
                };
                scheduler
                    .spawn(detached("detached"), Box::new(entry))
                    .expect("memory")
            })
            .collect();
        for _ in 0..3 {
            scheduler.yield_now(); // each round runs every thread once
        }
        assert_eq!(finished.load(Ordering::Relaxed), 10);
        let stats = scheduler.stats();
        assert_eq!((stats.threads_alive, stats.threads_unjoined), (1, 0));
        assert_eq!(
            (
                stats.stacks_allocated,
                stats.stacks_freed,
                stats.stack_bytes
            ),
            (10, 10, 0)
        );
        assert!(
            threads
                .iter()
                .all(|thread| scheduler.thread_name(*thread).is_none())
        );
    });
}

#[test]
fn a_joinable_thread_frees_its_stack_at_exit_and_its_record_at_join() {
    with_scheduler(|scheduler| {
        let worker = scheduler
            .spawn(joinable("worker"), Box::new(|| {}))
            .expect("memory");
        scheduler.yield_now();
        let stats = scheduler.stats();
        assert_eq!(
            (
                stats.threads_alive,
                stats.threads_unjoined,
                stats.stacks_freed
            ),
            (1, 1, 1)
        );
        assert_eq!(scheduler.thread_name(worker).as_deref(), Some("worker"));
        scheduler.join(worker).expect("joinable");
        assert_eq!(scheduler.stats().threads_unjoined, 0);
        assert_eq!(scheduler.thread_name(worker), None);
    });
}

#[test]
fn join_refuses_itself_unknown_detached_and_joined_threads() {
    with_scheduler(|scheduler| {
        assert_eq!(
            scheduler.join(scheduler.current()),
            Err(JoinError::JoinSelf)
        );
        assert_eq!(
            scheduler.join(ThreadId(12_345 << 16)),
            Err(JoinError::NotJoinable)
        );
        let free = scheduler
            .spawn(detached("free"), Box::new(|| {}))
            .expect("memory");
        assert_eq!(scheduler.join(free), Err(JoinError::NotJoinable));
        let worker = scheduler
            .spawn(joinable("worker"), Box::new(|| {}))
            .expect("memory");
        assert_eq!(scheduler.join(worker), Ok(()));
        assert_eq!(scheduler.join(worker), Err(JoinError::NotJoinable));
    });
}

#[test]
fn a_thread_being_joined_cannot_be_joined_by_another() {
    with_scheduler(|scheduler| {
        let log: Log<Result<(), JoinError>> = Log::default();
        let target = scheduler
            .spawn(joinable("target"), Box::new(move || scheduler.yield_now()))
            .expect("memory");
        let rival_log = Arc::clone(&log);
        let rival = move || record(&rival_log, scheduler.join(target));
        let rival = scheduler
            .spawn(joinable("rival"), Box::new(rival))
            .expect("memory");
        scheduler.join(target).expect("boot joins first");
        scheduler.join(rival).expect("joinable");
        assert_eq!(*lock(&log), [Err(JoinError::NotJoinable)]);
    });
}

#[test]
fn exit_ends_a_thread_where_it_is_called() {
    with_scheduler(|scheduler| {
        let log: Log<&str> = Log::default();
        let quitter_log = Arc::clone(&log);
        let entry = move || {
            record(&quitter_log, "before exit");
            scheduler.exit();
        };
        let quitter = scheduler
            .spawn(joinable("quitter"), Box::new(entry))
            .expect("memory");
        scheduler.join(quitter).expect("joinable");
        assert_eq!(*lock(&log), ["before exit"]);
        assert_eq!(scheduler.stats().stacks_freed, 1);
    });
}

#[test]
fn the_slot_belongs_to_each_thread() {
    with_scheduler(|scheduler| {
        scheduler.set_slot(7);
        let log: Log<(&str, usize)> = Log::default();
        let threads: Vec<ThreadId> = [("one", 1), ("two", 2)]
            .into_iter()
            .map(|(name, value)| {
                let log = Arc::clone(&log);
                let entry = move || {
                    record(&log, (name, scheduler.slot()));
                    scheduler.set_slot(value);
                    scheduler.yield_now();
                    record(&log, (name, scheduler.slot()));
                };
                scheduler
                    .spawn(joinable(name), Box::new(entry))
                    .expect("memory")
            })
            .collect();
        threads
            .into_iter()
            .for_each(|thread| scheduler.join(thread).expect("joinable"));
        assert_eq!(
            *lock(&log),
            [("one", 0), ("two", 0), ("one", 1), ("two", 2)]
        );
        assert_eq!(scheduler.slot(), 7);
    });
}

#[test]
fn threads_are_named_for_diagnostics() {
    with_scheduler(|scheduler| {
        assert_eq!(
            scheduler.thread_name(scheduler.current()).as_deref(),
            Some("boot")
        );
        let long_name = "a-very-long-thread-name-that-does-not-fit";
        let long = scheduler
            .spawn(joinable(long_name), Box::new(|| {}))
            .expect("memory");
        assert_eq!(
            scheduler.thread_name(long).as_deref(),
            Some(&long_name[..31])
        );
        assert_eq!(scheduler.thread_name(ThreadId(99)), None);
        scheduler.join(long).expect("joinable");
    });
}

#[test]
#[should_panic(expected = "stack overflow in thread 'victim'")]
fn a_broken_stack_canary_is_reported_at_the_switch() {
    with_scheduler(|scheduler| {
        let victim = scheduler
            .spawn(joinable("victim"), Box::new(|| {}))
            .expect("memory");
        scheduler.clobber_canary(victim);
        scheduler.yield_now(); // the switch to the victim checks it
    });
}

/// A value whose owners can be counted: it shows whether an entry closure
/// was dropped.
fn witness() -> Arc<()> {
    Arc::new(())
}

#[test]
fn an_impossible_stack_size_is_out_of_memory() {
    with_scheduler(|scheduler| {
        let witness = witness();
        for stack_size in [usize::MAX, isize::MAX as usize - 15, 1 << 62] {
            let held = Arc::clone(&witness);
            let spec = SpawnSpec {
                name: "huge",
                stack_size,
                joinable: true,
            };
            let result = scheduler.spawn(spec, Box::new(move || drop(held)));
            assert_eq!(
                result,
                Err(SpawnError::OutOfMemory),
                "stack size {stack_size:#x}"
            );
        }
        assert_eq!(
            Arc::strong_count(&witness),
            1,
            "refused entries are dropped"
        );
        let stats = scheduler.stats();
        assert_eq!(
            (
                stats.threads_spawned,
                stats.stacks_allocated,
                stats.threads_alive
            ),
            (0, 0, 1)
        );
    });
}

#[test]
fn the_thread_limit_is_too_many_threads_until_one_is_joined() {
    with_limit(3, |scheduler| {
        let first = scheduler
            .spawn(joinable("first"), Box::new(|| {}))
            .expect("room");
        scheduler
            .spawn(joinable("second"), Box::new(|| {}))
            .expect("room");
        let refused = scheduler.spawn(joinable("third"), Box::new(|| {}));
        assert_eq!(refused, Err(SpawnError::TooManyThreads));
        let stats = scheduler.stats();
        assert_eq!(
            (stats.stacks_allocated, stats.stack_bytes),
            (2, 2 * DEFAULT_STACK_SIZE),
            "refused stack counted"
        );
        scheduler.join(first).expect("joinable");
        scheduler
            .spawn(joinable("third"), Box::new(|| {}))
            .expect("room again");
    });
}

#[test]
fn dropping_the_scheduler_drops_entries_that_never_ran() {
    let witness = witness();
    let held = Arc::clone(&witness);
    with_scheduler(move |scheduler| {
        scheduler
            .spawn(joinable("never run"), Box::new(move || drop(held)))
            .expect("memory");
    });
    assert_eq!(Arc::strong_count(&witness), 1);
}
