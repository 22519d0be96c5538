//! The name servers to ask, one list per source of configuration.
//!
//! Each source replaces its own list whenever it learns something new
//! ([`ServerList::set_servers`]); an empty list withdraws it (a lost
//! lease, an expired RDNSS lifetime). [`ServerList::servers`] gives them
//! all in the order lookups try them: the boot parameters first (the
//! administrator's word), then DHCP, then router advertisements, each in
//! the order its source gave, an address that appears twice only once.

use core::net::IpAddr;

/// Servers kept per source (resolv.conf's MAXNS).
pub const MAX_SERVERS_PER_SOURCE: usize = 3;

/// Where a server address came from, in the order lookups use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServerSource {
    /// `dns=ADDRESS[,ADDRESS]` on the kernel command line, or the
    /// application.
    BootParameters,
    /// Option 6 of the DHCPv4 lease.
    Dhcp,
    /// The RDNSS option of IPv6 router advertisements (RFC 8106).
    RouterAdvertisement,
}

const SOURCES: [ServerSource; 3] = [
    ServerSource::BootParameters,
    ServerSource::Dhcp,
    ServerSource::RouterAdvertisement,
];

/// The lists of all sources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerList {
    lists: [[Option<IpAddr>; MAX_SERVERS_PER_SOURCE]; SOURCES.len()],
}

impl ServerList {
    /// Replaces `source`'s servers with the first
    /// [`MAX_SERVERS_PER_SOURCE`] usable addresses of `servers` (not
    /// unspecified, broadcast or multicast; each once).
    pub fn set_servers(&mut self, source: ServerSource, servers: &[IpAddr]) {
        let mut list = [None; MAX_SERVERS_PER_SOURCE];
        let mut usable = servers.iter().copied().filter(|a| usable(*a));
        let mut count = 0;
        while count < MAX_SERVERS_PER_SOURCE {
            let Some(address) = usable.next() else {
                break;
            };
            if !list.contains(&Some(address)) {
                list[count] = Some(address);
                count += 1;
            }
        }
        self.lists[source as usize] = list;
    }

    /// The servers `source` gave.
    pub fn servers_of(&self, source: ServerSource) -> impl Iterator<Item = IpAddr> + '_ {
        self.lists[source as usize].iter().flatten().copied()
    }

    /// Every server, in the order lookups try them, each once.
    pub fn servers(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let all = SOURCES.iter().flat_map(|source| self.servers_of(*source));
        all.enumerate().filter_map(move |(index, address)| {
            let mut earlier = SOURCES
                .iter()
                .flat_map(|source| self.servers_of(*source))
                .take(index);
            (!earlier.any(|seen| seen == address)).then_some(address)
        })
    }

    /// Whether no source gave any server.
    pub fn is_empty(&self) -> bool {
        self.servers().next().is_none()
    }
}

/// Whether a name server can be at `address`.
fn usable(address: IpAddr) -> bool {
    let broadcast = matches!(address, IpAddr::V4(v4) if v4.is_broadcast());
    !(address.is_unspecified() || address.is_multicast() || broadcast)
}
