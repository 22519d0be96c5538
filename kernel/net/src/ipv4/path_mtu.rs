//! The path MTU cache (RFC 1191): the MTUs that ICMP "fragmentation
//! needed" taught for destinations beyond our links.
//!
//! TCP validates each message against the connection it quotes (RFC 5927)
//! before the glue stores its MTU here; [`crate::ipv4::IpLayer::next_hop`]
//! then hands the smaller MTU to new connections (their MSS) and to
//! datagrams (their fragments). An entry lives ten minutes, as on Linux,
//! after which RFC 1191 has us try the larger MTU again. The cache holds
//! [`CAPACITY`] entries in place (no heap): a new destination replaces
//! the entry that expires first, so a flood of forged messages can only
//! churn it, never grow it.

use core::net::Ipv4Addr;

/// Destinations remembered at most.
pub const CAPACITY: usize = 32;

/// How long a learned MTU holds.
pub const LIFETIME_NS: u64 = 600_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    destination: Ipv4Addr,
    mtu: u16,
    expires_ns: u64,
}

/// Learned path MTUs, by destination.
#[derive(Debug, Clone, Default)]
pub struct PathMtuCache {
    entries: [Option<Entry>; CAPACITY],
}

impl PathMtuCache {
    /// The MTU learned for `destination`, unless it expired.
    pub fn get(&self, destination: Ipv4Addr, now_ns: u64) -> Option<u16> {
        self.live(now_ns)
            .find(|entry| entry.destination == destination)
            .map(|entry| entry.mtu)
    }

    /// Remembers `mtu` for `destination` for [`LIFETIME_NS`].
    pub fn learn(&mut self, destination: Ipv4Addr, mtu: u16, now_ns: u64) {
        let entry = Entry {
            destination,
            mtu,
            expires_ns: now_ns.saturating_add(LIFETIME_NS),
        };
        let slot = self
            .entries
            .iter()
            .position(|slot| slot.is_some_and(|old| old.destination == destination))
            .unwrap_or_else(|| self.first_to_expire());
        self.entries[slot] = Some(entry);
    }

    /// Destinations with a live entry.
    pub fn len(&self, now_ns: u64) -> usize {
        self.live(now_ns).count()
    }

    /// Whether no entry is live.
    pub fn is_empty(&self, now_ns: u64) -> bool {
        self.len(now_ns) == 0
    }

    fn live(&self, now_ns: u64) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .flatten()
            .filter(move |entry| entry.expires_ns > now_ns)
    }

    /// A free slot, or else the one that expires first.
    fn first_to_expire(&self) -> usize {
        let expiry = |slot: &Option<Entry>| slot.map_or(0, |entry| entry.expires_ns);
        (0..CAPACITY)
            .min_by_key(|&index| expiry(&self.entries[index]))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn address(host: u32) -> Ipv4Addr {
        Ipv4Addr::from(0x0a00_0000 + host)
    }

    #[test]
    fn an_entry_holds_ten_minutes_and_is_replaced_in_place() {
        let mut cache = PathMtuCache::default();
        cache.learn(address(1), 1400, 0);
        cache.learn(address(1), 1280, SECOND);
        assert_eq!(cache.get(address(1), 2 * SECOND), Some(1280));
        assert_eq!(cache.len(2 * SECOND), 1);
        assert_eq!(cache.get(address(2), 2 * SECOND), None);
        assert_eq!(cache.get(address(1), SECOND + LIFETIME_NS), None);
        assert!(cache.is_empty(SECOND + LIFETIME_NS));
    }

    #[test]
    fn a_flood_of_destinations_keeps_the_cache_bounded_and_fresh() {
        let mut cache = PathMtuCache::default();
        for host in 0..1000 {
            cache.learn(address(host), 1300, u64::from(host) * SECOND);
        }
        let now = 1000 * SECOND;
        assert_eq!(cache.len(now), CAPACITY);
        // The latest destinations are the ones kept.
        assert_eq!(cache.get(address(999), now), Some(1300));
        assert_eq!(cache.get(address(999 - CAPACITY as u32), now), None);
    }
}
