//! Tests of switching: yield order, many threads, parallel schedulers.

use std::{boxed::Box, format, string::String, sync::Arc, thread, vec::Vec};

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
