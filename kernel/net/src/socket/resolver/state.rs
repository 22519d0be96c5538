//! The resolver's state in the stack: name servers per source, the cache.
//!
//! It lives under the stack lock (in the descriptor table, the
//! system-call layer's state), so that whatever learns a server inside the
//! stack sets it in place: the DHCP glue on a lease (option 6), the stack
//! after a router advertisement changed the IPv6 layer's RDNSS list
//! (`Stack::sync_router_name_servers`), through [`Stack::set_name_servers`]. The boot parameter `dns=` is read at the
//! first lookup. The cache's memory is charged to the `sockets` account;
//! a refused charge empties the cache.

use alloc::vec::Vec;
use core::net::IpAddr;

use base::params::BootParams;
use dns::{Answer, Cache, DEFAULT_CAPACITY, Family, Name, Resolution, ServerList, ServerSource};
use log::warn;

use crate::memory::Budget;
use crate::stack::Stack;

/// What the resolver did, for `/stats` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolverStats {
    /// Calls to `resolve` that asked a server.
    pub lookups: u64,
    /// Families answered from the cache.
    pub cache_hits: u64,
    /// Queries sent (UDP and TCP).
    pub queries: u64,
    /// Queries that went over TCP after a truncated answer.
    pub tcp_queries: u64,
    /// Messages ignored: malformed, another id or question (spoofing).
    pub rejected: u64,
    /// Waits for an answer that ran out.
    pub timeouts: u64,
}

/// The resolver's share of the stack.
#[derive(Debug)]
pub struct ResolverState {
    servers: ServerList,
    cache: Cache,
    budget: Budget,
    /// Bytes of the cache charged to `budget`.
    charged: usize,
    boot_servers_read: bool,
    /// Counters.
    pub stats: ResolverStats,
}

impl ResolverState {
    /// No servers, an empty cache of the default capacity charging `budget`.
    pub fn new(budget: Budget) -> Self {
        Self {
            servers: ServerList::default(),
            cache: Cache::new(DEFAULT_CAPACITY),
            budget,
            charged: 0,
            boot_servers_read: false,
            stats: ResolverStats::default(),
        }
    }

    /// The servers of every source.
    pub fn servers(&self) -> &ServerList {
        &self.servers
    }

    /// Replaces the servers `source` gave (an empty list withdraws them).
    /// The application's own list (as [`ServerSource::BootParameters`])
    /// replaces the boot parameter's for good.
    pub fn set_servers(&mut self, source: ServerSource, servers: &[IpAddr]) {
        if source == ServerSource::BootParameters {
            self.boot_servers_read = true;
        }
        self.servers.set_servers(source, servers);
    }

    /// The cache (for its counters).
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Forgets every cached answer.
    pub fn clear_cache(&mut self) {
        self.cache.clear();
        self.budget.release(core::mem::take(&mut self.charged));
    }

    /// Reads `dns=ADDRESS[,ADDRESS]` once; addresses that do not parse
    /// are logged and skipped.
    pub(crate) fn read_boot_servers(&mut self, params: &BootParams) {
        if core::mem::replace(&mut self.boot_servers_read, true) {
            return;
        }
        let Some(text) = params.get("dns") else {
            return;
        };
        let mut servers = Vec::new();
        for word in text.split(',').filter(|word| !word.is_empty()) {
            match word.parse::<IpAddr>() {
                Ok(address) => servers.push(address),
                Err(_) => warn!("dns={word} is not an address; skipped"),
            }
        }
        self.servers
            .set_servers(ServerSource::BootParameters, &servers);
    }

    /// A cached answer for `name` in `family`.
    pub(crate) fn cached(
        &mut self,
        now_ns: u64,
        name: &Name,
        family: Family,
    ) -> Option<Resolution> {
        let found = self.cache.lookup(now_ns, name, family);
        self.stats.cache_hits += u64::from(found.is_some());
        found
    }

    /// Caches `answer`, charging what the cache grew by.
    pub(crate) fn remember(&mut self, now_ns: u64, name: &Name, family: Family, answer: &Answer) {
        self.cache.insert(now_ns, name, family, answer);
        let footprint = self.cache.footprint();
        if footprint > self.charged {
            if self.budget.charge(footprint - self.charged) {
                self.charged = footprint;
            } else {
                self.clear_cache();
            }
        }
    }
}

impl Drop for ResolverState {
    fn drop(&mut self) {
        self.budget.release(self.charged);
    }
}

impl Stack {
    /// Replaces the name servers `source` gave: the DHCP glue calls it
    /// with option 6 of each lease, the IPv6 layer with RDNSS options.
    pub fn set_name_servers(&mut self, source: ServerSource, servers: &[IpAddr]) {
        self.sockets.resolver.set_servers(source, servers);
    }

    /// The name servers lookups ask, in order.
    pub fn name_servers(&self) -> Vec<IpAddr> {
        self.sockets.resolver.servers().servers().collect()
    }

    /// Hands the RDNSS servers in force to the resolver if they changed
    /// (a router advertisement, a lifetime that ended, an interface that
    /// went down): the stack calls it after IPv6 input and timers.
    pub(crate) fn sync_router_name_servers(&mut self) {
        if !self.ip.v6.dns.take_changed() {
            return;
        }
        let servers: Vec<IpAddr> = self
            .ipv6_dns_servers()
            .into_iter()
            .map(IpAddr::V6)
            .collect();
        self.set_name_servers(ServerSource::RouterAdvertisement, &servers);
    }
}
