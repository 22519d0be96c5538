//! Ephemeral port selection for UDP (RFC 6056, algorithm 1).
//!
//! A random starting point in the IANA dynamic range, then the next free
//! port from there: ports are unpredictable to an off-path attacker and
//! the search always ends. The generator is seeded from the random
//! hypercall at boot. (TCP chooses its own ports inside its engine, where
//! it also knows the peer.)

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

/// The chooser: a xorshift64* generator.
#[derive(Debug, Clone)]
pub struct EphemeralPorts {
    state: u64,
}

impl EphemeralPorts {
    /// A chooser seeded with `seed` (zero is replaced: xorshift needs a
    /// non-zero state).
    pub fn new(seed: u64) -> Self {
        Self {
            state: if seed == 0 {
                0x9e37_79b9_7f4a_7c15
            } else {
                seed
            },
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A free port, or `None` when every one is taken.
    pub fn choose(&mut self, mut usage: impl FnMut(u16) -> PortUse) -> Option<u16> {
        let count = u32::from(LAST - FIRST) + 1;
        let start = (self.next() % u64::from(count)) as u32;
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
        let mut ports = EphemeralPorts::new(42);
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
}
