//! Proves time and interrupts under QEMU: calibration (cost and error
//! against the RTC), one-shot wakeups, a self-IPI, ISA IRQs via the
//! interrupt controller, the wall clock.
//!
//! Run on q35+qboot, microvm (`pit=on,pic=on,rtc=on`, and without) and pc.
//! Exits with success only if every check passed; prints measurements.

#![cfg_attr(target_os = "none", no_std, no_main)]

/// On the host (`cargo test` builds every example) this is an empty program.
#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
#[macro_use]
mod support;

#[cfg(target_os = "none")]
mod image {
    use crate::support;

    use core::sync::atomic::{AtomicU32, Ordering};

    use platform::boot::BootInfo;
    use platform::interrupts::{self, Handler, Source};
    use platform::timer::{self, Reference, scale};
    use platform::{cpu, println, rtc};

    platform::entry_point!(main);

    /// Seconds of RTC time over which the clock's error is measured.
    const ACCURACY_SECONDS: usize = 5;

    fn main(info: &'static BootInfo) -> ! {
        let report = platform::machine::init(info);
        let ready_ns = timer::monotonic_ns();
        println!("{report}");
        println!(
            "entry -> machine ready: {} µs (monotonic clock)",
            ready_ns / 1000
        );
        println!("cpu: {:?}", cpu::features());
        check!(report.timer.is_ok(), "timer calibrated");
        if report.timer.is_err() {
            support::finish();
        }
        random();
        compare_references();
        wakeups();
        self_ipi();
        let wall_clock = rtc::init();
        match wall_clock {
            Ok(time) => println!(
                "rtc: {:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
                time.year, time.month, time.day, time.hour, time.minute, time.second
            ),
            Err(error) => println!("rtc: FAILED: {error}"),
        }
        isa_interrupts(wall_clock.is_ok());
        accuracy();
        let statistics = interrupts::statistics();
        println!("interrupt statistics: {statistics:?}");
        check!(statistics.unexpected == 0, "no unexpected vectors");
        support::finish()
    }

    /// RDRAND/RDSEED: values when the CPU has them, `None` when not.
    fn random() {
        let features = cpu::features();
        let (first, second) = (cpu::rdrand64(), cpu::rdrand64());
        let seed = cpu::rdseed64();
        println!("rdrand {first:x?} {second:x?}, rdseed {seed:x?}");
        check!(
            first.is_some() == features.rdrand && (first.is_none() || first != second),
            "RDRAND {} and gives distinct values",
            if features.rdrand { "present" } else { "absent" }
        );
        check!(seed.is_some() == features.rdseed, "RDSEED matches CPUID");
    }

    /// Calibrates against every reference with three window lengths.
    fn compare_references() {
        let boot_hz = timer::calibration().map_or(0, |calibration| calibration.tsc_hz);
        for reference in [
            Reference::Cpuid,
            Reference::Hpet,
            Reference::Pit,
            Reference::ApicTimer,
        ] {
            for window_ns in [100_000, 250_000, 500_000] {
                let started = cpu::rdtsc_ordered();
                let result = timer::calibration::begin_with(reference, window_ns)
                    .and_then(|window| window.finish());
                let spent_us = scale::ns_in(cpu::rdtsc_ordered() - started, boot_hz) / 1000;
                match result {
                    Ok(calibration) => println!(
                        "calibrate {reference:?} {} µs: TSC {} Hz ({:+} ppm vs boot), ±{} ppm, took {spent_us} µs, APIC {:?} (measured {:?})",
                        window_ns / 1000,
                        calibration.tsc_hz,
                        ppm_difference(calibration.tsc_hz, boot_hz),
                        calibration.uncertainty_ppm,
                        calibration.apic_timer_hz,
                        calibration.apic_timer_measured_hz,
                    ),
                    Err(error) => {
                        println!("calibrate {reference:?} {} µs: {error}", window_ns / 1000)
                    }
                }
            }
        }
    }

    fn ppm_difference(value: u64, reference: u64) -> i64 {
        if reference == 0 {
            return 0;
        }
        ((i128::from(value) - i128::from(reference)) * 1_000_000 / i128::from(reference)) as i64
    }

