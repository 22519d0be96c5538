//! IPv6 routing state: default routers, on-link prefixes, static routes
//! and followed redirects, bounded and charged to the `nd` account.
//!
//! The most specific of the on-link prefixes and static routes covering
//! a destination wins ([`Routes::specific`]; a tie goes to the on-link
//! prefix); only when none covers it do redirects and default routers
//! count (`ipv6/output.rs`).
//!
//! Entries learned from the link (`learned`) expire and go with their
//! interface; configured ones stay until removed. A full list refuses
//! new learned entries (the routers a link has are few; a flood of
//! advertisements cannot push out the ones in use).

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv6Addr;

use wire::ipv6::mask;

use crate::interface::InterfaceIndex;
use crate::ipv6::address::FOREVER;
use crate::ipv6::neighbor::{NeighborCache, NudState};
use crate::memory::Budget;

/// Default routers held at most.
pub const MAX_ROUTERS: usize = 8;
/// On-link prefixes held at most.
pub const MAX_PREFIXES: usize = 16;
/// Followed redirects held at most.
pub const MAX_REDIRECTS: usize = 16;
/// Static routes held at most.
pub const MAX_STATIC_ROUTES: usize = 32;

/// A default router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Router {
    /// Its interface.
    pub interface: InterfaceIndex,
    /// Its (link-local) address.
    pub address: Ipv6Addr,
    /// When it stops being one ([`FOREVER`]: never).
    pub expires_ns: u64,
    /// Learned from an advertisement (not configured).
    pub learned: bool,
}

/// An on-link prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// Its interface.
    pub interface: InterfaceIndex,
    /// The network.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub length: u8,
    /// When it stops being on-link ([`FOREVER`]: never).
    pub expires_ns: u64,
    /// Learned from an advertisement (not configured).
    pub learned: bool,
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} if {}", self.prefix, self.length, self.interface.0)
    }
}

/// A configured route (`ip6.route=`, route add -inet6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticRoute {
    /// The interface it leaves by.
    pub interface: InterfaceIndex,
    /// The network.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub length: u8,
    /// The next hop, or `None` for a network on that link.
    pub gateway: Option<Ipv6Addr>,
}

