//! The path MTU cache of both families (RFC 1191, RFC 8201).
//!
//! What ICMP "fragmentation needed" and ICMPv6 Packet Too Big taught about
//! destinations beyond our links, keyed by `IpAddr`. TCP validates a
//! message that quotes its segment against the connection (RFC 5927,
//! `tcp::Tcp::icmp_too_big`) before the glue stores its MTU here; an
//! ICMPv6 one about another protocol (UDP) is believed, as there is
//! nothing to check it against. [`crate::ipv4::IpLayer::next_hop`] and
//! `next_hop6` then hand the smaller MTU to new connections (their MSS)
//! and to datagrams (their fragments). An MTU only falls, never below
//! the family's floor (`tcp::address::plausible_path_mtu`: 552 for IPv4,
//! 1280 for IPv6), and holds ten minutes, as on Linux (RFC 1191 and RFC
//! 8201 5.3 both suggest it), after which the larger MTU is tried again.
//! The cache holds [`CAPACITY`] entries in place (no heap): a new
//! destination replaces the entry that expires first, so a flood of
//! forged messages can only churn it, never grow it.

use core::net::IpAddr;

use tcp::address::plausible_path_mtu;

/// Destinations remembered at most, both families together.
pub const CAPACITY: usize = 32;

/// How long a learned MTU holds.
pub const LIFETIME_NS: u64 = 600_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    destination: IpAddr,
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
    pub fn get(&self, destination: IpAddr, now_ns: u64) -> Option<u16> {
        self.live(now_ns)
            .find(|entry| entry.destination == destination)
            .map(|entry| entry.mtu)
    }

    /// An ICMP says `mtu` for `destination`: remembered for
    /// [`LIFETIME_NS`] if plausible and below what is known. True when
    /// it lowered the MTU.
    pub fn lower(&mut self, destination: IpAddr, mtu: u32, now_ns: u64) -> bool {
        let Some(mtu) = plausible_path_mtu(destination, mtu) else {
            return false;
        };
        if self
            .get(destination, now_ns)
            .is_some_and(|known| known <= mtu)
        {
            return false;
        }
        let slot = self
            .entries
            .iter()
            .position(|slot| slot.is_some_and(|old| old.destination == destination))
            .unwrap_or_else(|| self.first_to_expire());
        self.entries[slot] = Some(Entry {
            destination,
            mtu,
            expires_ns: now_ns.saturating_add(LIFETIME_NS),
        });
        true
    }

    /// Destinations with a live entry: (IPv4, IPv6).
    pub fn counts(&self, now_ns: u64) -> (usize, usize) {
        let ipv4 = self.live(now_ns).filter(|e| e.destination.is_ipv4());
        let ipv4 = ipv4.count();
        (ipv4, self.live(now_ns).count() - ipv4)
    }

    /// Whether no entry is live.
    pub fn is_empty(&self, now_ns: u64) -> bool {
        self.live(now_ns).next().is_none()
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
    use core::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn v4(host: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + host))
    }

    fn v6(host: u16) -> IpAddr {
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, host))
    }

    #[test]
    fn an_entry_only_falls_holds_ten_minutes_and_is_replaced_in_place() {
        let mut cache = PathMtuCache::default();
        assert!(cache.lower(v4(1), 1400, 0));
        assert!(cache.lower(v4(1), 1280, SECOND));
        assert!(!cache.lower(v4(1), 1450, SECOND), "only down");
        assert_eq!(cache.get(v4(1), 2 * SECOND), Some(1280));
        assert_eq!(cache.counts(2 * SECOND), (1, 0));
        assert_eq!(cache.get(v4(2), 2 * SECOND), None);
        assert_eq!(cache.get(v4(1), SECOND + LIFETIME_NS), None);
        assert!(cache.is_empty(SECOND + LIFETIME_NS));
    }

    #[test]
    fn each_family_keeps_its_floor() {
        let mut cache = PathMtuCache::default();
        assert!(!cache.lower(v4(1), 300, 0), "implausible for IPv4");
        assert!(cache.lower(v6(1), 600, 0));
        assert_eq!(cache.get(v6(1), 1), Some(1280), "IPv6's minimum");
        assert!(!cache.lower(v6(1), 1000, 1), "still 1280");
        assert_eq!(cache.counts(1), (0, 1));
    }

    #[test]
    fn a_flood_of_destinations_keeps_the_cache_bounded_and_fresh() {
        let mut cache = PathMtuCache::default();
        for host in 0..1000 {
            cache.lower(v4(host), 1300, u64::from(host) * SECOND);
        }
        let now = 1000 * SECOND;
        assert_eq!(cache.counts(now), (CAPACITY, 0));
        // The latest destinations are the ones kept.
        assert_eq!(cache.get(v4(999), now), Some(1300));
        assert_eq!(cache.get(v4(999 - CAPACITY as u32), now), None);
        // IPv6 destinations share the room and the policy.
        for host in 0..CAPACITY as u16 {
            cache.lower(v6(host), 1400, now + u64::from(host));
        }
        assert_eq!(cache.counts(now + SECOND), (0, CAPACITY));
        assert_eq!(cache.get(v4(999), now + SECOND), None, "the oldest went");
    }
}
