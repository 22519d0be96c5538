//! The routing table: longest-prefix match over a short list.
//!
//! Interface routes appear when an address is configured and go with it;
//! the default gateway is the route with prefix length 0. A route with a
//! gateway sends to the gateway's MAC; a connected route sends to the
//! destination's own.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use crate::interface::{InterfaceIndex, mask_address};

/// One route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The destination network.
    pub destination: Ipv4Addr,
    /// Its prefix length (0 for the default route).
    pub prefix_length: u8,
    /// The next hop, or `None` for a directly connected network.
    pub gateway: Option<Ipv4Addr>,
    /// The interface to send on.
    pub interface: InterfaceIndex,
}

impl Route {
    fn matches(&self, address: Ipv4Addr) -> bool {
        mask_address(address, self.prefix_length) == self.destination
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.destination, self.prefix_length)?;
        match self.gateway {
            Some(gateway) => write!(f, " via {gateway}"),
            None => f.write_str(" connected"),
        }?;
        write!(f, " if {}", self.interface.0)
    }
}

/// Why a route change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// The table already has a route to this network.
    Exists,
    /// No such route.
    NotFound,
    /// The table is full.
    Full,
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Exists => "route exists",
            Self::NotFound => "no such route",
            Self::Full => "routing table full",
        })
    }
}

impl core::error::Error for RouteError {}

/// Routes the table holds at most.
const MAX_ROUTES: usize = 64;

/// The table.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Adds `route` (its destination is masked to its prefix).
    ///
    /// # Errors
    /// [`RouteError::Exists`], [`RouteError::Full`].
    pub fn add(&mut self, mut route: Route) -> Result<(), RouteError> {
        route.destination = mask_address(route.destination, route.prefix_length);
        let same = |r: &Route| {
            r.destination == route.destination && r.prefix_length == route.prefix_length
        };
        if self.routes.iter().any(same) {
            return Err(RouteError::Exists);
        }
        if self.routes.len() >= MAX_ROUTES {
            return Err(RouteError::Full);
        }
        self.routes.push(route);
        Ok(())
    }

    /// Removes the route to `destination/prefix_length`.
    ///
    /// # Errors
    /// [`RouteError::NotFound`].
    pub fn remove(&mut self, destination: Ipv4Addr, prefix_length: u8) -> Result<(), RouteError> {
        let destination = mask_address(destination, prefix_length);
        let before = self.routes.len();
        self.routes
            .retain(|r| !(r.destination == destination && r.prefix_length == prefix_length));
        if self.routes.len() == before {
            return Err(RouteError::NotFound);
        }
        Ok(())
    }

    /// Removes every route through `interface`.
    pub fn remove_interface(&mut self, interface: InterfaceIndex) {
        self.routes.retain(|r| r.interface != interface);
    }

    /// The most specific route to `address`.
    pub fn lookup(&self, address: Ipv4Addr) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|route| route.matches(address))
            .max_by_key(|route| route.prefix_length)
    }

    /// Every route, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(destination: [u8; 4], prefix_length: u8, gateway: Option<[u8; 4]>) -> Route {
        Route {
            destination: Ipv4Addr::from(destination),
            prefix_length,
            gateway: gateway.map(Ipv4Addr::from),
            interface: InterfaceIndex(1),
        }
    }

    #[test]
    fn longest_prefix_wins_and_default_catches_the_rest() {
        let mut table = RouteTable::default();
        table
            .add(route([0, 0, 0, 0], 0, Some([10, 0, 0, 1])))
            .unwrap();
        table.add(route([10, 0, 0, 0], 24, None)).unwrap();
        table
            .add(route([10, 0, 0, 128], 25, Some([10, 0, 0, 2])))
            .unwrap();
        let via = |a: [u8; 4]| table.lookup(Ipv4Addr::from(a)).unwrap().gateway;
        assert_eq!(via([10, 0, 0, 5]), None);
        assert_eq!(via([10, 0, 0, 200]), Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(via([8, 8, 8, 8]), Some(Ipv4Addr::new(10, 0, 0, 1)));
    }

    #[test]
    fn duplicates_and_removal() {
        let mut table = RouteTable::default();
        table.add(route([10, 0, 0, 9], 24, None)).unwrap();
        assert_eq!(
            table.add(route([10, 0, 0, 0], 24, None)),
            Err(RouteError::Exists)
        );
        assert_eq!(table.remove(Ipv4Addr::new(10, 0, 0, 0), 24), Ok(()));
        assert_eq!(
            table.remove(Ipv4Addr::new(10, 0, 0, 0), 24),
            Err(RouteError::NotFound)
        );
        assert!(table.lookup(Ipv4Addr::new(10, 0, 0, 1)).is_none());
    }
}
