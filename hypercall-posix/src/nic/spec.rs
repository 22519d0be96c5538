//! NIC specs: `bus:PATH[,option...]` or `tap:NAME[,option...]`, parsed.
//!
//! One spec configures one virtual NIC (unit n is the n-th spec). Options,
//! comma-separated after the target, each at most once:
//!
//! | option | meaning |
//! | --- | --- |
//! | `mac=02:xx:xx:xx:xx:xx` | the NIC's MAC address (unicast); random if absent |
//! | `loss=P` | drop a received frame with probability P |
//! | `duplicate=P` | deliver a received frame twice |
//! | `reorder=P` | hold a received frame back and deliver it after the next |
//! | `corrupt=P` | flip one bit past the Ethernet header |
//! | `seed=N` | the fault injector's seed (decimal u64); random if absent |
//! | `offload=on\|off` | a tap's checksum offload and TSO (default on; off with faults) |
//!
//! Probabilities are decimal numbers in 0..=1. A bus path cannot contain a
//! comma (the option separator). Every mistake is a [`NicSpecError`] that
//! quotes the part at fault; nothing here panics on input.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The longest Linux interface name, in bytes (IFNAMSIZ less the NUL).
const TAP_NAME_LIMIT: usize = 15;

/// Where a NIC's frames go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NicBackend {
    /// The shared-memory bus in this file (created if missing).
    Bus(PathBuf),
    /// The Linux tap device of this name.
    Tap(String),
}

/// What the fault injector does to received frames. All zero: nothing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaultSpec {
    /// Probability of dropping a frame.
    pub loss: f64,
    /// Probability of delivering a frame twice.
    pub duplicate: f64,
    /// Probability of delivering a frame after the next one.
    pub reorder: f64,
    /// Probability of flipping one bit past the Ethernet header.
    pub corrupt: f64,
    /// The PRNG seed; `None` draws one at open.
    pub seed: Option<u64>,
}

impl FaultSpec {
    /// Whether any fault has a non-zero probability.
    pub fn is_active(&self) -> bool {
        [self.loss, self.duplicate, self.reorder, self.corrupt]
            .iter()
            .any(|&probability| probability > 0.0)
    }
}

/// One virtual NIC's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct NicSpec {
    /// The backend and its target.
    pub backend: NicBackend,
    /// The MAC address; `None` draws a random locally administered one at
    /// every open.
    pub mac: Option<[u8; 6]>,
    /// Faults injected into received frames.
    pub faults: FaultSpec,
    /// Whether a tap may take offloads (the virtio-net header).
    pub offload: bool,
}

/// What is wrong with a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NicSpecErrorKind {
    /// Not `bus:` or `tap:`.
    UnknownBackend,
    /// The path or the tap name is empty.
    EmptyTarget,
    /// The tap name is too long or holds a character Linux refuses.
    BadTapName,
    /// An option this parser does not know.
    UnknownOption,
    /// An option given twice.
    RepeatedOption,
    /// Not six `:`-separated hex bytes, or a multicast address.
    BadMac,
    /// Not a number in 0..=1.
    BadProbability,
    /// Not a decimal u64.
    BadSeed,
    /// Not `on` or `off`.
    BadSwitch,
    /// `--net` without a value after it.
    MissingValue,
}

impl NicSpecErrorKind {
    fn explanation(self) -> &'static str {
        match self {
            Self::UnknownBackend => "expected bus:PATH or tap:NAME",
            Self::EmptyTarget => "the bus path or tap name is empty",
            Self::BadTapName => "a tap name is 1 to 15 bytes without '/', ':', blanks or NUL",
            Self::UnknownOption => {
                "unknown option (known: mac, loss, duplicate, reorder, corrupt, seed, offload)"
            }
            Self::RepeatedOption => "option given twice",
            Self::BadMac => "expected a unicast MAC like 02:00:00:00:00:01",
            Self::BadProbability => "expected a probability from 0 to 1",
            Self::BadSeed => "expected a decimal seed from 0 to 2^64-1",
            Self::BadSwitch => "expected on or off",
            Self::MissingValue => "--net needs a value",
        }
    }
}

/// A spec that did not parse: what is wrong and the part at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicSpecError {
    /// What is wrong.
    pub kind: NicSpecErrorKind,
    /// The offending part of the spec, verbatim.
    pub part: String,
}

impl NicSpecError {
    pub(crate) fn new(kind: NicSpecErrorKind, part: &str) -> Self {
        Self {
            kind,
            part: part.to_owned(),
        }
    }
}

impl fmt::Display for NicSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad NIC spec at `{}`: {}",
            self.part,
            self.kind.explanation()
        )
    }
}

impl std::error::Error for NicSpecError {}

