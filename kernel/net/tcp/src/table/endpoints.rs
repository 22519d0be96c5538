//! Connection keys: a 4-tuple in its family's own size, so an IPv4
//! connection's key (and the TIME-WAIT record that carries one) stays 12
//! bytes while an IPv6 one takes 40.
//!
//! [`Endpoints`] is the key the engine builds from a pair of socket
//! addresses; each family's maps hold their own [`Tuple`] type
//! ([`Endpoints4`], [`Endpoints6`]). An IPv6 key carries the pair's zone
//! (0 unless an address is link-local, see `crate::address`): the same
//! link-local addresses on two links are two connections.

use core::fmt::Debug;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

use crate::address::{pair_zone, scoped};

/// One family's key type.
pub trait Tuple: Copy + Ord + Debug {
    /// The key as the engine passes it around.
    fn endpoints(self) -> Endpoints;
    /// The ticket of a TIME-WAIT record numbered `number` in this
    /// family's queue.
    fn ticket(number: u32) -> Ticket;
}

/// An IPv4 4-tuple: 12 bytes (the two ports share a word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoints4 {
    local_address: u32,
    remote_address: u32,
    /// The local port in the high half, the remote port in the low half.
    ports: u32,
}

/// An IPv6 4-tuple with the zone of a link-local pair: 40 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoints6 {
    local_address: [u8; 16],
    remote_address: [u8; 16],
    /// As in [`Endpoints4`].
    ports: u32,
    zone: u32,
}

/// A connection's 4-tuple, of either family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoints {
    /// Both ends IPv4.
    V4(Endpoints4),
    /// Both ends IPv6.
    V6(Endpoints6),
}

/// Names a TIME-WAIT record: its family's queue and its place there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ticket {
    /// In the IPv4 queue.
    V4(u32),
    /// In the IPv6 queue.
    V6(u32),
}

fn ports(local: u16, remote: u16) -> u32 {
    (u32::from(local) << 16) | u32::from(remote)
}

fn as_ipv6(address: IpAddr) -> Ipv6Addr {
    match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

impl Endpoints {
    /// The key of (local, remote). A pair of mixed families, which no
    /// segment has, is keyed as two IPv4-mapped addresses.
    pub fn new(local: SocketAddr, remote: SocketAddr) -> Self {
        let ports = ports(local.port(), remote.port());
        match (local.ip(), remote.ip()) {
            (IpAddr::V4(ours), IpAddr::V4(theirs)) => Self::V4(Endpoints4 {
                local_address: ours.to_bits(),
                remote_address: theirs.to_bits(),
                ports,
            }),
            (ours, theirs) => Self::V6(Endpoints6 {
                local_address: as_ipv6(ours).octets(),
                remote_address: as_ipv6(theirs).octets(),
                ports,
                zone: pair_zone(local, remote),
            }),
        }
    }

    /// The local address and port.
    pub fn local(&self) -> SocketAddr {
        match self {
            Self::V4(key) => {
                let port = (key.ports >> 16) as u16;
                let address = Ipv4Addr::from_bits(key.local_address);
                SocketAddr::V4(SocketAddrV4::new(address, port))
            }
            Self::V6(key) => {
                let address = IpAddr::V6(Ipv6Addr::from(key.local_address));
                scoped(address, (key.ports >> 16) as u16, key.zone)
            }
        }
    }

    /// The remote address and port.
    pub fn remote(&self) -> SocketAddr {
        match self {
            Self::V4(key) => {
                let address = Ipv4Addr::from_bits(key.remote_address);
                SocketAddr::V4(SocketAddrV4::new(address, key.ports as u16))
            }
            Self::V6(key) => {
                let address = IpAddr::V6(Ipv6Addr::from(key.remote_address));
                scoped(address, key.ports as u16, key.zone)
            }
        }
    }
}

impl Tuple for Endpoints4 {
    fn endpoints(self) -> Endpoints {
        Endpoints::V4(self)
    }

    fn ticket(number: u32) -> Ticket {
        Ticket::V4(number)
    }
}

impl Tuple for Endpoints6 {
    fn endpoints(self) -> Endpoints {
        Endpoints::V6(self)
    }

    fn ticket(number: u32) -> Ticket {
        Ticket::V6(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_give_back_their_addresses_in_their_family_size() {
        let local: SocketAddr = "[fe80::1%3]:80".parse().unwrap();
        let remote: SocketAddr = "[fe80::2%3]:5000".parse().unwrap();
        let key = Endpoints::new(local, remote);
        assert_eq!((key.local(), key.remote()), (local, remote));
        let other_link: SocketAddr = "[fe80::2%4]:5000".parse().unwrap();
        assert_ne!(key, Endpoints::new(local, other_link));
        let local: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let remote: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let key = Endpoints::new(local, remote);
        assert_eq!((key.local(), key.remote()), (local, remote));
        assert_eq!(core::mem::size_of::<Endpoints4>(), 12);
        assert_eq!(core::mem::size_of::<Endpoints6>(), 40);
    }
}
