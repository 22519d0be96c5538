//! The CMOS real-time clock: boot wall time, `wall_ns`, periodic interrupt.
//!
//! The RTC keeps calendar time in whole seconds, in BCD or binary and in 12-
//! or 24-hour form (status register B says which). Reads avoid the update
//! cycle: wait for update-in-progress to clear, read, and repeat until two
//! reads agree. The century comes from register 0x32 when it holds a
//! plausible value (QEMU and most firmware), else years 00..=69 are 20xx.
//! `wall_ns` is the boot reading plus monotonic time since, so it has the
//! RTC's one-second granularity as its offset error. Decoding and the date
//! arithmetic are pure and tested on the host.

use core::fmt;

/// Why the RTC could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcError {
    /// No RTC answers (its registers read as all ones).
    Absent,
    /// The update cycle never ended, or two reads never agreed.
    Busy,
    /// A field is out of range or not valid BCD.
    InvalidValue,
}

impl fmt::Display for RtcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Absent => "no CMOS real-time clock",
            Self::Busy => "RTC update never settled",
            Self::InvalidValue => "RTC holds an invalid date or time",
        })
    }
}

impl core::error::Error for RtcError {}

/// A calendar date and time (UTC, as QEMU and most PCs keep the RTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Full year, e.g. 2026.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
}

impl DateTime {
    /// Seconds since 1970-01-01 00:00:00 UTC.
    ///
    /// # Errors
    /// [`RtcError::InvalidValue`] for an impossible date, or one before 1970.
    pub fn unix_seconds(&self) -> Result<u64, RtcError> {
        let valid_day = (1..=days_in_month(self.year, self.month)).contains(&self.day);
        if !valid_day || self.hour > 23 || self.minute > 59 || self.second > 59 {
            return Err(RtcError::InvalidValue);
        }
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        let seconds = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        u64::try_from(seconds).map_err(|_| RtcError::InvalidValue)
    }

    /// Nanoseconds since 1970-01-01 00:00:00 UTC.
    ///
    /// # Errors
    /// As [`unix_seconds`](Self::unix_seconds), and for dates after 2554,
    /// whose nanoseconds do not fit in a `u64`.
    pub fn unix_nanoseconds(&self) -> Result<u64, RtcError> {
        self.unix_seconds()?
            .checked_mul(1_000_000_000)
            .ok_or(RtcError::InvalidValue)
    }
}

fn is_leap(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

/// Days in `month` of `year` (0 for a month outside 1..=12).
fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (negative
/// before it); Howard Hinnant's `days_from_civil`. `month` is 1..=12.
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The RTC's time registers as read, before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registers {
    /// Register 0x00.
    pub second: u8,
    /// Register 0x02.
    pub minute: u8,
    /// Register 0x04 (bit 7: PM in 12-hour mode).
    pub hour: u8,
    /// Register 0x07.
    pub day: u8,
    /// Register 0x08.
    pub month: u8,
    /// Register 0x09 (two digits).
    pub year: u8,
    /// Register 0x32 (two digits), if the firmware keeps one.
    pub century: u8,
    /// Status register B (bit 1: 24-hour, bit 2: binary).
    pub status_b: u8,
}

const STATUS_B_24_HOUR: u8 = 1 << 1;
const STATUS_B_BINARY: u8 = 1 << 2;
const HOUR_PM: u8 = 1 << 7;

impl Registers {
    /// Decodes BCD or binary, 12- or 24-hour values into a date.
    ///
    /// # Errors
    /// [`RtcError::InvalidValue`] for a bad BCD digit or field.
    pub fn decode(&self) -> Result<DateTime, RtcError> {
        let binary = self.status_b & STATUS_B_BINARY != 0;
        let number = |raw: u8| if binary { Ok(raw) } else { from_bcd(raw) };
        let hour = self.decode_hour(number(self.hour & !HOUR_PM)?)?;
        let two_digit_year = number(self.year)?;
        let century = number(self.century)
            .ok()
            .filter(|century| (19..=30).contains(century));
        let century = century.unwrap_or(if two_digit_year < 70 { 20 } else { 19 });
        if two_digit_year > 99 {
            return Err(RtcError::InvalidValue);
        }
        let time = DateTime {
            year: u16::from(century) * 100 + u16::from(two_digit_year),
            month: number(self.month)?,
            day: number(self.day)?,
            hour,
            minute: number(self.minute)?,
            second: number(self.second)?,
        };
        time.unix_seconds().map(|_| time)
    }

    fn decode_hour(&self, hour: u8) -> Result<u8, RtcError> {
        if self.status_b & STATUS_B_24_HOUR != 0 {
            return Ok(hour);
        }
        let pm = self.hour & HOUR_PM != 0;
        match (hour, pm) {
            (1..=11, false) => Ok(hour),
            (12, false) => Ok(0),
            (1..=11, true) => Ok(hour + 12),
            (12, true) => Ok(12),
            _ => Err(RtcError::InvalidValue),
        }
    }
}

fn from_bcd(raw: u8) -> Result<u8, RtcError> {
    let (tens, ones) = (raw >> 4, raw & 0x0f);
    if tens > 9 || ones > 9 {
        return Err(RtcError::InvalidValue);
    }
    Ok(tens * 10 + ones)
}

#[cfg(target_os = "none")]
mod hardware;
#[cfg(target_os = "none")]
pub use hardware::{
    acknowledge_interrupt, init, read, set_periodic_interrupt, wait_for_second_edge, wall_ns,
};

#[cfg(test)]
mod tests;