impl FromStr for NicSpec {
    type Err = NicSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut pieces = text.split(',');
        let target = pieces.next().unwrap_or_default();
        let mut spec = NicSpec {
            backend: parse_backend(target)?,
            mac: None,
            faults: FaultSpec::default(),
            offload: true,
        };
        let mut seen: Vec<&str> = Vec::new();
        for option in pieces {
            let (key, value) = option
                .split_once('=')
                .ok_or_else(|| NicSpecError::new(NicSpecErrorKind::UnknownOption, option))?;
            if seen.contains(&key) {
                return Err(NicSpecError::new(NicSpecErrorKind::RepeatedOption, option));
            }
            seen.push(key);
            apply_option(&mut spec, key, value).map_err(|kind| NicSpecError::new(kind, option))?;
        }
        Ok(spec)
    }
}

/// `bus:PATH` or `tap:NAME`.
fn parse_backend(target: &str) -> Result<NicBackend, NicSpecError> {
    let error = |kind| NicSpecError::new(kind, target);
    let (kind, name) = target
        .split_once(':')
        .ok_or_else(|| error(NicSpecErrorKind::UnknownBackend))?;
    if name.is_empty() {
        return Err(error(NicSpecErrorKind::EmptyTarget));
    }
    match kind {
        "bus" => Ok(NicBackend::Bus(PathBuf::from(name))),
        "tap" if is_tap_name(name) => Ok(NicBackend::Tap(name.to_owned())),
        "tap" => Err(error(NicSpecErrorKind::BadTapName)),
        _ => Err(error(NicSpecErrorKind::UnknownBackend)),
    }
}

/// Whether Linux would accept `name` as an interface name.
fn is_tap_name(name: &str) -> bool {
    name.len() <= TAP_NAME_LIMIT
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c == '\0' || c.is_whitespace())
}

/// Stores one `key=value` option in `spec`.
fn apply_option(spec: &mut NicSpec, key: &str, value: &str) -> Result<(), NicSpecErrorKind> {
    let faults = &mut spec.faults;
    match key {
        "mac" => spec.mac = Some(parse_mac(value).ok_or(NicSpecErrorKind::BadMac)?),
        "loss" => faults.loss = parse_probability(value)?,
        "duplicate" => faults.duplicate = parse_probability(value)?,
        "reorder" => faults.reorder = parse_probability(value)?,
        "corrupt" => faults.corrupt = parse_probability(value)?,
        "seed" => faults.seed = Some(value.parse().map_err(|_| NicSpecErrorKind::BadSeed)?),
        "offload" => {
            spec.offload = match value {
                "on" => true,
                "off" => false,
                _ => return Err(NicSpecErrorKind::BadSwitch),
            }
        }
        _ => return Err(NicSpecErrorKind::UnknownOption),
    }
    Ok(())
}

/// A number in 0..=1 (`NaN`, infinities and `1e400` are refused).
fn parse_probability(value: &str) -> Result<f64, NicSpecErrorKind> {
    let probability: f64 = value
        .parse()
        .map_err(|_| NicSpecErrorKind::BadProbability)?;
    if (0.0..=1.0).contains(&probability) {
        Ok(probability)
    } else {
        Err(NicSpecErrorKind::BadProbability)
    }
}

/// Six two-digit hex bytes separated by `:`, unicast.
pub(crate) fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 || !part.bytes().all(|digit| digit.is_ascii_hexdigit()) {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    let unicast = mac[0] & 1 == 0;
    (parts.next().is_none() && unicast).then_some(mac)
}

/// `02:00:5e:10:00:01` form.
pub(crate) fn format_mac(mac: [u8; 6]) -> String {
    let parts: Vec<String> = mac.iter().map(|byte| format!("{byte:02x}")).collect();
    parts.join(":")
}

