//! Tests of switching: yield order, many threads, float state, parallelism.

use std::{boxed::Box, format, string::String, sync::Arc, thread, vec, vec::Vec};

use super::{Log, Shared, joinable, lock, record, with_scheduler};
use crate::ThreadId;

/// Spawns `names.len()` threads that each log `<name><round>` and yield,
/// `rounds` times; joins them and returns the log.
fn play(scheduler: Shared, names: &[&'static str], rounds: usize) -> Vec<String> {
    let log: Log<String> = Log::default();
    let players: Vec<ThreadId> = names
        .iter()
        .map(|&name| {
            let log = Arc::clone(&log);
            let entry = move || {
                for round in 0..rounds {
                    record(&log, format!("{name}{round}"));
                    scheduler.yield_now();
                }
            };
            scheduler
                .spawn(joinable(name), Box::new(entry))
                .expect("memory for a player")
        })
        .collect();
    for player in players {
        scheduler.join(player).expect("players are joinable");
    }
    lock(&log).clone()
}

fn interleaved(names: &[&str], rounds: usize) -> Vec<String> {
    (0..rounds)
        .flat_map(|round| names.iter().map(move |name| format!("{name}{round}")))
        .collect()
}

#[test]
fn yielding_threads_take_turns_in_fifo_order() {
    with_scheduler(|scheduler| {
        let log = play(scheduler, &["ping", "pong", "pang"], 4);
        assert_eq!(log, interleaved(&["ping", "pong", "pang"], 4));
        // 12 yields each switch; plus at least the switch to the first
        // player and the one back to boot.
        assert!(scheduler.stats().context_switches >= 14);
    });
}

#[test]
fn a_yield_with_nothing_else_runnable_does_not_switch() {
    with_scheduler(|scheduler| {
        for _ in 0..10 {
            scheduler.yield_now();
        }
        assert_eq!(scheduler.stats().context_switches, 0);
        assert_eq!(scheduler.current(), scheduler.current());
    });
}

#[test]
fn two_hundred_threads_run_and_all_results_come_back() {
    with_scheduler(|scheduler| {
        let results: Log<(u64, u64)> = Log::default();
        let threads: Vec<ThreadId> = (0..200u64)
            .map(|number| {
                let results = Arc::clone(&results);
                let entry = move || {
                    scheduler.yield_now();
                    record(&results, (number, number * number));
                };
                scheduler
                    .spawn(joinable("square"), Box::new(entry))
                    .expect("memory for 200 threads")
            })
            .collect();
        assert_eq!(scheduler.stats().threads_alive, 201);
        threads
            .into_iter()
            .for_each(|thread| scheduler.join(thread).expect("joinable"));
        let mut results = lock(&results).clone();
        results.sort_unstable();
        assert_eq!(
            results,
            (0..200)
                .map(|number| (number, number * number))
                .collect::<Vec<_>>()
        );
        let stats = scheduler.stats();
        assert_eq!(
            (
                stats.threads_alive,
                stats.threads_unjoined,
                stats.threads_spawned
            ),
            (1, 0, 200)
        );
        assert_eq!(
            (
                stats.stacks_allocated,
                stats.stacks_freed,
                stats.stack_bytes
            ),
            (200, 200, 0)
        );
    });
}

#[test]
fn schedulers_on_parallel_host_threads_do_not_interfere() {
    let names: [&[&'static str]; 4] = [&["a", "b"], &["c", "d", "e"], &["f"], &["g", "h"]];
    thread::scope(|scope| {
        let players: Vec<_> = names
            .iter()
            .map(|names| {
                scope.spawn(|| {
                    with_scheduler(|scheduler| (play(scheduler, names, 300), scheduler.stats()))
                })
            })
            .collect();
        for (names, player) in names.iter().zip(players) {
            let (log, stats) = player.join().expect("no scheduler test panics");
            assert_eq!(log, interleaved(names, 300));
            assert_eq!(stats.threads_alive, 1);
            assert_eq!(stats.stacks_freed, names.len() as u64);
        }
    });
}

/// MXCSR without its sticky exception flags (bits 0-5).
fn mxcsr() -> u32 {
    let mut value = 0u32;
    // SAFETY: stores the SSE control register into a local u32.
    unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &raw mut value, options(nostack)) };
    value & !0x3f
}

fn set_mxcsr(value: u32) {
    // SAFETY: loads a valid MXCSR value (reserved bits clear) from a local;
    // only rounding and masks change, for the calling thread.
    unsafe { core::arch::asm!("ldmxcsr [{}]", in(reg) &raw const value, options(nostack)) };
}

fn x87_control() -> u16 {
    let mut value = 0u16;
    // SAFETY: stores the x87 control word into a local u16.
    unsafe { core::arch::asm!("fnstcw [{}]", in(reg) &raw mut value, options(nostack)) };
    value
}

fn set_x87_control(value: u16) {
    // SAFETY: loads a valid x87 control word (all exceptions masked) from a
    // local; only precision and rounding change, for the calling thread.
    unsafe { core::arch::asm!("fldcw [{}]", in(reg) &raw const value, options(nostack)) };
}

const DEFAULT_MXCSR: u32 = 0x1f80;
const DEFAULT_X87: u16 = 0x037f;

/// A thread that logs its float state, sets its own, yields, logs again.
fn float_thread(
    scheduler: Shared,
    log: &Log<(&'static str, u32, u16)>,
    mxcsr: u32,
    x87: u16,
) -> ThreadId {
    let log = Arc::clone(log);
    let entry = move || {
        record(&log, ("start", self::mxcsr(), x87_control()));
        set_mxcsr(mxcsr);
        set_x87_control(x87);
        scheduler.yield_now();
        record(&log, ("after yield", self::mxcsr(), x87_control()));
    };
    scheduler
        .spawn(joinable("float"), Box::new(entry))
        .expect("memory for a thread")
}

#[test]
fn float_control_state_is_kept_per_thread() {
    with_scheduler(|scheduler| {
        let boot_state = (mxcsr(), x87_control());
        let log = Log::default();
        let toward_zero = float_thread(scheduler, &log, 0x7f80, 0x027f);
        let round_down = float_thread(scheduler, &log, 0x3f80, 0x0f7f);
        scheduler.join(toward_zero).expect("joinable");
        scheduler.join(round_down).expect("joinable");
        let expected = vec![
            ("start", DEFAULT_MXCSR, DEFAULT_X87),
            ("start", DEFAULT_MXCSR, DEFAULT_X87),
            ("after yield", 0x7f80, 0x027f),
            ("after yield", 0x3f80, 0x0f7f),
        ];
        assert_eq!(*lock(&log), expected);
        assert_eq!((mxcsr(), x87_control()), boot_state);
    });
}
