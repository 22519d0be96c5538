//! Ephemeral port selection for UDP (RFC 6056, algorithm 1).
//!
//! A random starting point in the IANA dynamic range, then the next free
//! port from there: ports are unpredictable to an off-path attacker and
//! the search always ends. Each starting point is SipHash-2-4 of a counter
//! under a 128-bit key from the random hypercall, drawn at boot: a keyed
//! PRF, so ports seen on the wire tell nothing about the next one (the
//! state of a plain PRNG can be recovered from a few of its outputs).
//! (TCP chooses its own ports inside its engine, where it also knows the
//! peer.)

use siphasher::sip::SipHasher24;

/// The first dynamic port (RFC 6335).
pub const FIRST: u16 = 49_152;
/// The last.
pub const LAST: u16 = 65_535;

/// Whether a port can be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortUse {
    /// Nobody has it.
    Free,
    /// Somebody has it.
    Taken,
}

/// The chooser: a key and the number of choices made under it.
#[derive(Clone)]
pub struct EphemeralPorts {
    hasher: SipHasher24,
    choices: u64,
}

impl core::fmt::Debug for EphemeralPorts {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("EphemeralPorts")
            .field("choices", &self.choices)
            .finish_non_exhaustive()
    }
}

impl EphemeralPorts {
    /// A chooser keyed with `key` (from the random hypercall).
    pub fn new(key: [u8; 16]) -> Self {
        Self {
            hasher: SipHasher24::new_with_key(&key),
            choices: 0,
        }
    }

    /// A free port, or `None` when every one is taken.
    pub fn choose(&mut self, mut usage: impl FnMut(u16) -> PortUse) -> Option<u16> {
        let count = u32::from(LAST - FIRST) + 1;
        self.choices += 1;
        let random = self.hasher.hash(&self.choices.to_le_bytes());
        let start = (random % u64::from(count)) as u32;
        (0..count)
            .map(|step| FIRST + ((start + step) % count) as u16)
            .find(|&port| usage(port) == PortUse::Free)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_spread_free_and_exhaustion_is_none() {
        let mut ports = EphemeralPorts::new([42; 16]);
        let chosen: std::vec::Vec<u16> = (0..100)
            .filter_map(|_| ports.choose(|_| PortUse::Free))
            .collect();
        assert!(chosen.iter().all(|&p| p >= FIRST));
        let distinct: std::collections::BTreeSet<u16> = chosen.iter().copied().collect();
        assert!(distinct.len() > 90, "random, not sequential: {distinct:?}");
        let only = ports.choose(|port| {
            if port == 50_000 {
                PortUse::Free
            } else {
                PortUse::Taken
            }
        });
        assert_eq!(only, Some(50_000));
        assert_eq!(ports.choose(|_| PortUse::Taken), None);
    }

    /// Two keys give two unrelated sequences; one key replays its own.
    #[test]
    fn the_sequence_is_fixed_by_the_key() {
        let sequence = |key: [u8; 16]| -> std::vec::Vec<Option<u16>> {
            let mut ports = EphemeralPorts::new(key);
            (0..8).map(|_| ports.choose(|_| PortUse::Free)).collect()
        };
        assert_eq!(sequence([1; 16]), sequence([1; 16]));
        assert_ne!(sequence([1; 16]), sequence([2; 16]));
    }
}