impl fmt::Display for StaticRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.prefix, self.length)?;
        match self.gateway {
            Some(gateway) => write!(f, " via {gateway}"),
            None => f.write_str(" connected"),
        }?;
        write!(f, " if {}", self.interface.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Redirect {
    interface: InterfaceIndex,
    destination: Ipv6Addr,
    target: Ipv6Addr,
    expires_ns: u64,
}

/// The routing state.
pub struct Routes {
    routers: Vec<Router>,
    prefixes: Vec<Prefix>,
    statics: Vec<StaticRoute>,
    redirects: Vec<Redirect>,
    budget: Budget,
}

/// Adds or refreshes an entry of a bounded list, charging a new one.
fn upsert<T>(
    list: &mut Vec<T>,
    budget: &Budget,
    limit: usize,
    same: impl Fn(&T) -> bool,
    entry: T,
) {
    if let Some(existing) = list.iter_mut().find(|e| same(e)) {
        *existing = entry;
    } else if list.len() < limit && budget.charge(core::mem::size_of::<T>()) {
        list.push(entry);
    }
}

/// Removes the entries `gone` says, releasing their charge.
fn remove<T>(list: &mut Vec<T>, budget: &Budget, gone: impl Fn(&T) -> bool) {
    let before = list.len();
    list.retain(|entry| !gone(entry));
    budget.release((before - list.len()) * core::mem::size_of::<T>());
}

impl Routes {
    /// Nothing known; entries are charged to `budget`.
    pub fn new(budget: Budget) -> Self {
        Self {
            routers: Vec::new(),
            prefixes: Vec::new(),
            statics: Vec::new(),
            redirects: Vec::new(),
            budget,
        }
    }

    /// Adds or refreshes a default router.
    pub fn set_router(
        &mut self,
        interface: InterfaceIndex,
        address: Ipv6Addr,
        expires_ns: u64,
        learned: bool,
    ) {
        let router = Router {
            interface,
            address,
            expires_ns,
            learned,
        };
        let same = |r: &Router| r.interface == interface && r.address == address;
        upsert(&mut self.routers, &self.budget, MAX_ROUTERS, same, router);
    }

    /// Removes a default router.
    pub fn remove_router(&mut self, interface: InterfaceIndex, address: Ipv6Addr) {
        remove(&mut self.routers, &self.budget, |r| {
            r.interface == interface && r.address == address
        });
    }

    /// Adds or refreshes an on-link prefix.
    pub fn set_prefix(
        &mut self,
        interface: InterfaceIndex,
        prefix: Ipv6Addr,
        length: u8,
        expires_ns: u64,
        learned: bool,
    ) {
        let prefix = mask(prefix, length);
        let entry = Prefix {
            interface,
            prefix,
            length,
            expires_ns,
            learned,
        };
        let same =
            |p: &Prefix| p.interface == interface && p.prefix == prefix && p.length == length;
        upsert(&mut self.prefixes, &self.budget, MAX_PREFIXES, same, entry);
    }

    /// Removes an on-link prefix.
    pub fn remove_prefix(&mut self, interface: InterfaceIndex, prefix: Ipv6Addr, length: u8) {
        let prefix = mask(prefix, length);
        remove(&mut self.prefixes, &self.budget, |p| {
            p.interface == interface && p.prefix == prefix && p.length == length
        });
    }

    /// Follows a redirect of `destination` to `target`.
    pub fn set_redirect(
        &mut self,
        interface: InterfaceIndex,
        destination: Ipv6Addr,
        target: Ipv6Addr,
        expires_ns: u64,
    ) {
        let entry = Redirect {
            interface,
            destination,
            target,
            expires_ns,
        };
        let same = |r: &Redirect| r.destination == destination;
        upsert(
            &mut self.redirects,
            &self.budget,
            MAX_REDIRECTS,
            same,
            entry,
        );
    }

    /// Adds (or replaces) the static route to `route.prefix/length`; false
    /// when the table is full or the memory refused.
    pub fn add_route(&mut self, mut route: StaticRoute) -> bool {
        route.prefix = mask(route.prefix, route.length);
        let same = |r: &StaticRoute| r.prefix == route.prefix && r.length == route.length;
        upsert(
            &mut self.statics,
            &self.budget,
            MAX_STATIC_ROUTES,
            same,
            route,
        );
        self.statics.contains(&route)
    }

    /// Removes the static route to `prefix/length`; false when there was
    /// none.
    pub fn remove_route(&mut self, prefix: Ipv6Addr, length: u8) -> bool {
        let prefix = mask(prefix, length);
        let before = self.statics.len();
        remove(&mut self.statics, &self.budget, |r| {
            r.prefix == prefix && r.length == length
        });
        self.statics.len() != before
    }

    /// Static routes.
    pub fn static_routes(&self) -> &[StaticRoute] {
        &self.statics
    }

    /// The interface whose longest on-link prefix covers `destination`.
    pub fn on_link(&self, destination: Ipv6Addr) -> Option<InterfaceIndex> {
        self.prefixes
            .iter()
            .filter(|p| mask(destination, p.length) == p.prefix)
            .max_by_key(|p| p.length)
            .map(|p| p.interface)
    }

    /// The most specific on-link prefix or static route that covers
    /// `destination`: the interface and the neighbour to send to.
    pub fn specific(&self, destination: Ipv6Addr) -> Option<(InterfaceIndex, Ipv6Addr)> {
        let on_link = (self.prefixes.iter())
            .filter(|p| mask(destination, p.length) == p.prefix)
            .map(|p| (p.length, 1, p.interface, destination));
        let statics = (self.statics.iter())
            .filter(|r| mask(destination, r.length) == r.prefix)
            .map(|r| (r.length, 0, r.interface, r.gateway.unwrap_or(destination)));
        on_link
            .chain(statics)
            .max_by_key(|&(length, on_link, ..)| (length, on_link))
            .map(|(_, _, interface, neighbour)| (interface, neighbour))
    }

    /// Where a followed redirect sends `destination`.
    pub fn redirect(&self, destination: Ipv6Addr) -> Option<(InterfaceIndex, Ipv6Addr)> {
        self.redirects
            .iter()
            .find(|r| r.destination == destination)
            .map(|r| (r.interface, r.target))
    }

    /// The default router to use: one with a resolved link-layer address
    /// if there is one, else the first (RFC 4861 6.3.6).
    pub fn default_router(&self, neighbors: &NeighborCache) -> Option<&Router> {
        let resolved = |r: &&Router| {
            neighbors
                .state(r.interface, r.address)
                .is_some_and(|state| state != NudState::Incomplete)
        };
        self.routers
            .iter()
            .find(resolved)
            .or_else(|| self.routers.first())
    }

    /// Default routers.
    pub fn routers(&self) -> &[Router] {
        &self.routers
    }

    /// On-link prefixes.
    pub fn prefixes(&self) -> &[Prefix] {
        &self.prefixes
    }

    /// Drops what expired by `now_ns`.
    pub fn expire(&mut self, now_ns: u64) {
        remove(&mut self.routers, &self.budget, |r| r.expires_ns <= now_ns);
        remove(&mut self.prefixes, &self.budget, |p| p.expires_ns <= now_ns);
        remove(&mut self.redirects, &self.budget, |r| {
            r.expires_ns <= now_ns
        });
    }

    /// The earliest expiry.
    pub fn next_deadline(&self) -> Option<u64> {
        let routers = self.routers.iter().map(|r| r.expires_ns);
        let prefixes = self.prefixes.iter().map(|p| p.expires_ns);
        let redirects = self.redirects.iter().map(|r| r.expires_ns);
        routers
            .chain(prefixes)
            .chain(redirects)
            .filter(|&deadline| deadline != FOREVER)
            .min()
    }

    /// Forgets what `interface` learned (it went down).
    pub fn flush_learned(&mut self, interface: InterfaceIndex) {
        remove(&mut self.routers, &self.budget, |r| {
            r.interface == interface && r.learned
        });
        remove(&mut self.prefixes, &self.budget, |p| {
            p.interface == interface && p.learned
        });
        remove(&mut self.redirects, &self.budget, |r| {
            r.interface == interface
        });
    }

    /// Removes the configured default routers of `interface`.
    pub fn remove_configured_routers(&mut self, interface: InterfaceIndex) {
        remove(&mut self.routers, &self.budget, |r| {
            r.interface == interface && !r.learned
        });
    }
}

impl Drop for Routes {
    fn drop(&mut self) {
        self.budget.release(
            self.routers.len() * core::mem::size_of::<Router>()
                + self.prefixes.len() * core::mem::size_of::<Prefix>()
                + self.statics.len() * core::mem::size_of::<StaticRoute>()
                + self.redirects.len() * core::mem::size_of::<Redirect>(),
        );
    }
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Routes")
            .field("routers", &self.routers)
            .field("prefixes", &self.prefixes)
            .finish_non_exhaustive()
    }
}
