//! Tests of the host rwlock: sharing, exclusion, writer preference.

use std::sync::Mutex;

use hypercall::{HostRwLock, RwMode};

use super::PosixRwLock;
use crate::test_support::{run_with_deadline, wait_for};

/// Runs `probe` on another thread and returns its result.
fn elsewhere<R: Send>(probe: impl FnOnce() -> R + Send) -> R {
    run_with_deadline(|| std::thread::scope(|scope| scope.spawn(probe).join().expect("no panic")))
}

#[test]
fn readers_share() {
    let rwlock = PosixRwLock::new();
    rwlock.enter(RwMode::Read);
    assert!(rwlock.is_held(RwMode::Read));
    assert!(!rwlock.is_held(RwMode::Write));
    let (read, write) = elsewhere(|| {
        let read = rwlock.try_enter(RwMode::Read);
        let write = rwlock.try_enter(RwMode::Write);
        rwlock.exit();
        (read, write)
    });
    assert_eq!((read, write), (true, false));
    assert!(
        rwlock.is_held(RwMode::Read),
        "the first reader still holds it"
    );
    rwlock.exit();
    assert!(!rwlock.is_held(RwMode::Read));
}

#[test]
fn a_writer_excludes_everyone() {
    let rwlock = PosixRwLock::new();
    rwlock.enter(RwMode::Write);
    assert!(rwlock.is_held(RwMode::Write));
    let seen = elsewhere(|| {
        let held_by_other = rwlock.is_held(RwMode::Write);
        (
            rwlock.try_enter(RwMode::Read),
            rwlock.try_enter(RwMode::Write),
            held_by_other,
        )
    });
    assert_eq!(seen, (false, false, false));
    rwlock.exit();
    assert!(!rwlock.is_held(RwMode::Write));
    assert!(rwlock.try_enter(RwMode::Write));
    rwlock.exit();
}

#[test]
fn a_waiting_writer_blocks_new_readers() {
    let rwlock = PosixRwLock::new();
    let order = Mutex::new(Vec::new());
    run_with_deadline(|| {
        rwlock.enter(RwMode::Read);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                rwlock.enter(RwMode::Write);
                order.lock().expect("unpoisoned").push("writer");
                rwlock.exit();
            });
            wait_for("the writer to wait", || rwlock.waiting() == (0, 1));
            assert!(
                !rwlock.try_enter(RwMode::Read),
                "a new reader must not overtake"
            );
            scope.spawn(|| {
                rwlock.enter(RwMode::Read);
                order.lock().expect("unpoisoned").push("reader");
                rwlock.exit();
            });
            wait_for("the second reader to wait", || rwlock.waiting() == (1, 1));
            rwlock.exit();
        })
    });
    assert_eq!(*order.lock().expect("unpoisoned"), ["writer", "reader"]);
    assert_eq!(rwlock.waiting(), (0, 0));
}

#[test]
fn readers_and_writers_under_contention_keep_the_invariant() {
    let rwlock = PosixRwLock::new();
    let inside = Mutex::new((0usize, 0usize));
    let check = |writer: bool| {
        let mut counts = inside.lock().expect("unpoisoned");
        if writer {
            counts.1 += 1
        } else {
            counts.0 += 1
        }
        assert!(
            counts.1 == 0 || (counts.1 == 1 && counts.0 == 0),
            "readers/writers {counts:?}"
        );
    };
    let leave = |writer: bool| {
        let mut counts = inside.lock().expect("unpoisoned");
        if writer { counts.1 -= 1 } else { counts.0 -= 1 }
    };
    run_with_deadline(|| {
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let (check, leave, rwlock) = (&check, &leave, &rwlock);
                scope.spawn(move || {
                    for round in 0..2000 {
                        let writer = (thread + round) % 3 == 0;
                        rwlock.enter(if writer { RwMode::Write } else { RwMode::Read });
                        check(writer);
                        leave(writer);
                        rwlock.exit();
                    }
                });
            }
        })
    });
}

#[test]
#[should_panic(expected = "which does not hold it")]
fn exit_of_a_free_lock_is_a_kernel_bug() {
    PosixRwLock::new().exit();
}
