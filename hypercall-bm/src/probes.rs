//! Machine diagnostics for the test image: faults on purpose, raw figures.

use alloc::boxed::Box;

use platform::cpu;
use scheduler::SpawnSpec;

use crate::global::scheduler;

/// Ends the machine the way `name` says (`platform::faults::Failure`:
/// a CPU exception, reported with failure 62, or a panic, failure 63);
/// returns only for a name that is none of them.
pub fn fail_on_purpose(name: &str) {
    if let Some(failure) = platform::faults::Failure::named(name) {
        platform::faults::raise(failure);
    }
}

/// Whether `int` on a vector nobody registered returns with every general
/// register intact, 1,000 times.
pub fn interrupt_preserves_registers() -> bool {
    platform::faults::interrupt_preserves_registers(1_000)
}

/// The cost of one bare context switch, in TSC cycles: the calling thread
/// and a helper thread yield to each other `rounds` times each, below the
/// kernel (no virtual CPU, no hypercall). `None` if no thread could start.
pub fn context_switch_cycles(rounds: u32) -> Option<u64> {
    let scheduler = scheduler();
    let spec = SpawnSpec {
        name: "switch-bench",
        stack_size: 0,
        joinable: true,
    };
    let partner = scheduler
        .spawn(
            spec,
            Box::new(move || {
                for _ in 0..rounds {
                    crate::global::scheduler().yield_now();
                }
            }),
        )
        .ok()?;
    // Let the partner start, so that every measured yield switches.
    scheduler.yield_now();
    let start = cpu::rdtsc();
    for _ in 0..rounds {
        scheduler.yield_now();
    }
    let elapsed = cpu::rdtsc() - start;
    scheduler.join(partner).ok()?;
    Some(elapsed / (2 * u64::from(rounds)))
}
