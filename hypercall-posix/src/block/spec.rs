//! Disk specs: `PATH[,ro][,fail=FIRST-LAST]`, parsed.
//!
//! One spec configures one block device, named by its path (the kernel
//! attaches the n-th spec as `vblkN`). Options, comma-separated after the
//! path, each at most once:
//!
//! | option | meaning |
//! | --- | --- |
//! | `ro` | open read-only: writes and flushes are refused |
//! | `fail=FIRST-LAST` | reads and writes touching 512-byte sectors FIRST..=LAST fail with EIO (fault injection) |
//!
//! A path cannot contain a comma (the option separator). Every mistake is
//! a [`DiskSpecError`] that quotes the part at fault; nothing here panics
//! on input.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::str::FromStr;

/// One block device's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSpec {
    /// The file (or host block device) holding the disk.
    pub path: PathBuf,
    /// Opened read-only.
    pub read_only: bool,
    /// 512-byte sectors whose reads and writes fail with EIO.
    pub failing: Option<RangeInclusive<u64>>,
}

impl DiskSpec {
    /// The device's name for the kernel: its path, as given.
    pub fn name(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

impl fmt::Display for DiskSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.read_only {
            f.write_str(",ro")?;
        }
        if let Some(failing) = &self.failing {
            write!(f, ",fail={}-{}", failing.start(), failing.end())?;
        }
        Ok(())
    }
}

/// What is wrong with a disk spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskSpecErrorKind {
    /// The path is empty.
    EmptyPath,
    /// An option this parser does not know.
    UnknownOption,
    /// An option given twice.
    RepeatedOption,
    /// Not `FIRST-LAST` with FIRST <= LAST, both decimal u64.
    BadRange,
    /// `--disk` without a value after it.
    MissingValue,
}

impl DiskSpecErrorKind {
    fn explanation(self) -> &'static str {
        match self {
            Self::EmptyPath => "the disk's path is empty",
            Self::UnknownOption => "unknown option (known: ro, fail=FIRST-LAST)",
            Self::RepeatedOption => "option given twice",
            Self::BadRange => "expected sectors FIRST-LAST, FIRST <= LAST",
            Self::MissingValue => "--disk needs a value",
        }
    }
}

/// A spec that did not parse: what is wrong and the part at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSpecError {
    /// What is wrong.
    pub kind: DiskSpecErrorKind,
    /// The offending part of the spec, verbatim.
    pub part: String,
}

impl DiskSpecError {
    pub(crate) fn new(kind: DiskSpecErrorKind, part: &str) -> Self {
        Self {
            kind,
            part: part.to_owned(),
        }
    }
}

impl fmt::Display for DiskSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad disk spec at `{}`: {}",
            self.part,
            self.kind.explanation()
        )
    }
}

impl std::error::Error for DiskSpecError {}

impl FromStr for DiskSpec {
    type Err = DiskSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut pieces = text.split(',');
        let path = pieces.next().unwrap_or_default();
        if path.is_empty() {
            return Err(DiskSpecError::new(DiskSpecErrorKind::EmptyPath, text));
        }
        let mut spec = DiskSpec {
            path: PathBuf::from(path),
            read_only: false,
            failing: None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for option in pieces {
            let key = option.split_once('=').map_or(option, |(key, _)| key);
            if seen.contains(&key) {
                return Err(DiskSpecError::new(
                    DiskSpecErrorKind::RepeatedOption,
                    option,
                ));
            }
            seen.push(key);
            apply_option(&mut spec, option).map_err(|kind| DiskSpecError::new(kind, option))?;
        }
        Ok(spec)
    }
}

/// Stores one option in `spec`.
fn apply_option(spec: &mut DiskSpec, option: &str) -> Result<(), DiskSpecErrorKind> {
    match option.split_once('=') {
        None if option == "ro" => spec.read_only = true,
        Some(("fail", range)) => spec.failing = Some(parse_range(range)?),
        _ => return Err(DiskSpecErrorKind::UnknownOption),
    }
    Ok(())
}

/// `FIRST-LAST`, decimal.
fn parse_range(text: &str) -> Result<RangeInclusive<u64>, DiskSpecErrorKind> {
    let (first, last) = text.split_once('-').ok_or(DiskSpecErrorKind::BadRange)?;
    let number = |digits: &str| {
        digits
            .parse::<u64>()
            .map_err(|_| DiskSpecErrorKind::BadRange)
    };
    let (first, last) = (number(first)?, number(last)?);
    if first > last {
        return Err(DiskSpecErrorKind::BadRange);
    }
    Ok(first..=last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_with_options_parses_and_prints_back() {
        let spec: DiskSpec = "/tmp/disk.img,ro,fail=8-15".parse().expect("valid");
        assert_eq!(spec.path, PathBuf::from("/tmp/disk.img"));
        assert!(spec.read_only);
        assert_eq!(spec.failing, Some(8..=15));
        assert_eq!(spec.to_string(), "/tmp/disk.img,ro,fail=8-15");
        let plain: DiskSpec = "image".parse().expect("valid");
        assert_eq!((plain.read_only, &plain.failing), (false, &None));
        assert_eq!(plain.name(), "image");
    }

    #[test]
    fn mistakes_name_the_part_at_fault() {
        let cases = [
            ("", DiskSpecErrorKind::EmptyPath, ""),
            (",ro", DiskSpecErrorKind::EmptyPath, ",ro"),
            ("d,rw", DiskSpecErrorKind::UnknownOption, "rw"),
            ("d,ro,ro", DiskSpecErrorKind::RepeatedOption, "ro"),
            ("d,fail=9-8", DiskSpecErrorKind::BadRange, "fail=9-8"),
            ("d,fail=x", DiskSpecErrorKind::BadRange, "fail=x"),
            ("d,fail=1-", DiskSpecErrorKind::BadRange, "fail=1-"),
            ("d,fail=-1-2", DiskSpecErrorKind::BadRange, "fail=-1-2"),
            ("d,ro=1", DiskSpecErrorKind::UnknownOption, "ro=1"),
        ];
        for (text, kind, part) in cases {
            let error = text.parse::<DiskSpec>().expect_err(text);
            assert_eq!((error.kind, error.part.as_str()), (kind, part), "{text}");
        }
    }
}
