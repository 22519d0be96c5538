//! Machine diagnostics for the test image: faults on purpose, raw figures.

use alloc::boxed::Box;

use platform::cpu;
use scheduler::SpawnSpec;

use crate::global::scheduler;

/// Executes an invalid instruction: the platform reports the exception
/// (registers, backtrace) and ends the machine with failure 62.
pub fn raise_invalid_opcode() {
    platform::faults::raise_invalid_opcode();
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
