//! Addresses of either family as the engine holds them, and what differs
//! between IPv4 and IPv6 for TCP.
//!
//! Every endpoint is a `SocketAddr` of the family its packets travel in:
//! the IPv4 peer of a dual-stack socket is a `SocketAddr::V4` here (the
//! socket layer shows it IPv4-mapped). An IPv6 endpoint's scope id is its
//! zone when either address of the pair is link-local (the interface the
//! IP layer numbers it by, see [`Path::zone`]) and 0 otherwise, so a
//! connection has one key however its peer was named.
//!
//! Per family: the headers a segment travels under (20 or 40 bytes of IP),
//! the MSS assumed when a SYN carries none (536, or 1220 for IPv6, RFC
//! 9293 3.7.1), and the smallest path MTU (IPv6 links carry 1280 bytes,
//! RFC 8200 5).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

/// The TCP header without options.
const TCP_HEADER: u16 = 20;

/// The smallest MTU of an IPv6 link (RFC 8200 5).
pub const IPV6_MINIMUM_MTU: u16 = 1280;

/// The addresses of one segment as the IP layer needs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path {
    /// Our address.
    pub source: IpAddr,
    /// The peer's.
    pub destination: IpAddr,
    /// The zone of a link-local IPv6 pair: the scope id the IP layer gave
    /// the interface (0: none, the IP layer chooses).
    pub zone: u32,
}

impl Path {
    /// The path from `local` to `remote` (the zone is the remote's scope).
    pub fn between(local: SocketAddr, remote: SocketAddr) -> Self {
        Self {
            source: local.ip(),
            destination: remote.ip(),
            zone: zone_of(remote),
        }
    }
}

/// An IPv6 address whose meaning depends on its link.
fn link_scoped(address: Ipv6Addr) -> bool {
    address.is_unicast_link_local() || address.is_multicast()
}

/// `address:port` with `zone` as its scope id if it is a link-local IPv6
/// address, and none otherwise (IPv4 has no zones).
pub fn scoped(address: IpAddr, port: u16, zone: u32) -> SocketAddr {
    match address {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), port),
        IpAddr::V6(v6) => {
            let zone = if link_scoped(v6) { zone } else { 0 };
            SocketAddr::V6(SocketAddrV6::new(v6, port, 0, zone))
        }
    }
}

/// The zone a socket address carries (0 for IPv4 and global IPv6).
pub fn zone_of(address: SocketAddr) -> u32 {
    match address {
        SocketAddr::V4(_) => 0,
        SocketAddr::V6(v6) => v6.scope_id(),
    }
}

/// The zone of a pair: the link-local one's (both carry the same).
pub fn pair_zone(local: SocketAddr, remote: SocketAddr) -> u32 {
    zone_of(remote).max(zone_of(local))
}

/// IP and TCP headers without options, over `address`'s family.
pub fn headers(address: IpAddr) -> u16 {
    match address {
        IpAddr::V4(_) => 20 + TCP_HEADER,
        IpAddr::V6(_) => 40 + TCP_HEADER,
    }
}

/// The MSS to assume of a peer whose SYN says none (RFC 9293 3.7.1).
pub fn default_segment_size(address: IpAddr) -> u16 {
    match address {
        IpAddr::V4(_) => 536,
        IpAddr::V6(_) => IPV6_MINIMUM_MTU - headers(address),
    }
}

/// The path MTU to use for `mtu` over `address`'s family: IPv6 never
/// goes below its minimum link MTU.
pub fn path_mtu(address: IpAddr, mtu: u16) -> u16 {
    match address {
        IpAddr::V4(_) => mtu,
        IpAddr::V6(_) => mtu.max(IPV6_MINIMUM_MTU),
    }
}

/// An address no connection can have at either end: unspecified,
/// broadcast or multicast, or IPv4-mapped (those travel as IPv4).
pub fn unusable(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_broadcast() || v4.is_multicast() || v4.is_unspecified(),
        IpAddr::V6(v6) => v6.is_multicast() || v6.is_unspecified() || v6.to_ipv4_mapped().is_some(),
    }
}

/// The wildcard of `address`'s family.
pub fn unspecified_like(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

/// A bound address: the address and, for the IPv6 wildcard, whether it
/// is IPv6 only (IPV6_V6ONLY) or takes IPv4 as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The address bound.
    pub address: IpAddr,
    /// IPV6_V6ONLY.
    pub v6_only: bool,
}

impl Binding {
    /// Whether a socket bound here receives what comes to `address`.
    pub fn covers(&self, address: IpAddr) -> bool {
        if self.address == address {
            return true;
        }
        match self.address {
            IpAddr::V4(any) => any.is_unspecified() && address.is_ipv4(),
            IpAddr::V6(any) => any.is_unspecified() && (address.is_ipv6() || !self.v6_only),
        }
    }

    /// Whether a socket bound here can talk to `peer`: one of its own
    /// family, or of IPv4 from a dual-stack wildcard.
    pub fn reaches(&self, peer: IpAddr) -> bool {
        match (self.address, peer) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => true,
            (IpAddr::V6(any), IpAddr::V4(_)) => any.is_unspecified() && !self.v6_only,
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        }
    }

    /// Whether two bindings share a port space: one covers the other's
    /// address (a dual-stack `::` and `0.0.0.0` do).
    pub fn overlaps(&self, other: &Binding) -> bool {
        self.covers(other.address) || other.covers(self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_stick_to_link_local_addresses_only() {
        let link: IpAddr = "fe80::1".parse().unwrap();
        let global: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(zone_of(scoped(link, 80, 3)), 3);
        assert_eq!(zone_of(scoped(global, 80, 3)), 0);
        assert_eq!(zone_of(scoped(IpAddr::V4(Ipv4Addr::LOCALHOST), 80, 3)), 0);
    }

    #[test]
    fn a_dual_stack_wildcard_overlaps_ipv4_unless_v6_only() {
        let v4 = |text: &str| Binding {
            address: text.parse().unwrap(),
            v6_only: false,
        };
        let dual = v4("::");
        let only = Binding {
            v6_only: true,
            ..dual
        };
        assert!(dual.overlaps(&v4("0.0.0.0")) && dual.overlaps(&v4("10.0.0.1")));
        assert!(!only.overlaps(&v4("0.0.0.0")) && only.overlaps(&v4("fd00::1")));
        assert!(!v4("fd00::1").overlaps(&v4("10.0.0.1")));
        assert!(!v4("0.0.0.0").overlaps(&v4("fd00::1")));
        assert!(v4("0.0.0.0").overlaps(&v4("10.0.0.1")));
    }

    #[test]
    fn ipv6_segments_are_sized_for_its_headers_and_minimum_mtu() {
        let v6: IpAddr = "fd00::1".parse().unwrap();
        assert_eq!(default_segment_size(v6), 1220);
        assert_eq!(path_mtu(v6, 600), 1280);
        let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!((headers(v4), default_segment_size(v4)), (40, 536));
        assert!(unusable("::ffff:10.0.0.1".parse().unwrap()));
    }
}