    /// Arms the wakeup timer and halts until the deadline, for several delays
    /// (up to 100 ms: beyond the PIT's range, so the PIT fallback re-arms).
    /// The deadline of the shortest may pass while arming (cold code under
    /// TCG): then the interrupt must still arrive, checked with interrupts on.
    fn wakeups() {
        let vector = timer::wakeup_vector();
        check!(vector.is_some(), "wakeup timer installed ({vector:?})");
        let Some(vector) = vector else { return };
        for delay_ns in [50_000, 1_000_000, 10_000_000, 100_000_000] {
            let before = interrupts::delivered(vector);
            let deadline = timer::monotonic_ns() + delay_ns;
            let mut halts = 0;
            while timer::monotonic_ns() < deadline && halts < 1000 {
                // An idle loop re-arms each time: the timer may fire early
                // (PIT range 55 ms, APIC range 4.3 s).
                let _ = timer::set_wakeup(Some(deadline));
                cpu::halt_until_interrupt();
                halts += 1;
            }
            let woke = timer::monotonic_ns();
            let fired = wait_for_count(|| interrupts::delivered(vector) - before, 1, 50_000_000);
            let late_us = woke.saturating_sub(deadline) / 1000;
            check!(
                woke >= deadline && fired >= 1 && late_us < 20_000,
                "wakeup after {} µs: late by {late_us} µs, {fired} interrupts, {halts} halts",
                delay_ns / 1000
            );
        }
        let _ = timer::set_wakeup(None);
    }

    /// Spins with interrupts enabled until `count()` reaches `wanted` or
    /// `timeout_ns` passed; returns the last count.
    fn wait_for_count(count: impl Fn() -> u32, wanted: u32, timeout_ns: u64) -> u32 {
        let deadline = timer::monotonic_ns() + timeout_ns;
        cpu::enable_interrupts();
        while count() < wanted && timer::monotonic_ns() < deadline {
            core::hint::spin_loop();
        }
        cpu::disable_interrupts();
        count()
    }

    static SOFTWARE_RUNS: AtomicU32 = AtomicU32::new(0);

    fn count_software(context: usize) {
        SOFTWARE_RUNS.fetch_add(context as u32, Ordering::Relaxed);
    }

    /// Registers a software vector, raises it, checks that the handler ran
    /// once interrupts were enabled (and not before).
    fn self_ipi() {
        let handler = Handler {
            function: count_software,
            context: 1,
        };
        let registered = interrupts::register(Source::Software, handler);
        if interrupts::mode() == Some(interrupts::Mode::Pic) {
            let unsupported = registered == Err(interrupts::InterruptError::Unsupported);
            return check!(unsupported, "no local APIC: software vectors unsupported");
        }
        let vector = match registered {
            Ok(vector) => vector,
            Err(error) => return check!(false, "register software vector: {error}"),
        };
        let raised = interrupts::raise(vector);
        let before_enable = SOFTWARE_RUNS.load(Ordering::Relaxed);
        let after = wait_for_count(|| SOFTWARE_RUNS.load(Ordering::Relaxed), 1, 10_000_000);
        check!(
            raised.is_ok() && before_enable == 0 && after == 1,
            "self-IPI on vector {:#x}: raise {raised:?}, runs before sti {before_enable}, after {after}",
            vector.number()
        );
        let message = interrupts::msi_message(vector);
        println!(
            "MSI message for vector {:#x}: {message:x?}",
            vector.number()
        );
        let _ = interrupts::unregister(vector);
    }

    static RTC_TICKS: AtomicU32 = AtomicU32::new(0);
    static PIT_TICKS: AtomicU32 = AtomicU32::new(0);

    fn rtc_tick(_context: usize) {
        rtc::acknowledge_interrupt();
        RTC_TICKS.fetch_add(1, Ordering::Relaxed);
    }

    fn pit_tick(_context: usize) {
        PIT_TICKS.fetch_add(1, Ordering::Relaxed);
    }

    /// Halts until `counter` reaches `wanted` or `timeout_ns` passes.
    fn wait_for(counter: &AtomicU32, wanted: u32, timeout_ns: u64) -> u64 {
        let start = timer::monotonic_ns();
        let deadline = start + timeout_ns;
        while counter.load(Ordering::Relaxed) < wanted && timer::monotonic_ns() < deadline {
            let _ = timer::set_wakeup(Some(deadline));
            cpu::halt_until_interrupt();
        }
        let _ = timer::set_wakeup(None);
        timer::monotonic_ns() - start
    }

