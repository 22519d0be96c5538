//! HTTP dates: the kernel's time of day as an IMF-fixdate, and back.
//!
//! RFC 9110 §6.6.1: an origin server with a clock sends `Date` with its
//! responses, in the fixed format `Sun, 06 Nov 1994 08:49:37 GMT`; the
//! same format dates `Last-Modified` and `If-Modified-Since` (§13.1.3),
//! where only the IMF-fixdate is understood here (an obsolete format
//! means "no condition"). The calendar arithmetic is the `time` crate's.
//! A `u64` of nanoseconds ends in 2554, well inside what the format holds.

use core::fmt::{self, Write};

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

/// `Date: <IMF-fixdate>\r\n` for `unix_ns` nanoseconds since the epoch
/// (nothing, should the calendar refuse the time).
pub(super) fn write_date_header(out: &mut impl Write, unix_ns: u64) -> fmt::Result {
    write_header(out, "Date", unix_ns)
}

/// `name: <IMF-fixdate>\r\n` for `unix_ns` (nothing if out of range).
pub(super) fn write_header(out: &mut impl Write, name: &str, unix_ns: u64) -> fmt::Result {
    let Ok(seconds) = i64::try_from(unix_ns / 1_000_000_000) else {
        return Ok(());
    };
    let Ok(moment) = OffsetDateTime::from_unix_timestamp(seconds) else {
        return Ok(());
    };
    write!(
        out,
        "{name}: {}, {:02} {} {} {:02}:{:02}:{:02} GMT\r\n",
        weekday(moment.weekday()),
        moment.day(),
        month(moment.month()),
        moment.year(),
        moment.hour(),
        moment.minute(),
        moment.second()
    )
}

fn weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(month: Month) -> &'static str {
    MONTHS[usize::from(u8::from(month)) - 1]
}

/// The seconds since the epoch an IMF-fixdate names; `None` for anything
/// else (a client's garbage included).
pub(super) fn parse_imf_fixdate(text: &str) -> Option<u64> {
    let mut words = text.split_ascii_whitespace();
    let (_weekday, day, month, year) = (words.next()?, words.next()?, words.next()?, words.next()?);
    let (clock, zone) = (words.next()?, words.next()?);
    if zone != "GMT" || words.next().is_some() {
        return None;
    }
    let month = MONTHS.iter().position(|name| *name == month)?;
    let month = Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let date = Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let mut parts = clock.split(':').map(str::parse::<u8>);
    let (hour, minute, second) = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    let time = Time::from_hms(hour, minute, second).ok()?;
    let seconds = PrimitiveDateTime::new(date, time)
        .assume_utc()
        .unix_timestamp();
    u64::try_from(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn header(unix_seconds: u64) -> String {
        let mut text = String::new();
        write_date_header(&mut text, unix_seconds * 1_000_000_000).unwrap();
        text
    }

    #[test]
    fn formats_the_rfc_example_and_the_epoch() {
        assert_eq!(
            header(784_111_777),
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        );
        assert_eq!(header(0), "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
        assert_eq!(
            header(951_782_400),
            "Date: Tue, 29 Feb 2000 00:00:00 GMT\r\n"
        );
    }

    #[test]
    fn dates_parse_back_and_garbage_does_not() {
        assert_eq!(
            parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sun, 06 Nov -1 08:49:37 GMT",
        ] {
            assert_eq!(parse_imf_fixdate(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_last_nanosecond_the_interface_can_say_is_a_date_too() {
        let mut last = String::new();
        write_date_header(&mut last, u64::MAX).unwrap();
        assert_eq!(last, "Date: Sun, 21 Jul 2554 23:34:33 GMT\r\n");
    }
}
