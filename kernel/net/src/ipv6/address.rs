//! An interface's IPv6 state: its addresses with their states and
//! lifetimes, the groups it listens to, and what routers told it.
//!
//! An address is born [`AddressState::Tentative`] and sends its DAD
//! probes (RFC 4862 5.4); with no answer it becomes
//! [`AddressState::Preferred`], then [`AddressState::Deprecated`] when its
//! preferred lifetime ends (still accepted, no longer chosen as a source
//! for new traffic), and it goes when its valid lifetime ends. An address
//! someone else holds becomes [`AddressState::Duplicate`] and is never
//! used. At most [`MAX_ADDRESSES`] per interface; the list is charged to
//! the `nd` account as it grows.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv6Addr;

/// Addresses one interface holds at most.
pub const MAX_ADDRESSES: usize = 8;
/// The hop limit until a router says otherwise.
pub const DEFAULT_HOP_LIMIT: u8 = 64;
/// RFC 4861 10: BaseReachableTime.
pub const BASE_REACHABLE_MS: u32 = 30_000;
/// RFC 4861 10: RetransTimer.
pub const RETRANSMIT_NS: u64 = 1_000_000_000;
/// A lifetime that never ends.
pub const FOREVER: u64 = u64::MAX;

/// How an address came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The link-local address every IPv6 interface forms (fe80::/64).
    LinkLocal,
    /// Configured (`ip6=`, ifconfig).
    Static,
    /// Formed from a router's prefix.
    Slaac,
}

/// Where an address is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressState {
    /// Being checked for duplicates: probes still to send, and when the
    /// next goes (or, with none left, when the check ends).
    Tentative {
        /// Probes still to send.
        probes_left: u8,
        /// When the next probe goes or the check ends.
        next_ns: u64,
    },
    /// In use.
    Preferred,
    /// Valid but past its preferred lifetime.
    Deprecated,
    /// Another node holds it: never used.
    Duplicate,
}

/// One address of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6InterfaceAddress {
    /// The address.
    pub address: Ipv6Addr,
    /// The length of its on-link prefix.
    pub prefix_length: u8,
    /// How it came to be.
    pub origin: Origin,
    /// Where it is in its life.
    pub state: AddressState,
    /// When it becomes deprecated ([`FOREVER`]: never).
    pub preferred_until_ns: u64,
    /// When it goes ([`FOREVER`]: never).
    pub valid_until_ns: u64,
    /// RFC 7217's DAD_Counter: how many addresses this one replaced.
    pub(crate) dad_counter: u8,
    /// The nonce of its DAD probes, to recognise our own (RFC 7527).
    pub(crate) nonce: [u8; 6],
}

impl Ipv6InterfaceAddress {
    /// Whether packets may use it (as source or destination).
    pub fn usable(&self) -> bool {
        matches!(
            self.state,
            AddressState::Preferred | AddressState::Deprecated
        )
    }

    /// Whether DAD is still running on it.
    pub fn tentative(&self) -> bool {
        matches!(self.state, AddressState::Tentative { .. })
    }
}

impl fmt::Display for Ipv6InterfaceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            AddressState::Tentative { .. } => "tentative",
            AddressState::Preferred => "preferred",
            AddressState::Deprecated => "deprecated",
            AddressState::Duplicate => "duplicate",
        };
        let origin = match self.origin {
            Origin::LinkLocal => "link-local",
            Origin::Static => "static",
            Origin::Slaac => "slaac",
        };
        write!(
            f,
            "{}/{} {state} {origin}",
            self.address, self.prefix_length
        )
    }
}

/// A multicast group the interface listens to, with how many of its
/// addresses asked for it (solicited-node groups are shared).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Membership {
    pub(crate) group: Ipv6Addr,
    pub(crate) users: u16,
}

/// An interface's IPv6 state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceIpv6 {
    /// IPv6 runs on the interface.
    pub enabled: bool,
    /// Its addresses.
    pub addresses: Vec<Ipv6InterfaceAddress>,
    /// The hop limit of packets it sends (a router may set it).
    pub hop_limit: u8,
    /// The link MTU a router advertised, if any (below the device's).
    pub advertised_mtu: Option<usize>,
    /// How long a confirmed neighbor counts as reachable (randomised
    /// around the base, RFC 4861 6.3.2).
    pub reachable_ns: u64,
    /// Time between retransmitted solicitations.
    pub retransmit_ns: u64,
    /// The base that [`InterfaceIpv6::reachable_ns`] is drawn around.
    pub(crate) base_reachable_ms: u32,
    /// Groups joined (ff02::1 is always listened to and never joined).
    pub(crate) groups: Vec<Membership>,
    /// Router solicitations sent, and when the next goes.
    pub(crate) solicitations: (u8, Option<u64>),
    /// MLD: state-change records still to send (type, group, times left)
    /// and when the next report goes; when a query's answer goes.
    pub(crate) mld_changes: Vec<(u8, Ipv6Addr, u8)>,
    pub(crate) mld_change_ns: Option<u64>,
    pub(crate) mld_answer_ns: Option<u64>,
    /// When a router advertises here (`router::advertise`).
    pub(crate) advertising: super::router::Advertising,
}

impl Default for InterfaceIpv6 {
    fn default() -> Self {
        Self {
            enabled: false,
            addresses: Vec::new(),
            hop_limit: DEFAULT_HOP_LIMIT,
            advertised_mtu: None,
            reachable_ns: u64::from(BASE_REACHABLE_MS) * 1_000_000,
            retransmit_ns: RETRANSMIT_NS,
            base_reachable_ms: BASE_REACHABLE_MS,
            groups: Vec::new(),
            solicitations: (0, None),
            mld_changes: Vec::new(),
            mld_change_ns: None,
            mld_answer_ns: None,
            advertising: Default::default(),
        }
    }
}

impl InterfaceIpv6 {
    /// The entry for `address`, in any state.
    pub fn find(&self, address: Ipv6Addr) -> Option<&Ipv6InterfaceAddress> {
        self.addresses.iter().find(|a| a.address == address)
    }

    pub(crate) fn find_mut(&mut self, address: Ipv6Addr) -> Option<&mut Ipv6InterfaceAddress> {
        self.addresses.iter_mut().find(|a| a.address == address)
    }

    /// Whether `address` is one of its usable addresses.
    pub fn holds(&self, address: Ipv6Addr) -> bool {
        self.find(address).is_some_and(Ipv6InterfaceAddress::usable)
    }

    /// Its link-local address, once DAD passed.
    pub fn link_local(&self) -> Option<Ipv6Addr> {
        self.addresses
            .iter()
            .find(|a| a.origin == Origin::LinkLocal && a.usable())
            .map(|a| a.address)
    }

    /// Whether it listens to `group`.
    pub fn listens(&self, group: Ipv6Addr) -> bool {
        group == wire::ipv6::addresses::ALL_NODES
            || group == Ipv6Addr::new(0xff01, 0, 0, 0, 0, 0, 0, 1)
            || self.groups.iter().any(|m| m.group == group)
    }
}
