//! Virtual NIC hypercalls: a shared-memory bus and Linux tap backends.
//!
//! Unit n of [`hypercall::VirtualNics`] is the n-th [`NicSpec`] of
//! [`crate::PosixConfig::nics`]; past the last one `virtif_open` says
//! `NoDevice`. [`crate::Posix`] always offers the group (`virtual_nics()`
//! is `Some`, with no units when no spec is configured), so the kernel's
//! `virtif` component can probe it either way. Each open attaches afresh:
//! a new bus reader or tap descriptor, a new random MAC unless the spec
//! names one, a new fault injector. A failed open writes the reason to the
//! kernel's console and returns `Unavailable`.
//!
//! | module | what |
//! | --- | --- |
//! | `spec` | `bus:PATH,...` / `tap:NAME,...` parsing |
//! | `bus` | the shmif-style bus file, its reader for the dump tool |
//! | `tap` | `/dev/net/tun` |
//! | `faults` | loss, duplication, reordering, corruption of received frames |
//! | `receive` | the receive queue both backends share |
//! | `pcap` | classic pcap output for `anykernel-busdump` |

mod bus;
mod faults;
pub mod pcap;
mod receive;
mod spec;
mod tap;

use std::fmt;

use hypercall::{NicError, VirtualNic, VirtualNics};

use crate::Posix;

pub use bus::{BUS_HEADER_BYTES, BusFrame, BusNic, BusReader, MAX_FRAME, SLOT_BYTES, SLOT_COUNT};
pub use faults::{FaultCounters, HOLD_LIMIT};
pub use receive::NicStatistics;
pub use spec::{FaultSpec, NicBackend, NicSpec, NicSpecError, NicSpecErrorKind};
pub use tap::{TAP_MAX_FRAME, TAP_MAX_OFFLOADED_FRAME, TapNic};

/// A failed open: the error the kernel sees and the reason for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFailure {
    /// What `virtif_open` returns.
    pub error: NicError,
    /// Why, in words (the path or device and the host's error).
    pub reason: String,
}

impl OpenFailure {
    pub(crate) fn new(error: NicError, reason: String) -> Self {
        Self { error, reason }
    }
}

impl fmt::Display for OpenFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.reason)
    }
}

impl std::error::Error for OpenFailure {}

/// Random bytes, or an `Unavailable` failure saying what they were for.
fn random_bytes<const N: usize>(purpose: &str) -> Result<[u8; N], OpenFailure> {
    let mut bytes = [0u8; N];
    crate::random::fill(&mut bytes).map_err(|error| {
        OpenFailure::new(
            NicError::Unavailable,
            format!("no random {purpose}: {error}"),
        )
    })?;
    Ok(bytes)
}

/// A random locally administered unicast MAC: `02:` and five random bytes.
pub fn random_mac() -> Result<[u8; 6], OpenFailure> {
    let tail: [u8; 5] = random_bytes("MAC address")?;
    Ok([2, tail[0], tail[1], tail[2], tail[3], tail[4]])
}

/// Opens the NIC `spec` describes, resolving a random MAC and seed.
///
/// # Errors
/// [`NicError::Unavailable`] with the reason.
pub fn open(spec: &NicSpec) -> Result<Box<dyn VirtualNic>, OpenFailure> {
    let mac = match spec.mac {
        Some(mac) => mac,
        None => random_mac()?,
    };
    let seed = match spec.faults.seed {
        Some(seed) => seed,
        None => u64::from_le_bytes(random_bytes("fault seed")?),
    };
    Ok(match &spec.backend {
        NicBackend::Bus(path) => Box::new(BusNic::open(path, mac, spec.faults, seed)?),
        NicBackend::Tap(name) => Box::new(TapNic::open_with(
            name,
            mac,
            (spec.faults, seed),
            spec.offload,
        )?),
    })
}

impl VirtualNics for Posix {
    fn virtif_open(&self, unit: u32) -> Result<Box<dyn VirtualNic>, NicError> {
        let spec = usize::try_from(unit)
            .ok()
            .and_then(|unit| self.nics.get(unit))
            .ok_or(NicError::NoDevice)?;
        open(spec).map_err(|failure| {
            let line = format!("virtif{unit} ({spec}): {}\n", failure.reason);
            self.console.write(line.as_bytes());
            failure.error
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConsoleCapture, ConsoleSink, PosixConfig};
    use hypercall::Hypercalls;

    #[test]
    fn random_macs_are_local_unicast_and_differ() {
        let first = random_mac().expect("entropy");
        let second = random_mac().expect("entropy");
        assert_eq!((first[0], second[0]), (2, 2));
        assert_ne!(first, second);
    }

    #[test]
    fn no_specs_means_no_units_but_the_group_exists() {
        let posix = Posix::new(PosixConfig::default());
        let nics = posix.virtual_nics().expect("always offered");
        assert_eq!(nics.virtif_open(0).err(), Some(NicError::NoDevice));
        assert_eq!(nics.virtif_open(u32::MAX).err(), Some(NicError::NoDevice));
    }

    #[test]
    fn a_failed_open_is_unavailable_and_logged_with_the_reason() {
        let capture = ConsoleCapture::new();
        let config = PosixConfig {
            console: ConsoleSink::Capture(capture.clone()),
            nics: vec!["bus:/nonexistent-dir/bus".parse().expect("valid spec")],
            ..PosixConfig::default()
        };
        let posix = Posix::new(config);
        let nics = posix.virtual_nics().expect("offered");
        assert_eq!(nics.virtif_open(0).err(), Some(NicError::Unavailable));
        assert_eq!(nics.virtif_open(1).err(), Some(NicError::NoDevice));
        let log = capture.text();
        assert!(
            log.starts_with(
                "virtif0 (bus:/nonexistent-dir/bus): bus /nonexistent-dir/bus: cannot open"
            ),
            "{log}"
        );
    }
}
