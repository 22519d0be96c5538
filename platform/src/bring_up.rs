//! The machine bring-up order, in one function the image calls once.
//!
//! [`init`]: CPU features → PIC remap and mask, local APIC, I/O APIC (and
//! further ones the ACPI MADT lists) → TSC calibration. A failing step is printed at once and recorded in the
//! [`Report`]; later steps still run when they can. Interrupts stay
//! disabled: the caller enables them.
//!
//! Boot time is dominated by code that runs for the first time (under TCG
//! each new block of guest code is translated, ~10 µs here), so whatever
//! boot does not need waits for its first use: the RTC is read at the
//! first `rtc::wall_ns`, PCI is scanned and assigned at the first
//! `pci::init` (which `hypercall-bm` calls when the kernel first asks for
//! the bus). Each boot phase is marked for `boot::trace`.

use core::fmt;

use crate::boot::{BootInfo, trace};
use crate::interrupts::{self, InterruptError, Mode};
use crate::timer::{self, Calibration, TimerError};
use crate::{acpi, cpu, println};

/// What each bring-up step produced.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Which controller carries interrupts.
    pub interrupts: Result<Mode, InterruptError>,
    /// The TSC calibration (and wakeup timer setup).
    pub timer: Result<Calibration, TimerError>,
    /// TSC ticks `init` took in total.
    pub elapsed_ticks: u64,
}

/// Brings up the machine layer; see the module docs for the order.
pub fn init(info: &BootInfo) -> Report {
    let started = cpu::rdtsc();
    let features = cpu::features();
    // Under a hypervisor the VMM keeps the TSC steady (QEMU's TCG passes
    // the host's through) even when CPUID does not say so.
    if !features.invariant_tsc && features.hypervisor.is_none() {
        println!("platform: warning: TSC not reported invariant; monotonic time may drift");
    }
    trace::mark("cpu features");
    let interrupts = interrupts::init();
    if interrupts == Ok(Mode::IoApic) {
        add_io_apics(info);
    }
    trace::mark("interrupt controllers");
    let window = timer::begin_calibration(timer::DEFAULT_WINDOW_NS);
    trace::mark("calibration start");
    let timer = window.and_then(|window| timer::finish_calibration(window, info.entry_tsc));
    trace::mark("calibration end");
    let report = Report {
        interrupts,
        timer,
        elapsed_ticks: cpu::rdtsc() - started,
    };
    report.print_failures();
    report
}

/// Adds the I/O APICs beyond the first that the MADT lists.
fn add_io_apics(info: &BootInfo) {
    acpi::machine::io_apics(info.rsdp, |entry| {
        let base = u64::from(entry.address);
        if base == interrupts::io_apic::DEFAULT_BASE {
            return;
        }
        if let Err(error) = interrupts::add_io_apic(base, entry.gsi_base) {
            println!("platform: I/O APIC at {base:#x}: {error}");
        }
    });
}

impl Report {
    fn print_failures(&self) {
        if let Err(error) = self.interrupts {
            println!("platform: interrupts: {error}");
        }
        if let Err(error) = self.timer {
            println!("platform: timer: {error}");
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.interrupts {
            Ok(mode) => writeln!(f, "interrupts: {mode:?}")?,
            Err(error) => writeln!(f, "interrupts: FAILED: {error}")?,
        }
        match &self.timer {
            Ok(calibration) => writeln!(f, "timer: {}", CalibrationDisplay(calibration))?,
            Err(error) => writeln!(f, "timer: FAILED: {error}")?,
        }
        let elapsed_us =
            timer::tsc_hz().map(|hz| timer::scale::ns_in(self.elapsed_ticks, hz) / 1000);
        write!(
            f,
            "init: {} TSC ticks ({} µs)",
            self.elapsed_ticks,
            elapsed_us.unwrap_or(0)
        )
    }
}

struct CalibrationDisplay<'a>(&'a Calibration);

impl fmt::Display for CalibrationDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let calibration = self.0;
        let hz = calibration.tsc_hz;
        let window_us = timer::scale::ns_in(calibration.window_ticks, hz) / 1000;
        let busy_us = timer::scale::ns_in(calibration.busy_ticks, hz) / 1000;
        write!(
            f,
            "TSC {hz} Hz against {:?} (window {window_us} µs, {busy_us} µs of it in calibration \
             code, ±{} ppm), APIC timer {} Hz",
            calibration.reference,
            calibration.uncertainty_ppm,
            calibration.apic_timer_hz.unwrap_or(0)
        )
    }
}
