//! The one-shot wakeup timer: its interrupt only ends a `hlt`.
//!
//! The local APIC timer in one-shot mode (divide-by-1, calibrated rate)
//! when there is an APIC; otherwise PIT channel 0 through the PIC (IRQ 0).
//! A deadline too far for the counter (2^32 APIC ticks: 4.3 s at 1 GHz;
//! 65535 PIT ticks: 55 ms) fires early: callers re-check their deadline
//! after waking, as they must anyway for other interrupts.
//!
//! Every register access is a VM exit under a hypervisor and takes
//! QEMU's global lock under TCG, and the scheduler sets the timer each
//! time it idles: so the APIC timer's vector is set once, arming it is one
//! write, and a timer already armed for the deadline or earlier is left
//! as it is, as is one asked to stop: it fires early at worst, and the
//! callers re-check their deadlines anyway. Timers that are pushed later
//! on every packet (a retransmission deadline) so cost no write.

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Once;

use super::{TimerError, clock, pit, scale};
use crate::interrupts::{self, Handler, InterruptError, Source, Vector, local_apic};

#[derive(Debug, Clone, Copy)]
enum Device {
    ApicTimer { hz: u64, vector: Vector },
    Pit { vector: Vector },
}

static DEVICE: Once<Device> = Once::new();

/// The deadline the APIC timer is armed for; [`DISARMED`] when it has
/// fired (or was never armed). Only changed with interrupts off (idling,
/// and the interrupt handler), on the one CPU.
static ARMED: AtomicU64 = AtomicU64::new(DISARMED);
const DISARMED: u64 = u64::MAX;

fn wake(_context: usize) {
    ARMED.store(DISARMED, Ordering::Relaxed);
}

/// Chooses and installs the wakeup device.
pub fn setup(apic_timer_hz: Option<u64>) -> Result<(), TimerError> {
    if DEVICE.get().is_some() {
        return Ok(());
    }
    let handler = Handler {
        function: wake,
        context: 0,
    };
    let device = match (local_apic::get(), apic_timer_hz) {
        (Some(apic), Some(hz)) => {
            let vector = interrupts::install_local(interrupts::WAKEUP_VECTOR, handler);
            apic.configure_timer(interrupts::WAKEUP_VECTOR);
            Device::ApicTimer {
                hz,
                vector: vector.map_err(TimerError::Interrupt)?,
            }
        }
        (None, _) => {
            let vector = interrupts::register(Source::Isa(0), handler);
            let vector = vector.map_err(TimerError::Interrupt)?;
            interrupts::mask(vector).map_err(TimerError::Interrupt)?;
            Device::Pit { vector }
        }
        (Some(_), None) => return Err(TimerError::NoWakeupDevice),
    };
    DEVICE.call_once(|| device);
    Ok(())
}

/// Arms the APIC timer for `deadline_ns`, `delay` from now, unless it is
/// armed for then or earlier; `None` leaves an armed timer to fire.
fn arm_apic_timer(hz: u64, deadline_ns: Option<u64>, delay: Option<u64>) -> Result<(), TimerError> {
    let armed = Some(ARMED.load(Ordering::Relaxed)).filter(|&armed| armed != DISARMED);
    let (Some(wanted), Some(delay)) = (scale::deadline_to_arm(armed, deadline_ns), delay) else {
        return Ok(());
    };
    let apic = local_apic::get().ok_or(TimerError::NoWakeupDevice)?;
    let ticks = scale::ticks_in(delay, hz).clamp(1, u64::from(u32::MAX));
    apic.arm_timer(ticks as u32);
    ARMED.store(wanted, Ordering::Relaxed);
    Ok(())
}

/// The wakeup timer's vector, once set up.
pub fn vector() -> Option<Vector> {
    DEVICE.get().map(|device| match *device {
        Device::ApicTimer { vector, .. } | Device::Pit { vector } => vector,
    })
}

/// Arms the timer to interrupt at `deadline_ns` (monotonic), at once if
/// it has passed; `None` disarms it.
pub fn set(deadline_ns: Option<u64>) -> Result<(), TimerError> {
    let device = *DEVICE.get().ok_or(TimerError::NotCalibrated)?;
    let delay = deadline_ns.map(|deadline| deadline.saturating_sub(clock::monotonic_ns()));
    match (device, delay) {
        (Device::ApicTimer { hz, .. }, _) => arm_apic_timer(hz, deadline_ns, delay)?,
        (Device::Pit { vector }, None) => {
            interrupts::mask(vector).map_err(TimerError::Interrupt)?
        }
        (Device::Pit { vector }, Some(delay)) => {
            let ticks = scale::ticks_in(delay, pit::FREQUENCY_HZ).clamp(1, 0xffff);
            pit::start_channel0_one_shot(ticks as u16);
            interrupts::unmask(vector)
                .map_err(|error: InterruptError| TimerError::Interrupt(error))?;
        }
    }
    Ok(())
}