    /// The RTC periodic interrupt (ISA IRQ 8) and a PIT one-shot (IRQ 0, GSI 2
    /// on the I/O APIC) through whatever controller the machine has; each only
    /// if the machine has that device.
    fn isa_interrupts(rtc_present: bool) {
        if rtc_present {
            rtc_interrupt();
        } else {
            println!("no RTC: IRQ 8 test skipped");
        }
        if interrupts::mode() == Some(interrupts::Mode::Pic) {
            println!("PIC mode: IRQ 0 is the wakeup timer, tested above");
        } else if timer::pit::start_channel2() {
            pit_interrupt();
        } else {
            println!("no PIT: IRQ 0 test skipped");
        }
    }

    fn rtc_interrupt() {
        let mode = interrupts::mode();
        let handler = Handler {
            function: rtc_tick,
            context: 0,
        };
        match interrupts::register(Source::Isa(8), handler) {
            Ok(vector) => {
                rtc::set_periodic_interrupt(Some(6));
                let took = wait_for(&RTC_TICKS, 16, 100_000_000);
                rtc::set_periodic_interrupt(None);
                let ticks = RTC_TICKS.load(Ordering::Relaxed);
                check!(
                    ticks >= 16,
                    "RTC IRQ 8 at 1024 Hz ({mode:?}, vector {:#x}): {ticks} ticks in {} µs",
                    vector.number(),
                    took / 1000
                );
                let _ = interrupts::unregister(vector);
            }
            Err(error) => check!(false, "register RTC IRQ 8: {error}"),
        }
    }

    fn pit_interrupt() {
        let mode = interrupts::mode();
        let handler = Handler {
            function: pit_tick,
            context: 0,
        };
        match interrupts::register(Source::Isa(0), handler) {
            Ok(vector) => {
                timer::pit::start_channel0_one_shot(1193);
                let took = wait_for(&PIT_TICKS, 1, 100_000_000);
                let ticks = PIT_TICKS.load(Ordering::Relaxed);
                check!(
                    ticks == 1 && took >= 900_000,
                    "PIT IRQ 0 one-shot 1 ms ({mode:?}, vector {:#x}): {ticks} ticks after {} µs",
                    vector.number(),
                    took / 1000
                );
                let _ = interrupts::unregister(vector);
            }
            Err(error) => check!(false, "register PIT IRQ 0: {error}"),
        }
    }

    /// Measures the monotonic clock against RTC second edges: the clock as
    /// it read at each edge (refining in between, as an idle loop would) and
    /// the TSC ticks per RTC second. Medians over the seconds, so that one
    /// late edge (the emulator descheduled while polling) does not count.
    fn accuracy() {
        let Some(boot_hz) = timer::calibration().map(|calibration| calibration.tsc_hz) else {
            return;
        };
        let Ok(mut previous_edge) = rtc::wait_for_second_edge(1_500_000_000) else {
            println!("accuracy: no RTC second edges; skipped");
            return;
        };
        let mut previous_ns = timer::ns_at_tsc(previous_edge);
        let mut clock_ns = [0u64; ACCURACY_SECONDS];
        let mut tsc_ticks = [0u64; ACCURACY_SECONDS];
        for second in 0..ACCURACY_SECONDS {
            let Ok(edge) = rtc::wait_for_second_edge(1_500_000_000) else {
                return;
            };
            let now_ns = timer::ns_at_tsc(edge);
            (clock_ns[second], tsc_ticks[second]) = (now_ns - previous_ns, edge - previous_edge);
            (previous_edge, previous_ns) = (edge, now_ns);
            let refined = timer::refine();
            println!(
                "rtc second {second}: clock {} ns, TSC {} ticks, refined {refined:?}",
                clock_ns[second], tsc_ticks[second]
            );
        }
        let true_hz = median(&mut tsc_ticks);
        let clock_error = ppm_difference(median(&mut clock_ns), 1_000_000_000);
        let boot_error = ppm_difference(boot_hz, true_hz);
        let now_hz = timer::tsc_hz().unwrap_or(0);
        println!(
            "accuracy over {ACCURACY_SECONDS} RTC seconds (medians): clock {clock_error:+} ppm; \
             TSC {true_hz} Hz; boot calibration {boot_hz} Hz = {boot_error:+} ppm; \
             clock rate now {now_hz} Hz = {:+} ppm",
            ppm_difference(now_hz, true_hz)
        );
        check!(
            boot_error.abs() < 5_000,
            "boot calibration within 0.5 % of the RTC"
        );
        check!(clock_error.abs() < 5_000, "clock within 0.5 % of the RTC");
    }

    fn median(values: &mut [u64]) -> u64 {
        values.sort_unstable();
        values[values.len() / 2]
    }
}
