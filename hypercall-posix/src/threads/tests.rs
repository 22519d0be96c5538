//! Tests of the thread hypercalls against real std threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;

use hypercall::{Exit, ExitStatus, ThreadError, ThreadId, ThreadSpec, Threads};

use crate::test_support::{run_with_deadline, wait_for};
use crate::{ConsoleCapture, ConsoleSink, ExitMode, KernelExit, Posix, PosixConfig};

fn spec(name: &str, joinable: bool) -> ThreadSpec<'_> {
    ThreadSpec {
        name,
        stack_size: 0,
        joinable,
    }
}

fn join(posix: &Posix, thread: ThreadId) -> Result<(), ThreadError> {
    run_with_deadline(|| posix.thread_join(thread))
}

#[test]
fn join_returns_after_the_entry_ran() {
    let posix = Posix::new(PosixConfig::default());
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let entry = Box::new(move || flag.store(true, Ordering::SeqCst));
    let thread = posix
        .thread_create(spec("worker", true), entry)
        .expect("spawn");
    assert_eq!(join(&posix, thread), Ok(()));
    assert!(ran.load(Ordering::SeqCst));
}

#[test]
fn thread_exit_ends_the_entry_at_that_point() {
    let posix = Posix::new(PosixConfig::default());
    let progress = Arc::new(AtomicU32::new(0));
    let (inner, seen) = (posix.clone(), progress.clone());
    let entry = Box::new(move || {
        seen.store(1, Ordering::SeqCst);
        if std::hint::black_box(true) {
            inner.thread_exit();
        }
        seen.store(2, Ordering::SeqCst);
    });
    let thread = posix
        .thread_create(spec("exiter", true), entry)
        .expect("spawn");
    assert_eq!(join(&posix, thread), Ok(()));
    assert_eq!(progress.load(Ordering::SeqCst), 1);
}

#[test]
fn join_refuses_unknown_detached_joined_and_self() {
    let posix = Posix::new(PosixConfig::default());
    assert_eq!(
        posix.thread_join(ThreadId(u64::MAX)),
        Err(ThreadError::NotJoinable)
    );

    let (done, finished) = mpsc::channel();
    let detached = posix
        .thread_create(
            spec("detached", false),
            Box::new(move || done.send(()).expect("receiver alive")),
        )
        .expect("spawn");
    assert_eq!(posix.thread_join(detached), Err(ThreadError::NotJoinable));
    finished
        .recv_timeout(crate::test_support::DEADLINE)
        .expect("detached thread ran");

    let (inner, (report, outcome)) = (posix.clone(), mpsc::channel());
    let entry = Box::new(move || {
        report
            .send(inner.thread_join(inner.thread_current()))
            .expect("receiver alive")
    });
    let joiner = posix
        .thread_create(spec("self-joiner", true), entry)
        .expect("spawn");
    assert_eq!(join(&posix, joiner), Ok(()));
    assert_eq!(
        outcome.recv().expect("sent before join returned"),
        Err(ThreadError::JoinSelf)
    );
    assert_eq!(posix.thread_join(joiner), Err(ThreadError::NotJoinable));
}

#[test]
fn identities_differ_per_thread_and_names_reach_the_host() {
    let posix = Posix::new(PosixConfig::default());
    let mine = posix.thread_current();
    assert_eq!(posix.thread_current(), mine);
    let (inner, (report, seen)) = (posix.clone(), mpsc::channel());
    let entry = Box::new(move || {
        let name = std::thread::current().name().map(String::from);
        report
            .send((inner.thread_current(), inner.thread_current(), name))
            .expect("receiver alive");
    });
    let thread = posix
        .thread_create(spec("net-rx", true), entry)
        .expect("spawn");
    assert_eq!(join(&posix, thread), Ok(()));
    let (first, second, name) = seen.recv().expect("sent before join returned");
    assert_eq!((first, second), (thread, thread));
    assert_ne!(thread, mine);
    assert_ne!(thread.0, 0);
    assert_eq!(name.as_deref(), Some("net-rx"));
}

#[test]
fn slots_are_per_thread_and_start_at_zero() {
    let posix = Posix::new(PosixConfig::default());
    posix.set_thread_slot(0x1000);
    let (inner, (report, seen)) = (posix.clone(), mpsc::channel());
    let entry = Box::new(move || {
        let initial = inner.thread_slot();
        inner.set_thread_slot(0x2000);
        report
            .send((initial, inner.thread_slot()))
            .expect("receiver alive");
    });
    let thread = posix
        .thread_create(spec("slotted", true), entry)
        .expect("spawn");
    assert_eq!(join(&posix, thread), Ok(()));
    assert_eq!(seen.recv().expect("sent"), (0, 0x2000));
    assert_eq!(posix.thread_slot(), 0x1000);
}

#[test]
fn stack_size_is_honoured_and_absurd_sizes_are_refused() {
    let posix = Posix::new(PosixConfig {
        memory_limit: 64 << 20,
        ..PosixConfig::default()
    });
    let big = ThreadSpec {
        name: "deep",
        stack_size: 16 << 20,
        joinable: true,
    };
    // 3 MiB on the stack overflows std's 2 MiB default but fits in 16 MiB.
    let entry = Box::new(|| {
        let frame = [1u8; 3 << 20];
        std::hint::black_box(&frame);
    });
    let thread = posix.thread_create(big, entry).expect("spawn");
    assert_eq!(join(&posix, thread), Ok(()));
    let absurd = ThreadSpec {
        name: "absurd",
        stack_size: usize::MAX,
        joinable: true,
    };
    assert_eq!(
        posix.thread_create(absurd, Box::new(|| {})),
        Err(ThreadError::OutOfMemory)
    );
}

#[test]
#[should_panic(expected = "which hypercall-posix did not create")]
fn thread_exit_on_a_foreign_thread_is_a_kernel_bug() {
    Posix::new(PosixConfig::default()).thread_exit();
}

#[test]
fn a_panicking_entry_is_logged_and_join_still_succeeds() {
    let capture = ConsoleCapture::new();
    let config = PosixConfig {
        console: ConsoleSink::Capture(capture.clone()),
        ..PosixConfig::default()
    };
    let posix = Posix::new(config);
    let entry = Box::new(|| panic!("driver bug {}", 42));
    let thread = posix
        .thread_create(spec("panicker", true), entry)
        .expect("spawn");
    assert_eq!(join(&posix, thread), Ok(()));
    let expected = format!("thread {thread} ended by a panic: driver bug 42\n");
    assert!(
        capture.text().contains(&expected),
        "console: {:?}",
        capture.text()
    );
}

#[test]
fn an_unwind_exit_in_a_thread_reaches_its_joiner() {
    let posix = Posix::new(PosixConfig {
        exit: ExitMode::Unwind,
        ..PosixConfig::default()
    });
    let inner = posix.clone();
    let entry = Box::new(move || inner.exit(ExitStatus::Failure(9)));
    let thread = posix
        .thread_create(spec("exiting", true), entry)
        .expect("spawn");
    let outcome = run_with_deadline(|| KernelExit::catch(|| posix.thread_join(thread)));
    assert_eq!(outcome, Err(KernelExit(ExitStatus::Failure(9))));
}

#[test]
fn yield_returns_and_detached_threads_run() {
    let posix = Posix::new(PosixConfig::default());
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let entry = Box::new(move || flag.store(true, Ordering::SeqCst));
    posix
        .thread_create(spec("detached", false), entry)
        .expect("spawn");
    wait_for("the detached thread", || {
        posix.thread_yield();
        ran.load(Ordering::SeqCst)
    });
}
