//! Boot-phase timestamps: TSC marks taken during boot, printed on request.
//!
//! Boot code calls [`mark`] as each phase ends; the TSC value is kept in a
//! fixed table of [`CAPACITY`] marks (later marks are dropped, never an
//! error), so marking costs one TSC read and a store and works before the
//! heap exists. Once the clock is calibrated, [`print_new`] writes one line
//! per mark not printed yet: `boot trace: <µs since entry> (+<µs since the
//! previous mark>) <phase>`. `hypercall-bm` prints them whenever the machine
//! goes idle, if the command line holds the flag [`PARAMETER`], so the
//! printing itself never delays a phase it measures.

use spin::Mutex;

use crate::{cpu, println, timer};

/// The boot parameter that asks for the trace.
pub const PARAMETER: &str = "boot.trace";
/// Marks kept; boot takes about a dozen.
pub const CAPACITY: usize = 32;

struct Marks {
    phases: [(&'static str, u64); CAPACITY],
    count: usize,
    /// Marks already printed.
    printed: usize,
}

static MARKS: Mutex<Marks> = Mutex::new(Marks {
    phases: [("", 0); CAPACITY],
    count: 0,
    printed: 0,
});

/// Records that `phase` ended now.
pub fn mark(phase: &'static str) {
    let tsc = cpu::rdtsc();
    cpu::without_interrupts(|| {
        let mut marks = MARKS.lock();
        let count = marks.count;
        if let Some(slot) = marks.phases.get_mut(count) {
            *slot = (phase, tsc);
            marks.count = count + 1;
        }
    });
}

/// Whether `command_line` asks for the trace.
pub fn requested(command_line: &str) -> bool {
    command_line
        .split_ascii_whitespace()
        .any(|word| word == PARAMETER)
}

/// Prints the marks not printed yet (none before the clock is calibrated).
pub fn print_new() {
    if timer::tsc_hz().is_none() {
        return;
    }
    let (phases, from, to) = cpu::without_interrupts(|| {
        let mut marks = MARKS.lock();
        let from = marks.printed;
        marks.printed = marks.count;
        (marks.phases, from, marks.count)
    });
    let mut previous_ns = from
        .checked_sub(1)
        .and_then(|last| phases.get(last))
        .map_or(0, |&(_, tsc)| timer::ns_at_tsc(tsc));
    for &(phase, tsc) in phases.get(from..to).unwrap_or_default() {
        let ns = timer::ns_at_tsc(tsc);
        println!(
            "boot trace: {:>6} us (+{:>5} us) {phase}",
            ns / 1000,
            ns.saturating_sub(previous_ns) / 1000
        );
        previous_ns = ns;
    }
}
