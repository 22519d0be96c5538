//! Numbers read and written as memcached does (its `safe_strto*` helpers).
//!
//! memcached parses with C's `strtoull`/`strtol` and then accepts the
//! result if the first byte after the digits is whitespace or the end.
//! These functions reproduce that, including its corners: leading
//! whitespace and a sign are allowed, `-0` is zero, and a negated number
//! is refused only when the result looks negative as a signed value.

/// C's `isspace` in the "C" locale.
pub(crate) fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The sign, the digits' value (None on overflow) and the bytes after them.
struct Scanned<'a> {
    negative: bool,
    magnitude: Option<u64>,
    rest: &'a [u8],
}

/// `strtoull`'s scan: whitespace, an optional sign, at least one digit.
fn scan(text: &[u8]) -> Option<Scanned<'_>> {
    let start = text.iter().position(|&byte| !is_space(byte))?;
    let text = &text[start..];
    let (negative, text) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let digits = text.iter().take_while(|byte| byte.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let magnitude = text[..digits].iter().try_fold(0u64, |value, &digit| {
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    });
    let rest = &text[digits..];
    Some(Scanned {
        negative,
        magnitude,
        rest,
    })
}

/// Whether the digits end where memcached wants: at the end or a space.
fn ends_well(rest: &[u8]) -> bool {
    rest.first().is_none_or(|&byte| is_space(byte))
}

/// `safe_strtoull`: an unsigned 64-bit number.
pub(crate) fn parse_u64(text: &[u8]) -> Option<u64> {
    let scanned = scan(text)?;
    let magnitude = scanned.magnitude?;
    if !ends_well(scanned.rest) {
        return None;
    }
    let value = if scanned.negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    };
    // strtoull negates; memcached refuses a '-' whose result looks negative.
    let looks_negative = i64::from_ne_bytes(value.to_ne_bytes()) < 0;
    (!(scanned.negative && looks_negative)).then_some(value)
}

/// `safe_strtoul` for client flags: as [`parse_u64`], within 32 bits.
///
/// memcached truncates a larger number to its low 32 bits; this refuses it.
pub(crate) fn parse_u32(text: &[u8]) -> Option<u32> {
    u32::try_from(parse_u64(text)?).ok()
}

/// `safe_strtol`: a signed 32-bit number (exptimes, lengths).
pub(crate) fn parse_i32(text: &[u8]) -> Option<i32> {
    let scanned = scan(text)?;
    if !ends_well(scanned.rest) {
        return None;
    }
    let magnitude = i64::try_from(scanned.magnitude?).ok()?;
    let value = if scanned.negative {
        -magnitude
    } else {
        magnitude
    };
    i32::try_from(value).ok()
}

/// The longest decimal `u64`: 18446744073709551615.
pub(crate) const DECIMAL_U64_LENGTH: usize = 20;

/// Writes `value` in decimal at the end of `buffer`; returns the digits.
pub(crate) fn format_u64(value: u64, buffer: &mut [u8; DECIMAL_U64_LENGTH]) -> &[u8] {
    let mut start = DECIMAL_U64_LENGTH;
    let mut rest = value;
    loop {
        start -= 1;
        buffer[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            return &buffer[start..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_like_strtoull() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b" +7\r\n"), Some(7));
        assert_eq!(parse_u64(b"12 trailing"), Some(12));
        assert_eq!(parse_u64(b"-0"), Some(0));
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"12abc"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"  "), None);
        assert_eq!(parse_u64(b"abc"), None);
    }

    #[test]
    fn flags_are_32_bits() {
        assert_eq!(parse_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32(b"4294967296"), None);
    }

    #[test]
    fn signed_like_strtol_within_32_bits() {
        assert_eq!(parse_i32(b"-1"), Some(-1));
        assert_eq!(parse_i32(b"2147483647"), Some(i32::MAX));
        assert_eq!(parse_i32(b"2147483648"), None);
        assert_eq!(parse_i32(b"-2147483648"), Some(i32::MIN));
        assert_eq!(parse_i32(b"5x"), None);
    }

    #[test]
    fn formats_every_width() {
        let mut buffer = [0; DECIMAL_U64_LENGTH];
        assert_eq!(format_u64(0, &mut buffer), b"0");
        assert_eq!(format_u64(907, &mut buffer), b"907");
        assert_eq!(format_u64(u64::MAX, &mut buffer), b"18446744073709551615");
    }
}
