//! CMOS access: reading the clock once, `wall_ns`, the periodic interrupt.
//!
//! The clock is read at the first [`wall_ns`] (or an explicit [`init`]),
//! not at boot: boot does not need the date, and the read costs about a
//! millisecond of first-run code under emulation.
//!
//! The index/data port pair (0x70/0x71) is made atomic by a lock taken with
//! interrupts disabled. Writing the index leaves bit 7 clear: NMIs stay
//! enabled. Register C must be read after every RTC interrupt, or the RTC
//! raises no further ones.

use core::sync::atomic::{AtomicBool, Ordering};

use spin::{Mutex, Once};

use super::{DateTime, Registers, RtcError};
use crate::port::OwnedPort;
use crate::{cpu, timer};

// SAFETY: the CMOS index and data ports belong to this module alone; the
// RTC raises IRQ 8 at most, and only the status registers are written.
const INDEX: OwnedPort<u8> = unsafe { OwnedPort::new(0x70) };
// SAFETY: as for INDEX.
const DATA: OwnedPort<u8> = unsafe { OwnedPort::new(0x71) };
const STATUS_A: u8 = 0x0a;
const STATUS_B: u8 = 0x0b;
const STATUS_C: u8 = 0x0c;
const UPDATE_IN_PROGRESS: u8 = 1 << 7;
const PERIODIC_ENABLE: u8 = 1 << 6;
/// Polls of status A while waiting for an update to end (an update takes
/// under 2 ms; one poll is two port accesses).
const UPDATE_POLLS: u32 = 20_000;
/// Attempts at two agreeing reads.
const READ_ATTEMPTS: u32 = 5;

static CMOS: Mutex<()> = Mutex::new(());
/// Wall-clock ns minus monotonic ns, fixed at boot.
static WALL_OFFSET: Once<u64> = Once::new();
/// (unix ns, TSC) of the first reading, kept until the clock is calibrated.
static BOOT_READING: Once<(u64, u64)> = Once::new();
/// Whether `wall_ns` already tried (and maybe failed) to read the RTC.
static READ_TRIED: AtomicBool = AtomicBool::new(false);

fn read_register(register: u8) -> u8 {
    cpu::without_interrupts(|| {
        let _pair = CMOS.lock();
        INDEX.write(register);
        DATA.read()
    })
}

fn write_register(register: u8, value: u8) {
    cpu::without_interrupts(|| {
        let _pair = CMOS.lock();
        INDEX.write(register);
        DATA.write(value);
    })
}

fn wait_for_update_end() -> Result<(), RtcError> {
    let settled = (0..UPDATE_POLLS).any(|_| read_register(STATUS_A) & UPDATE_IN_PROGRESS == 0);
    if settled { Ok(()) } else { Err(RtcError::Busy) }
}

fn read_registers() -> Registers {
    Registers {
        second: read_register(0x00),
        minute: read_register(0x02),
        hour: read_register(0x04),
        day: read_register(0x07),
        month: read_register(0x08),
        year: read_register(0x09),
        century: read_register(0x32),
        status_b: read_register(STATUS_B),
    }
}

/// Reads the current date and time.
///
/// # Errors
/// [`RtcError::Absent`], [`RtcError::Busy`], [`RtcError::InvalidValue`].
pub fn read() -> Result<DateTime, RtcError> {
    if read_register(STATUS_B) == 0xff && read_register(STATUS_A) == 0xff {
        return Err(RtcError::Absent);
    }
    for _ in 0..READ_ATTEMPTS {
        wait_for_update_end()?;
        let first = read_registers();
        wait_for_update_end()?;
        if read_registers() == first {
            return first.decode();
        }
    }
    Err(RtcError::Busy)
}

/// Reads the RTC and remembers it for [`wall_ns`] (the first successful
/// reading counts). Works before the timer is calibrated (the TSC of the
/// reading is kept).
///
/// # Errors
/// As [`read`]; [`wall_ns`] then counts from 1970.
pub fn init() -> Result<DateTime, RtcError> {
    let time = read()?;
    let tsc = cpu::rdtsc();
    let unix_ns = time.unix_nanoseconds()?;
    BOOT_READING.call_once(|| (unix_ns, tsc));
    Ok(time)
}

/// Nanoseconds since 1970-01-01 UTC: the first reading plus monotonic
/// time since (0 + monotonic time if the RTC could not be read). The first
/// call reads the RTC (a failure is printed once). Never sleeps; the first
/// call may poll the RTC until an update cycle ends (under 2 ms).
pub fn wall_ns() -> u64 {
    if !READ_TRIED.swap(true, Ordering::Relaxed)
        && BOOT_READING.get().is_none()
        && let Err(error) = init()
    {
        crate::println!("platform: real-time clock: {error} (wall time counts from 1970)");
    }
    let offset = WALL_OFFSET.get().copied().or_else(|| {
        let &(unix_ns, tsc) = BOOT_READING.get()?;
        timer::calibration()?;
        let offset = unix_ns.saturating_sub(timer::ns_at_tsc(tsc));
        Some(*WALL_OFFSET.call_once(|| offset))
    });
    offset.unwrap_or(0).saturating_add(timer::monotonic_ns())
}

/// Waits for the seconds register to change and returns the TSC at that
/// edge (the midpoint of the poll that saw it), within `timeout_ns` of
/// monotonic time. A change counts once a second read agrees (a read
/// during an update cycle may be torn). The update-in-progress flag is
/// not used: QEMU latches it until its update timer runs, which is late
/// by the emulator's timer latency. Used to measure clocks against the RTC.
///
/// # Errors
/// [`RtcError::Absent`], or [`RtcError::Busy`] if no edge came in time,
/// and at once before the timer is calibrated (no deadline could be kept).
pub fn wait_for_second_edge(timeout_ns: u64) -> Result<u64, RtcError> {
    if read_register(STATUS_B) == 0xff && read_register(STATUS_A) == 0xff {
        return Err(RtcError::Absent);
    }
    if timer::calibration().is_none() {
        return Err(RtcError::Busy);
    }
    let deadline = timer::monotonic_ns().saturating_add(timeout_ns);
    let previous = read_register(0x00);
    while timer::monotonic_ns() < deadline {
        let before = cpu::rdtsc();
        let value = read_register(0x00);
        let tsc = before + (cpu::rdtsc() - before) / 2;
        if value != previous && read_register(0x00) == value {
            return Ok(tsc);
        }
    }
    Err(RtcError::Busy)
}

/// Starts (rate 3..=15: 32768 >> (rate - 1) Hz) or stops (`None`) the
/// periodic interrupt on ISA IRQ 8. Each interrupt must be acknowledged
/// with [`acknowledge_interrupt`].
pub fn set_periodic_interrupt(rate: Option<u8>) {
    cpu::without_interrupts(|| {
        if let Some(rate) = rate {
            let status_a = read_register(STATUS_A);
            write_register(STATUS_A, (status_a & 0xf0) | (rate.clamp(3, 15) & 0x0f));
        }
        let status_b = read_register(STATUS_B);
        let status_b = match rate {
            Some(_) => status_b | PERIODIC_ENABLE,
            None => status_b & !PERIODIC_ENABLE,
        };
        write_register(STATUS_B, status_b);
        acknowledge_interrupt();
    });
}

/// Reads status register C, which acknowledges an RTC interrupt; returns
/// its flags (bit 6 periodic, bit 5 alarm, bit 4 update ended).
pub fn acknowledge_interrupt() -> u8 {
    read_register(STATUS_C)
}
