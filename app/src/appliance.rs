//! The appliance: boots the kernel, starts its workload, says it is ready.
//!
//! Until the network faction arrives, the workload is a small relay that
//! keeps the kernel's machinery honest at a trickle of CPU: a callout ticks
//! once a second and hands a token round a ring of kernel threads through
//! a mutex and a condition variable; every minute the kernel logs what it
//! did. The appliance then runs until the machine is stopped.

use alloc::sync::Arc;

use kernel::base::callout::Callout;
use kernel::base::sync::{Condvar, Mutex};
use kernel::hypercall::ExitStatus;
use kernel::{Context, Kernel};

use crate::{Host, say};

/// Threads in the relay ring.
const RING_SIZE: usize = 4;
/// How often the token goes round.
const TICK_NS: u64 = 1_000_000_000;
/// Ticks between log lines.
const TICKS_PER_REPORT: u64 = 60;

/// The relay's shared state.
struct Relay {
    state: Mutex<RelayState>,
    changed: Condvar,
}

struct RelayState {
    /// Which ring member holds the token, if a round is under way.
    holder: Option<usize>,
    rounds: u64,
    hops: u64,
}

/// Boots and runs the appliance; returns only if the boot fails.
pub fn run(host: Host) -> ExitStatus {
    let kernel = match kernel::boot(host.clone()) {
        Ok(kernel) => kernel,
        Err(error) => {
            say(&*host, format_args!("anykernel: boot failed: {error}"));
            return ExitStatus::Failure(1);
        }
    };
    let binding = match kernel.bind_thread() {
        Ok(binding) => binding,
        Err(error) => {
            say(&*host, format_args!("anykernel: {error}"));
            return ExitStatus::Failure(1);
        }
    };
    let context = binding.enter();
    let relay = match start_relay(&kernel, &context) {
        Ok(relay) => relay,
        Err(error) => {
            say(&*host, format_args!("anykernel: workload failed: {error}"));
            return ExitStatus::Failure(1);
        }
    };
    let ready_us = host.clock_monotonic_ns() / 1_000;
    say(&*host, format_args!("anykernel: ready in {ready_us} us"));
    run_until_stopped(&relay, &context)
}

fn start_relay(
    kernel: &Arc<Kernel>,
    context: &Context<'_>,
) -> Result<(Arc<Relay>, Arc<Callout>), kernel::hypercall::ThreadError> {
    let relay = Arc::new(Relay {
        state: Mutex::new(RelayState {
            holder: None,
            rounds: 0,
            hops: 0,
        }),
        changed: Condvar::new(),
    });
    for member in 0..RING_SIZE {
        let relay = relay.clone();
        kernel.spawn_detached("relay", move |context| pass_token(&relay, member, context))?;
    }
    let _ = context;
    Ok((relay.clone(), Arc::new(tick_callout(relay))))
}

/// A callout that starts a round of the relay when it fires.
fn tick_callout(relay: Arc<Relay>) -> Callout {
    Callout::new(move |context| {
        let mut state = relay.state.lock(context);
        if state.holder.is_none() {
            state.holder = Some(0);
            relay.changed.notify_all(context);
        }
    })
}

/// One ring member: waits for the token, passes it on.
fn pass_token(relay: &Relay, member: usize, context: &Context<'_>) {
    let mut state = relay.state.lock(context);
    loop {
        state = relay
            .changed
            .wait_while(state, |state| state.holder != Some(member));
        state.hops += 1;
        state.holder = if member + 1 == RING_SIZE {
            state.rounds += 1;
            None
        } else {
            Some(member + 1)
        };
        relay.changed.notify_all(context);
    }
}

fn run_until_stopped(relay: &(Arc<Relay>, Arc<Callout>), context: &Context<'_>) -> ! {
    let (relay, ticker) = relay;
    let kernel = context.kernel();
    let mut reported = 0;
    loop {
        ticker.schedule_after(context, TICK_NS);
        let mut state = relay.state.lock(context);
        let target = state.rounds + 1;
        state = relay.changed.wait_while(state, |s| s.rounds < target);
        let (rounds, hops) = (state.rounds, state.hops);
        drop(state);
        if rounds >= reported + TICKS_PER_REPORT {
            reported = rounds;
            let callouts = kernel.callouts_fired();
            let memory = kernel.memory().stats();
            log::info!(
                "alive: uptime {} s, {rounds} relay rounds, {hops} hops, {callouts} callouts, {} KiB pages in use",
                kernel.uptime_ns() / 1_000_000_000,
                memory.in_use / 1024
            );
        }
    }
}
