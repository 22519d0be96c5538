//! Path MTUs learned from ICMPv6 Packet Too Big (RFC 8201), per
//! destination.
//!
//! A Packet Too Big about a packet this host sent lowers the path MTU to
//! that packet's destination, never below IPv6's 1280 (RFC 8201 4), for
//! ten minutes (the aging RFC 8201 5.3 suggests); then the link's MTU is
//! tried again. The table is a fixed array of [`ENTRIES`] (nothing to
//! charge, nothing to grow): when full, the entry that expires first
//! gives way, so forged errors can make some paths use smaller packets for
//! a while and nothing worse.
//!
//! What it changes: the route's MTU ([`crate::ipv4::IpLayer::next_hop6`]),
//! so UDP fragments to fit and new TCP connections announce a fitting MSS;
//! and a TCP segment sized for the link that no longer fits the path is
//! fragmented at the source rather than dropped (RFC 8201 allows it), so
//! its connection goes on while TCP shrinks its segments
//! (`tcp::Tcp::packet_too_big`).

use core::net::Ipv6Addr;

use wire::ipv6::MINIMUM_MTU;

/// Destinations remembered at most.
pub const ENTRIES: usize = 16;

/// How long a learned path MTU holds.
pub const LIFETIME_NS: u64 = 600_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    destination: Ipv6Addr,
    mtu: usize,
    expires_ns: u64,
}

/// The learned path MTUs.
#[derive(Debug, Default)]
pub struct PathMtus {
    entries: [Option<Entry>; ENTRIES],
}

impl PathMtus {
    /// A Packet Too Big saying `mtu` for `destination` at `now_ns`; true
    /// when it lowered what was known.
    pub fn lower(&mut self, now_ns: u64, destination: Ipv6Addr, mtu: u32) -> bool {
        let mtu = usize::try_from(mtu).unwrap_or(usize::MAX).max(MINIMUM_MTU);
        if self
            .get(now_ns, destination)
            .is_some_and(|known| known <= mtu)
        {
            return false;
        }
        let entry = Entry {
            destination,
            mtu,
            expires_ns: now_ns.saturating_add(LIFETIME_NS),
        };
        let slot = self.slot_for(now_ns, destination);
        self.entries[slot] = Some(entry);
        true
    }

    /// The path MTU learned for `destination`, if one holds at `now_ns`.
    pub fn get(&self, now_ns: u64, destination: Ipv6Addr) -> Option<usize> {
        let entry = self
            .entries
            .iter()
            .flatten()
            .find(|entry| entry.destination == destination && entry.expires_ns > now_ns)?;
        Some(entry.mtu)
    }

    /// Where an entry for `destination` goes: its own, an empty or
    /// expired one, else the one that expires first.
    fn slot_for(&self, now_ns: u64, destination: Ipv6Addr) -> usize {
        let usable = |entry: &Option<Entry>| match entry {
            None => true,
            Some(entry) => entry.destination == destination || entry.expires_ns <= now_ns,
        };
        let free = self.entries.iter().position(usable);
        free.unwrap_or_else(|| {
            let expiry = |index: &usize| self.entries[*index].map_or(0, |e| e.expires_ns);
            (0..ENTRIES).min_by_key(expiry).unwrap_or(0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u16) -> Ipv6Addr {
        Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, last)
    }

    #[test]
    fn a_path_mtu_only_shrinks_never_below_1280_and_ages_out() {
        let mut table = PathMtus::default();
        assert!(table.lower(0, ip(1), 1400));
        assert!(!table.lower(1, ip(1), 1450), "only down");
        assert!(table.lower(2, ip(1), 600));
        assert_eq!(table.get(3, ip(1)), Some(1280), "IPv6's minimum");
        assert_eq!(table.get(3, ip(2)), None);
        assert_eq!(table.get(2 + LIFETIME_NS, ip(1)), None, "aged out");
    }

    #[test]
    fn a_full_table_gives_up_the_entry_that_expires_first() {
        let mut table = PathMtus::default();
        for last in 0..ENTRIES as u16 {
            assert!(table.lower(u64::from(last), ip(last), 1400));
        }
        assert!(table.lower(100, ip(999), 1300));
        assert_eq!(table.get(101, ip(0)), None, "the oldest went");
        assert_eq!(table.get(101, ip(1)), Some(1400));
        assert_eq!(table.get(101, ip(999)), Some(1300));
    }
}