impl fmt::Display for NicSpec {
    /// The spec in the form [`NicSpec::from_str`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            NicBackend::Bus(path) => write!(f, "bus:{}", path.display())?,
            NicBackend::Tap(name) => write!(f, "tap:{name}")?,
        }
        if let Some(mac) = self.mac {
            write!(f, ",mac={}", format_mac(mac))?;
        }
        let faults = &self.faults;
        let probabilities = [
            ("loss", faults.loss),
            ("duplicate", faults.duplicate),
            ("reorder", faults.reorder),
            ("corrupt", faults.corrupt),
        ];
        for (key, probability) in probabilities {
            if probability > 0.0 {
                write!(f, ",{key}={probability}")?;
            }
        }
        if let Some(seed) = faults.seed {
            write!(f, ",seed={seed}")?;
        }
        match self.offload {
            true => Ok(()),
            false => write!(f, ",offload=off"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<NicSpec, NicSpecError> {
        text.parse()
    }

    fn kind_of(text: &str) -> NicSpecErrorKind {
        parse(text).expect_err("the spec is bad").kind
    }

    #[test]
    fn plain_bus_and_tap_specs() {
        let bus = parse("bus:/tmp/net0").expect("valid");
        assert_eq!(bus.backend, NicBackend::Bus("/tmp/net0".into()));
        assert_eq!((bus.mac, bus.faults), (None, FaultSpec::default()));
        assert!(!bus.faults.is_active());
        let tap = parse("tap:tap0").expect("valid");
        assert_eq!(tap.backend, NicBackend::Tap("tap0".into()));
    }

    #[test]
    fn every_option_is_read() {
        let text =
            "bus:b,mac=02:0a:0B:0c:0d:0e,loss=0.1,duplicate=0.05,reorder=1,corrupt=0,seed=42";
        let spec = parse(text).expect("valid");
        assert_eq!(spec.mac, Some([2, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e]));
        let faults = spec.faults;
        assert_eq!((faults.loss, faults.duplicate), (0.1, 0.05));
        assert_eq!((faults.reorder, faults.corrupt), (1.0, 0.0));
        assert_eq!(faults.seed, Some(42));
        assert!(faults.is_active());
    }

    #[test]
    fn display_reads_back_to_the_same_spec() {
        for text in [
            "bus:/x/y,mac=02:00:00:00:00:07,loss=0.25,seed=9",
            "tap:akt0",
            "tap:akt0,offload=off",
        ] {
            let spec = parse(text).expect("valid");
            assert_eq!(spec.to_string(), text);
            assert_eq!(parse(&spec.to_string()), Ok(spec));
        }
    }

    #[test]
    fn bad_backends_and_targets() {
        assert_eq!(kind_of("ether:x"), NicSpecErrorKind::UnknownBackend);
        assert_eq!(kind_of("/tmp/bus"), NicSpecErrorKind::UnknownBackend);
        assert_eq!(kind_of(""), NicSpecErrorKind::UnknownBackend);
        assert_eq!(kind_of("bus:"), NicSpecErrorKind::EmptyTarget);
        assert_eq!(kind_of("tap:,loss=0"), NicSpecErrorKind::EmptyTarget);
        assert_eq!(
            kind_of("tap:sixteen-bytes-xx"),
            NicSpecErrorKind::BadTapName
        );
        assert_eq!(kind_of("tap:a/b"), NicSpecErrorKind::BadTapName);
        assert_eq!(kind_of("tap:a b"), NicSpecErrorKind::BadTapName);
    }

    #[test]
    fn bad_options_name_the_part() {
        let error = parse("bus:b,loss=2").expect_err("out of range");
        assert_eq!(error.kind, NicSpecErrorKind::BadProbability);
        assert_eq!(error.part, "loss=2");
        assert!(error.to_string().contains("`loss=2`"), "{error}");
        for bad in ["-0.1", "NaN", "inf", "1e400", "", "0.5x"] {
            let text = format!("bus:b,reorder={bad}");
            assert_eq!(kind_of(&text), NicSpecErrorKind::BadProbability, "{text}");
        }
        assert_eq!(kind_of("bus:b,speed=10"), NicSpecErrorKind::UnknownOption);
        assert_eq!(kind_of("bus:b,loss"), NicSpecErrorKind::UnknownOption);
        assert_eq!(kind_of("bus:b,"), NicSpecErrorKind::UnknownOption);
        assert_eq!(kind_of("bus:b,seed=-1"), NicSpecErrorKind::BadSeed);
        assert_eq!(
            kind_of("bus:b,seed=18446744073709551616"),
            NicSpecErrorKind::BadSeed
        );
        assert_eq!(
            kind_of("bus:b,loss=0,loss=0"),
            NicSpecErrorKind::RepeatedOption
        );
    }

    #[test]
    fn offloads_are_on_unless_switched_off() {
        assert!(parse("tap:akt0").expect("valid").offload);
        assert!(parse("tap:akt0,offload=on").expect("valid").offload);
        assert!(!parse("tap:akt0,offload=off").expect("valid").offload);
        let error = parse("tap:akt0,offload=yes").expect_err("not a switch");
        assert_eq!(error.kind, NicSpecErrorKind::BadSwitch);
    }

    #[test]
    fn bad_macs_are_refused() {
        for bad in [
            "03:00:00:00:00:01",
            "02:00:00:00:00",
            "02:00:00:00:00:01:02",
            "02:0:00:00:00:01",
            "02:00:00:00:00:zz",
            "02-00-00-00-00-01",
            "+2:00:00:00:00:01",
        ] {
            assert_eq!(
                kind_of(&format!("tap:t,mac={bad}")),
                NicSpecErrorKind::BadMac,
                "{bad}"
            );
        }
        assert_eq!(format_mac([2, 0, 0x5e, 0x10, 0, 1]), "02:00:5e:10:00:01");
    }
}
