//! The HTTP `Date` header: the kernel's time of day as an IMF-fixdate.
//!
//! RFC 9110 §6.6.1: an origin server with a clock sends `Date` with its
//! responses, in the fixed format `Sun, 06 Nov 1994 08:49:37 GMT`. The
//! calendar arithmetic is the `time` crate's. A `u64` of nanoseconds ends
//! in 2554, well inside what the format holds.

use core::fmt::{self, Write};

use time::{Month, OffsetDateTime, Weekday};

/// `Date: <IMF-fixdate>\r\n` for `unix_ns` nanoseconds since the epoch
/// (nothing, should the calendar refuse the time).
pub(super) fn write_date_header(out: &mut impl Write, unix_ns: u64) -> fmt::Result {
    let Ok(seconds) = i64::try_from(unix_ns / 1_000_000_000) else {
        return Ok(());
    };
    let Ok(moment) = OffsetDateTime::from_unix_timestamp(seconds) else {
        return Ok(());
    };
    write!(
        out,
        "Date: {}, {:02} {} {} {:02}:{:02}:{:02} GMT\r\n",
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

fn month(month: Month) -> &'static str {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES[usize::from(u8::from(month)) - 1]
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
    fn the_last_nanosecond_the_interface_can_say_is_a_date_too() {
        let mut last = String::new();
        write_date_header(&mut last, u64::MAX).unwrap();
        assert_eq!(last, "Date: Sun, 21 Jul 2554 23:34:33 GMT\r\n");
    }
}
