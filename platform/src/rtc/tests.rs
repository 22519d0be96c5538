//! Host tests of RTC decoding and the date arithmetic.

use super::*;

fn registers_bcd_24h(year: u8, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Registers {
    Registers {
        second,
        minute,
        hour,
        day,
        month,
        year,
        century: 0x20,
        status_b: STATUS_B_24_HOUR,
    }
}

fn date(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> DateTime {
    DateTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
    }
}

#[test]
fn known_unix_times() {
    assert_eq!(date(1970, 1, 1, 0, 0, 0).unix_seconds(), Ok(0));
    assert_eq!(date(2000, 3, 1, 0, 0, 0).unix_seconds(), Ok(951_868_800));
    assert_eq!(date(2038, 1, 19, 3, 14, 8).unix_seconds(), Ok(1 << 31));
    assert_eq!(
        date(2026, 11, 22, 8, 30, 15).unix_seconds(),
        Ok(1_795_336_215)
    );
    assert_eq!(
        date(2024, 2, 29, 23, 59, 59).unix_seconds(),
        Ok(1_709_251_199)
    );
}

#[test]
fn every_day_follows_the_previous_one() {
    let mut previous = date(1970, 1, 1, 0, 0, 0).unix_seconds().unwrap();
    for year in 1970..=2100u16 {
        for month in 1..=12u8 {
            for day in 1..=days_in_month(year, month) {
                let now = date(year, month, day, 0, 0, 0).unix_seconds().unwrap();
                assert!(
                    now == previous || now == previous + 86_400,
                    "{year}-{month}-{day}"
                );
                previous = now;
            }
        }
    }
    assert_eq!(
        previous,
        date(2100, 12, 31, 0, 0, 0).unix_seconds().unwrap()
    );
}

#[test]
fn impossible_dates_are_errors() {
    assert_eq!(
        date(2023, 2, 29, 0, 0, 0).unix_seconds(),
        Err(RtcError::InvalidValue)
    );
    assert_eq!(
        date(2100, 2, 29, 0, 0, 0).unix_seconds(),
        Err(RtcError::InvalidValue)
    );
    assert_eq!(
        date(2026, 13, 1, 0, 0, 0).unix_seconds(),
        Err(RtcError::InvalidValue)
    );
    assert_eq!(
        date(2026, 4, 31, 0, 0, 0).unix_seconds(),
        Err(RtcError::InvalidValue)
    );
    assert_eq!(
        date(2026, 1, 0, 0, 0, 0).unix_seconds(),
        Err(RtcError::InvalidValue)
    );
    assert_eq!(
        date(2026, 1, 1, 24, 0, 0).unix_seconds(),
        Err(RtcError::InvalidValue)
    );
    assert_eq!(
        date(2026, 1, 1, 0, 60, 0).unix_seconds(),
        Err(RtcError::InvalidValue)
    );
    assert_eq!(
        date(1969, 12, 31, 23, 59, 59).unix_seconds(),
        Err(RtcError::InvalidValue)
    );
    assert_eq!(date(2000, 2, 29, 0, 0, 0).unix_seconds(), Ok(951_782_400));
}

#[test]
fn decodes_bcd_24_hour() {
    let registers = registers_bcd_24h(0x26, 0x11, 0x22, 0x23, 0x59, 0x58);
    assert_eq!(registers.decode(), Ok(date(2026, 11, 22, 23, 59, 58)));
}

#[test]
fn decodes_binary_with_century() {
    let registers = Registers {
        second: 5,
        minute: 4,
        hour: 3,
        day: 2,
        month: 1,
        year: 99,
        century: 19,
        status_b: STATUS_B_BINARY | STATUS_B_24_HOUR,
    };
    assert_eq!(registers.decode(), Ok(date(1999, 1, 2, 3, 4, 5)));
}

#[test]
fn decodes_12_hour_mode() {
    let at = |hour: u8| Registers {
        status_b: 0,
        ..registers_bcd_24h(0x26, 0x01, 0x01, hour, 0, 0)
    };
    assert_eq!(at(0x12).decode().map(|time| time.hour), Ok(0));
    assert_eq!(at(0x01).decode().map(|time| time.hour), Ok(1));
    assert_eq!(at(0x11).decode().map(|time| time.hour), Ok(11));
    assert_eq!(at(0x80 | 0x12).decode().map(|time| time.hour), Ok(12));
    assert_eq!(at(0x80 | 0x01).decode().map(|time| time.hour), Ok(13));
    assert_eq!(at(0x80 | 0x11).decode().map(|time| time.hour), Ok(23));
    assert_eq!(at(0x00).decode(), Err(RtcError::InvalidValue));
    assert_eq!(at(0x13).decode(), Err(RtcError::InvalidValue));
}

#[test]
fn century_register_fallback() {
    let without_century = |year| Registers {
        century: 0xff,
        ..registers_bcd_24h(year, 1, 1, 0, 0, 0)
    };
    assert_eq!(
        without_century(0x26).decode().map(|time| time.year),
        Ok(2026)
    );
    assert_eq!(
        without_century(0x75).decode().map(|time| time.year),
        Ok(1975)
    );
}

#[test]
fn bad_bcd_and_all_ones_are_errors() {
    assert_eq!(
        registers_bcd_24h(0x2a, 1, 1, 0, 0, 0).decode(),
        Err(RtcError::InvalidValue)
    );
    let all_ones = Registers {
        second: 0xff,
        minute: 0xff,
        hour: 0xff,
        day: 0xff,
        month: 0xff,
        year: 0xff,
        century: 0xff,
        status_b: 0xff,
    };
    assert_eq!(all_ones.decode(), Err(RtcError::InvalidValue));
}

#[test]
fn nanoseconds_fit_until_2554_and_are_an_error_after() {
    assert_eq!(
        date(2026, 11, 22, 8, 30, 15).unix_nanoseconds(),
        Ok(1_795_336_215_000_000_000)
    );
    assert!(date(2554, 1, 1, 0, 0, 0).unix_nanoseconds().is_ok());
    // A century register of 30 decodes (years 3000..=3099 are valid dates)
    // but cannot be a wall clock in u64 nanoseconds.
    let far = Registers {
        century: 0x30,
        ..registers_bcd_24h(0x26, 1, 1, 0, 0, 0)
    };
    let time = far.decode().unwrap();
    assert_eq!(time.year, 3026);
    assert_eq!(time.unix_nanoseconds(), Err(RtcError::InvalidValue));
}
