//! The soft-off sleep types: the DSDT's `\_S5_` package, found by hand.
//!
//! Entering S5 (soft off) writes `SLP_TYP` and `SLP_EN` to the PM1
//! control registers (or, hardware-reduced, to the sleep control
//! register); the `SLP_TYP` values are the firmware's, in the DSDT as
//! `Name (\_S5_, Package () { typa, typb, … })`. QEMU's q35 and pc say
//! 0 (and treat 0 as power off), microvm 5, hardware what its chipset
//! wants. As in [`super::dsdt`], there is no AML interpreter: the scan
//! takes the first `_S5_` that a `Name` op declares and a package
//! follows, and decodes the package's first two integer constants
//! (the second defaults to the first). Every read is checked against
//! the package's own length and the table's; a name that is a method,
//! a value that is not a 3-bit constant, or malformed AML yields no
//! sleep types, never a fault.

/// AML's NameOp, PackageOp and the root prefix.
const NAME_OP: u8 = 0x08;
const PACKAGE_OP: u8 = 0x12;
const ROOT_PREFIX: u8 = b'\\';
const PARENT_PREFIX: u8 = b'^';

/// `SLP_TYPa` and `SLP_TYPb` for soft off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SleepTypes {
    /// For PM1a control (or the sleep control register).
    pub a: u8,
    /// For PM1b control.
    pub b: u8,
}

/// The soft-off sleep types the AML `aml` declares, if it does.
pub fn soft_off(aml: &[u8]) -> Option<SleepTypes> {
    let mut start = 0;
    while let Some(found) = find(aml.get(start..)?, b"_S5_") {
        let at = start + found;
        if declared_by_name(aml, at)
            && let Some(types) = package(aml.get(at + 4..)?)
        {
            return Some(types);
        }
        start = at + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Whether the name at `at` follows a NameOp (with prefixes between).
fn declared_by_name(aml: &[u8], at: usize) -> bool {
    let before = &aml[..at];
    let prefixes = before
        .iter()
        .rev()
        .take_while(|&&byte| byte == ROOT_PREFIX || byte == PARENT_PREFIX)
        .count();
    before.len() > prefixes && before[before.len() - prefixes - 1] == NAME_OP
}

/// The sleep types of the package `bytes` starts with.
fn package(bytes: &[u8]) -> Option<SleepTypes> {
    if *bytes.first()? != PACKAGE_OP {
        return None;
    }
    let (length, length_bytes) = package_length(bytes.get(1..)?)?;
    // The package length counts from its own first byte.
    let body = bytes.get(1..1usize.checked_add(length)?)?;
    let count = *body.get(length_bytes)?;
    let mut elements = body.get(length_bytes + 1..)?;
    let a = integer(&mut elements)?;
    let b = match count {
        0 => return None,
        1 => a,
        _ => integer(&mut elements)?,
    };
    Some(SleepTypes { a, b })
}

/// A PkgLength: its value and how many bytes it took.
fn package_length(bytes: &[u8]) -> Option<(usize, usize)> {
    let lead = *bytes.first()?;
    let follow = usize::from(lead >> 6);
    if follow == 0 {
        return Some((usize::from(lead & 0x3f), 1));
    }
    let mut length = usize::from(lead & 0x0f);
    for (index, byte) in bytes.get(1..=follow)?.iter().enumerate() {
        length |= usize::from(*byte) << (4 + 8 * index);
    }
    Some((length, 1 + follow))
}

/// The integer constant `bytes` starts with, if it is a sleep type
/// (0..=7); `bytes` moves past it.
fn integer(bytes: &mut &[u8]) -> Option<u8> {
    let (value, length) = match *bytes.first()? {
        0x00 => (0, 1),
        0x01 => (1, 1),
        0x0a => (u64::from(*bytes.get(1)?), 2),
        0x0b => (u64::from(u16::from_le_bytes(array(bytes.get(1..3)?)?)), 3),
        0x0c => (u64::from(u32::from_le_bytes(array(bytes.get(1..5)?)?)), 5),
        0x0e => (u64::from_le_bytes(array(bytes.get(1..9)?)?), 9),
        _ => return None,
    };
    *bytes = bytes.get(length..)?;
    u8::try_from(value).ok().filter(|&value| value <= 7)
}

fn array<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// `Name (\_S5_, Package (4) { a, b, 0, 0 })` as QEMU writes it,
    /// with `a` and `b` as given (already encoded).
    fn s5(a: &[u8], b: &[u8]) -> Vec<u8> {
        let mut body = std::vec![4u8];
        body.extend_from_slice(a);
        body.extend_from_slice(b);
        body.extend_from_slice(&[0, 0]);
        let mut aml = b"\x10\x20\\_SB_\x08\\_S5_\x12".to_vec();
        aml.push(body.len() as u8 + 1);
        aml.extend(body);
        aml.extend_from_slice(b"\x08_S4_\x12\x06\x04\x02\x02\x00\x00");
        aml
    }

    #[test]
    fn reads_qemu_and_hardware_packages() {
        let types = |a, b| Some(SleepTypes { a, b });
        assert_eq!(soft_off(&s5(&[0], &[0])), types(0, 0), "q35, pc");
        assert_eq!(soft_off(&s5(&[0x0a, 5], &[0x0a, 5])), types(5, 5));
        assert_eq!(soft_off(&s5(&[0x0a, 7], &[0x01])), types(7, 1));
        assert_eq!(
            soft_off(&s5(&[0x0b, 6, 0], &[0x0c, 6, 0, 0, 0])),
            types(6, 6)
        );
        let short = b"\x08_S5_\x12\x04\x01\x0a\x03";
        assert_eq!(soft_off(short), types(3, 3), "one element serves both");
    }

    #[test]
    fn long_package_lengths_are_decoded() {
        // PkgLength 0x47 in two bytes: 0x47 = 7 | 0x04 << 4.
        let mut aml = b"\x08_S5_\x12\x47\x04\x02\x0a\x05\x0a\x05".to_vec();
        aml.resize(aml.len() + 0x48, 0);
        assert_eq!(soft_off(&aml), Some(SleepTypes { a: 5, b: 5 }));
    }

    #[test]
    fn methods_references_and_bad_values_give_none() {
        assert_eq!(soft_off(b""), None);
        assert_eq!(soft_off(b"\x14\x08_S5_\x01\xa4\x00"), None, "a method");
        assert_eq!(soft_off(b"\x70_S5_\x60"), None, "not declared");
        assert_eq!(soft_off(&s5(&[0x0a, 8], &[0])), None, "past 3 bits");
        assert_eq!(soft_off(&s5(&[0xff], &[0])), None, "Ones");
        assert_eq!(soft_off(&s5(&[0x0d, 0], &[0])), None, "a string");
        assert_eq!(soft_off(b"\x08_S5_\x12\x02\x00"), None, "no elements");
    }

    #[test]
    fn every_truncation_and_corruption_is_harmless() {
        let aml = s5(&[0x0a, 5], &[0x0a, 5]);
        for length in 0..aml.len() {
            assert!(soft_off(&aml[..length]).is_none_or(|types| types.a <= 7));
        }
        for at in 0..aml.len() {
            for value in [0x00, 0x01, 0x0a, 0x0e, 0x12, 0x3f, 0x40, 0xc0, 0xff] {
                let mut corrupt = aml.clone();
                corrupt[at] = value;
                let found = soft_off(&corrupt);
                assert!(found.is_none_or(|types| types.a <= 7 && types.b <= 7));
            }
        }
    }
}
