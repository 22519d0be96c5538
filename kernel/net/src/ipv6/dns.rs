//! Recursive DNS servers from router advertisements (RFC 8106), with
//! their lifetimes, for the DNS resolver.
//!
//! Each RDNSS option adds or refreshes its servers until their lifetime
//! ends; a lifetime of zero removes them. At most [`MAX_SERVERS`] are
//! kept (RFC 8106 5.3.1 asks for three at least); when full, a new server
//! replaces the one that expires first, if that one expires before it.
//! Multicast, unspecified and loopback addresses are never servers.
//! The list in force, most recently advertised first, is
//! [`crate::Stack::ipv6_dns_servers`]; the stack hands it to the resolver
//! as its [`crate::ServerSource::RouterAdvertisement`] servers whenever it
//! changes ([`DnsServers::take_changed`]).

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use super::address::FOREVER;
use super::router::expiry;
use crate::interface::InterfaceIndex;
use crate::memory::Budget;

/// Servers kept at most.
pub const MAX_SERVERS: usize = 8;

/// One server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsServer {
    /// The interface whose router advertised it.
    pub interface: InterfaceIndex,
    /// Its address.
    pub address: Ipv6Addr,
    /// When to stop using it ([`FOREVER`]: never).
    pub expires_ns: u64,
}

/// The servers known.
pub struct DnsServers {
    /// Most recently advertised first.
    servers: Vec<DnsServer>,
    budget: Budget,
    /// Servers came or went since the last [`DnsServers::take_changed`].
    changed: bool,
}

const SERVER_BYTES: usize = core::mem::size_of::<DnsServer>();

impl DnsServers {
    /// None known; entries are charged to `budget`.
    pub fn new(budget: Budget) -> Self {
        Self {
            servers: Vec::new(),
            budget,
            changed: false,
        }
    }

    /// Whether servers came or went since the last call.
    pub fn take_changed(&mut self) -> bool {
        core::mem::take(&mut self.changed)
    }

    /// An RDNSS option from `interface`: `servers`, valid `lifetime_s`.
    pub fn update(
        &mut self,
        now_ns: u64,
        interface: InterfaceIndex,
        lifetime_s: u32,
        servers: impl Iterator<Item = Ipv6Addr>,
    ) {
        let expires_ns = expiry(now_ns, lifetime_s);
        for address in servers.take(MAX_SERVERS) {
            if address.is_multicast() || address.is_unspecified() || address.is_loopback() {
                continue;
            }
            self.remove(|s| s.address == address && s.interface == interface);
            if lifetime_s == 0 {
                continue;
            }
            let server = DnsServer {
                interface,
                address,
                expires_ns,
            };
            self.insert(server);
        }
    }

    fn insert(&mut self, server: DnsServer) {
        if self.servers.len() >= MAX_SERVERS {
            let soonest = self
                .servers
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.expires_ns)
                .filter(|(_, s)| s.expires_ns < server.expires_ns)
                .map(|(index, _)| index);
            let Some(soonest) = soonest else {
                return;
            };
            self.servers.remove(soonest);
            self.budget.release(SERVER_BYTES);
        }
        if self.budget.charge(SERVER_BYTES) {
            self.servers.insert(0, server);
            self.changed = true;
        }
    }

    fn remove(&mut self, gone: impl Fn(&DnsServer) -> bool) {
        let before = self.servers.len();
        self.servers.retain(|s| !gone(s));
        let removed = before - self.servers.len();
        self.changed |= removed > 0;
        self.budget.release(removed * SERVER_BYTES);
    }

    /// The zone of `address` if a router on some interface advertised it
    /// (for link-local servers).
    pub fn interface_of(&self, address: Ipv6Addr) -> Option<InterfaceIndex> {
        let server = self.servers.iter().find(|s| s.address == address)?;
        Some(server.interface)
    }

    /// The servers in force at `now_ns`, most recently advertised first.
    pub fn current(&self, now_ns: u64) -> impl Iterator<Item = &DnsServer> + '_ {
        self.servers.iter().filter(move |s| s.expires_ns > now_ns)
    }

    /// Forgets the servers whose lifetime ended.
    pub fn expire(&mut self, now_ns: u64) {
        self.remove(|s| s.expires_ns <= now_ns);
    }

    /// Forgets the servers learned on `interface`.
    pub fn flush_interface(&mut self, interface: InterfaceIndex) {
        self.remove(|s| s.interface == interface);
    }

    /// The earliest expiry.
    pub fn next_deadline(&self) -> Option<u64> {
        self.servers
            .iter()
            .map(|s| s.expires_ns)
            .filter(|&deadline| deadline != FOREVER)
            .min()
    }
}

impl Drop for DnsServers {
    fn drop(&mut self) {
        self.budget.release(self.servers.len() * SERVER_BYTES);
    }
}

impl core::fmt::Debug for DnsServers {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.servers.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::link::pool;

    const SECOND: u64 = 1_000_000_000;
    const LAN: InterfaceIndex = InterfaceIndex(0);

    fn server(last: u16) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last)
    }

    #[test]
    fn servers_live_as_long_as_advertised_and_the_list_is_bounded() {
        let pool = pool();
        let budget = Budget::new(pool.memory().account("dns-test"));
        let mut dns = DnsServers::new(budget.clone());
        dns.update(0, LAN, 600, [server(1), server(2)].into_iter());
        let now: Vec<Ipv6Addr> = dns.current(SECOND).map(|s| s.address).collect();
        assert_eq!(now, [server(2), server(1)]);
        assert_eq!(dns.next_deadline(), Some(600 * SECOND));
        dns.update(SECOND, LAN, 0, [server(1)].into_iter());
        assert_eq!(dns.current(SECOND).count(), 1, "lifetime 0 removes");
        dns.update(
            0,
            LAN,
            10,
            [Ipv6Addr::LOCALHOST, "ff02::1".parse().unwrap()].into_iter(),
        );
        assert_eq!(dns.current(0).count(), 1, "no loopback or group servers");
        for last in 10..30 {
            dns.update(
                u64::from(last) * SECOND,
                LAN,
                600,
                [server(last)].into_iter(),
            );
        }
        assert_eq!(dns.current(0).count(), MAX_SERVERS);
        assert_eq!(dns.current(0).next().unwrap().address, server(29));
        dns.update(0, LAN, nd::INFINITE, [server(99)].into_iter());
        assert!(dns.current(u64::MAX - 1).any(|s| s.address == server(99)));
        dns.expire(10_000 * SECOND);
        assert_eq!(dns.current(0).count(), 1, "only the infinite one is left");
        assert_eq!(dns.next_deadline(), None);
        dns.flush_interface(LAN);
        assert_eq!(budget.bytes(), 0);
    }

    use wire::nd;
}
