//! `test=threads`: kernel threads contend for mutexes, condvars and
//! rwlocks, blocking while holding them; every update must survive.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use kernel::base::sync::{Condvar, Mutex, RwLock};

use super::{Case, Outcome, wait_until};

const WORKERS: usize = 16;
const ROUNDS: u64 = 300;
const PING_PONGS: u64 = 500;
const DEADLINE_NS: u64 = 60_000_000_000;

pub(super) fn run(case: &Case<'_>) -> Outcome {
    mutex_contention(case)?;
    ping_pong(case)?;
    readers_and_writers(case)
}

/// Workers add to a counter that only a kernel mutex protects, yielding
/// the CPU while holding it now and then.
fn mutex_contention(case: &Case<'_>) -> Outcome {
    let shared = Arc::new((Mutex::new((0u64, 0usize)), Condvar::new()));
    for worker in 0..WORKERS {
        let shared = shared.clone();
        case.kernel
            .spawn_detached("contender", move |context| {
                for round in 0..ROUNDS {
                    let mut guard = shared.0.lock(context);
                    let before = guard.0;
                    if (round + worker as u64).is_multiple_of(7) {
                        context.yield_now();
                    }
                    guard.0 = before + 1;
                }
                shared.0.lock(context).1 += 1;
                shared.1.notify_all(context);
            })
            .map_err(|e| format!("spawn: {e}"))?;
    }
    let deadline = case.context.now_ns() + DEADLINE_NS;
    wait_until(case, &shared.0, &shared.1, deadline, |s| s.1 == WORKERS)?;
    let total = shared.0.lock(case.context).0;
    case.report.line(format_args!("mutex: {total} increments"));
    check(total == WORKERS as u64 * ROUNDS, "mutex lost updates")
}

/// Two threads hand a counter back and forth through one condvar.
fn ping_pong(case: &Case<'_>) -> Outcome {
    let shared = Arc::new((Mutex::new(0u64), Condvar::new()));
    let mut players = Vec::new();
    for parity in 0..2u64 {
        let shared = shared.clone();
        let player = case
            .kernel
            .spawn("player", move |context| {
                let mut turn = shared.0.lock(context);
                while *turn < 2 * PING_PONGS {
                    turn = shared
                        .1
                        .wait_while(turn, |t| *t % 2 != parity && *t < 2 * PING_PONGS);
                    if *turn < 2 * PING_PONGS {
                        *turn += 1;
                        shared.1.notify_all(context);
                    }
                }
            })
            .map_err(|e| format!("spawn: {e}"))?;
        players.push(player);
    }
    for player in players {
        player
            .join(case.context)
            .map_err(|e| format!("join: {e}"))?;
    }
    let turns = *shared.0.lock(case.context);
    case.report.line(format_args!("condvar: {turns} turns"));
    check(turns == 2 * PING_PONGS, "ping-pong turns lost")
}

/// Writers append pairs atomically; readers must never see half a pair.
fn readers_and_writers(case: &Case<'_>) -> Outcome {
    let log = Arc::new(RwLock::new(Vec::<u64>::new()));
    let torn = Arc::new(Mutex::new(0u64));
    let mut threads = Vec::new();
    for index in 0..6u64 {
        let (log, torn) = (log.clone(), torn.clone());
        let body = move |context: &kernel::Context<'_>| {
            for round in 0..100 {
                if index < 2 {
                    let mut entries = log.write(context);
                    entries.push(round);
                    context.yield_now();
                    entries.push(round);
                } else {
                    let entries = log.read(context);
                    context.yield_now();
                    if entries.len() % 2 != 0 {
                        *torn.lock(context) += 1;
                    }
                }
            }
        };
        threads.push(
            case.kernel
                .spawn("rw", body)
                .map_err(|e| format!("spawn: {e}"))?,
        );
    }
    for thread in threads {
        thread
            .join(case.context)
            .map_err(|e| format!("join: {e}"))?;
    }
    let entries = log.read(case.context).len();
    let torn = *torn.lock(case.context);
    case.report
        .line(format_args!("rwlock: {entries} entries, {torn} torn reads"));
    check(
        entries == 400 && torn == 0,
        "rwlock let a reader see a half write",
    )
}

fn check(ok: bool, reason: &str) -> Outcome {
    if ok { Ok(()) } else { Err(reason.into()) }
}
