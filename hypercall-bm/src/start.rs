//! Bringing the machine up and handing it to the image's main function.

use alloc::sync::Arc;

use hypercall::{Exit, ExitStatus};
use platform::boot::BootInfo;
use platform::{bring_up, cpu, power, println};
use scheduler::Scheduler;

use crate::bare_metal::BareMetal;
use crate::heap::{HEAP, Region};
use crate::scheduling::SchedulerPlatform;
use crate::{boot_trace, global};

/// Failure code when the machine cannot even start (no RAM for a heap).
const START_FAILURE_CODE: u8 = 60;

/// Brings up heap, machine, scheduler and interrupts, runs `main` as the
/// first thread, and exits with what it returns.
pub fn start(info: &'static BootInfo, main: fn(Arc<BareMetal>) -> ExitStatus) -> ! {
    let regions = info.usable_memory.iter().map(|region| Region {
        start: region.start,
        end: region.end,
    });
    if let Err(error) = HEAP.init(regions) {
        println!("anykernel: cannot start: no RAM for the heap ({error})");
        power::exit(power::failure_value(START_FAILURE_CODE));
    }
    boot_trace::mark("heap");
    let report = bring_up::init(info);
    global::install(Scheduler::new(SchedulerPlatform));
    cpu::enable_interrupts();
    boot_trace::mark("scheduler");
    let host = Arc::new(BareMetal::new(info, report));
    boot_trace::configure(info.command_line.as_str());
    boot_trace::mark("host");
    let status = main(host.clone());
    host.exit(status)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    platform::panic::report(info)
}
