//! Boot parameters: `key=value` words from the kernel command line.
//!
//! The host passes one string ([`hypercall::Hypercalls::boot_parameters`]);
//! the base splits it into words. `key=value` sets a value, a bare `key` is
//! a flag (`dhcp`). Malformed words are reported, never fatal: the kernel
//! boots with what it could read and says what it ignored. Typed getters
//! parse a value on request and return a [`ParamError`] naming the key, the
//! value and what was expected.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// A boot parameter that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    /// A word that is neither `key` nor `key=value` (e.g. `=x`).
    Malformed {
        /// The word as written.
        word: String,
    },
    /// A key given twice; the last one wins.
    Repeated {
        /// The key.
        key: String,
    },
    /// A value that does not parse as what the key needs.
    InvalidValue {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// What was expected, e.g. "a size such as 64M".
        expected: &'static str,
    },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { word } => {
                write!(f, "boot parameter `{word}` is malformed (want key=value)")
            }
            Self::Repeated { key } => write!(f, "boot parameter `{key}` given twice; last wins"),
            Self::InvalidValue {
                key,
                value,
                expected,
            } => write!(f, "boot parameter `{key}={value}`: expected {expected}"),
        }
    }
}

impl core::error::Error for ParamError {}

/// The parsed boot parameters, in command-line order.
#[derive(Debug, Clone, Default)]
pub struct BootParams {
    entries: Vec<(String, Option<String>)>,
}

impl BootParams {
    /// Parses `line`, returning the parameters and every problem found.
    pub fn parse(line: &str) -> (Self, Vec<ParamError>) {
        let mut params = Self::default();
        let mut errors = Vec::new();
        for word in line.split_ascii_whitespace() {
            let (key, value) = match word.split_once('=') {
                Some((key, value)) => (key, Some(value.to_string())),
                None => (word, None),
            };
            if key.is_empty() {
                errors.push(ParamError::Malformed {
                    word: word.to_string(),
                });
                continue;
            }
            // Namespaced keys (`virtio_mmio.device=`, one per device) are
            // lists; any other key given twice is a slip: the last wins.
            let list = key.contains('.');
            if !list && params.has(key) {
                errors.push(ParamError::Repeated {
                    key: key.to_string(),
                });
            }
            params.entries.push((key.to_string(), value));
        }
        (params, errors)
    }

    /// The value of `key`, if given with one (the last, if given twice).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Every value of a list key such as `virtio_mmio.device`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(k, _)| k == key)
            .filter_map(|(_, v)| v.as_deref())
    }

    /// Whether `key` was given at all (as a flag or with a value).
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }

    /// Every parameter in order; flags have no value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }

    /// `key` as a byte count with an optional K, M or G suffix (binary).
    pub fn get_size(&self, key: &str) -> Result<Option<usize>, ParamError> {
        self.get_parsed(key, "a size such as 4096, 512K, 64M or 1G", parse_size)
    }

    /// `key` as an unsigned decimal number.
    pub fn get_u64(&self, key: &str) -> Result<Option<u64>, ParamError> {
        self.get_parsed(key, "a decimal number", |v| v.parse().ok())
    }

    /// `key` parsed by `parse`; `expected` describes valid values.
    pub fn get_parsed<T>(
        &self,
        key: &str,
        expected: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ParamError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        parse(value)
            .map(Some)
            .ok_or_else(|| ParamError::InvalidValue {
                key: key.to_string(),
                value: value.to_string(),
                expected,
            })
    }
}

/// Parses `4096`, `512K`, `64M`, `1G` (case-insensitive suffix).
pub fn parse_size(text: &str) -> Option<usize> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 10),
        b'm' | b'M' => (&text[..text.len() - 1], 20),
        b'g' | b'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let number: usize = digits.parse().ok()?;
    number.checked_mul(1usize.checked_shl(shift)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values_and_flags_in_order() {
        let (params, errors) = BootParams::parse("ip=10.0.0.2/24  dhcp gw=10.0.0.1");
        assert!(errors.is_empty());
        assert_eq!(params.get("ip"), Some("10.0.0.2/24"));
        assert!(params.has("dhcp"));
        assert_eq!(params.get("dhcp"), None);
        let keys: Vec<_> = params.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["ip", "dhcp", "gw"]);
    }

    #[test]
    fn malformed_and_repeated_words_are_reported_not_fatal() {
        let (params, errors) = BootParams::parse("=oops a=1 b=2 a=3");
        assert_eq!(params.get("a"), Some("3"));
        assert_eq!(params.get("b"), Some("2"));
        assert_eq!(
            errors,
            [
                ParamError::Malformed {
                    word: "=oops".into()
                },
                ParamError::Repeated { key: "a".into() }
            ]
        );
    }

    #[test]
    fn namespaced_keys_are_lists_without_complaint() {
        let line = "virtio_mmio.device=512@0xfeb00e00:12 x=1 virtio_mmio.device=512@0xfeb00c00:13";
        let (params, errors) = BootParams::parse(line);
        assert!(errors.is_empty(), "{errors:?}");
        let all: std::vec::Vec<&str> = params.get_all("virtio_mmio.device").collect();
        assert_eq!(all, ["512@0xfeb00e00:12", "512@0xfeb00c00:13"]);
        assert_eq!(params.get("virtio_mmio.device"), Some("512@0xfeb00c00:13"));
    }

    #[test]
    fn empty_value_is_kept_as_empty() {
        let (params, _) = BootParams::parse("name=");
        assert_eq!(params.get("name"), Some(""));
    }

    #[test]
    fn sizes_parse_with_suffixes_and_reject_nonsense() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("512k"), Some(512 << 10));
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        for bad in ["", "M", "lots", "-1", "1.5M", "99999999999999999999G"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn typed_getters_name_key_value_and_expectation() {
        let (params, _) = BootParams::parse("mem=lots n=12");
        let error = params.get_size("mem").unwrap_err();
        assert_eq!(
            error.to_string(),
            "boot parameter `mem=lots`: expected a size such as 4096, 512K, 64M or 1G"
        );
        assert_eq!(params.get_u64("n"), Ok(Some(12)));
        assert_eq!(params.get_u64("absent"), Ok(None));
    }
}
