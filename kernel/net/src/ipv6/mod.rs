//! The IPv6 network layer (RFC 8200) beside IPv4's: input with extension
//! headers and reassembly, output with source selection and fragments,
//! ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861), address
//! autoconfiguration (RFC 4862, RFC 7217), MLDv2 (RFC 3810) and DNS
//! servers from router advertisements (RFC 8106).
//!
//! The state lives in [`Ipv6Layer`], a field of [`crate::ipv4::IpLayer`] (which owns
//! the interfaces, the pool and the link), and each interface's addresses
//! in [`address::InterfaceIpv6`]. The parts, one file each:
//!
//! | file | what |
//! | --- | --- |
//! | [`address`] | per-interface addresses and their states |
//! | `input.rs`, `output.rs` | the packet paths; `fragments.rs` both ways |
//! | `icmp.rs` | echo, errors (rate-limited), reports for the transports |
//! | [`neighbor`] | the neighbor cache and its NUD state machine |
//! | `nd.rs`, `router.rs` | NS/NA and DAD probes; RS/RA, routers, prefixes |
//! | `dad.rs`, `slaac.rs` | duplicate detection; stable-privacy addresses |
//! | `mld.rs`, [`dns`] | listener reports; RDNSS servers |
//! | `send.rs` | ND and MLD messages onto the link |
//! | `timers.rs`, `configure.rs` | every timer; enabling and static setup |
//! | `dual_stack.rs` | the family-generic door for the transports |
//! | `ping.rs` | `ping6` from the kernel |
//!
//! The transports call `IpLayer::route_ip` and `IpLayer::output_ip`
//! (`dual_stack.rs`) and get IPv6 input as [`Ipv6Input::Transport`] from
//! the stack; nothing else of this module is theirs to know.

pub mod address;
mod configure;
mod dad;
pub mod dns;
mod dual_stack;
mod fragments;
mod icmp;
mod input;
mod mld;
mod nd;
pub mod neighbor;
mod output;
mod ping;
mod random;
mod router;
mod send;
mod slaac;
mod timers;

use crate::buffer::PacketPool;
use crate::memory::Budget;
use crate::reassembly::Reassembler;

pub use dual_stack::{IpRoute, canonical};
pub use fragments::Ipv6FragmentKey;
pub use icmp::{EchoReply6, ErrorReport, Icmpv6State, Icmpv6Stats};
pub use input::{Ipv6Input, Upper};
pub use nd::NdStats;
pub use output::NextHop6;
pub(crate) use output::link_mtu6;
pub use router::{
    DEFAULT_INTERVAL_S, INTERVAL_RANGE_S, MAX_PREFIXES, MAX_ROUTERS, MAX_STATIC_ROUTES, Prefix,
    Router, Routes, StaticRoute,
};

use neighbor::NeighborCache;
use random::Random;

/// How the stack runs IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Config {
    /// IPv6 starts on each Ethernet interface as it comes up.
    pub enabled: bool,
    /// Addresses are formed from advertised prefixes (SLAAC).
    pub slaac: bool,
    /// Redirects are followed (off: ignored and counted).
    pub accept_redirects: bool,
    /// Solicitations each new address sends before it is used (RFC 4862
    /// DupAddrDetectTransmits; 0 skips DAD).
    pub dad_transmits: u8,
    /// Packets for other hosts are forwarded, and the stack acts as a
    /// router (`crate::forward`; `ip6.forwarding=`, off by default).
    pub forwarding: bool,
    /// A forwarding node sends Router Advertisements on its interfaces
    /// (`router::advertise`; `ip6.ra=`, on by default).
    pub router_advertisements: bool,
    /// MaxRtrAdvInterval in seconds, 4 to 1800 (`ip6.ra_interval=`).
    pub advertise_interval_s: u16,
}

impl Default for Ipv6Config {
    /// Off: a bare [`crate::Stack`] speaks IPv4 only until told (the
    /// kernel's boot configuration turns IPv6 on, see [`crate::config`]).
    fn default() -> Self {
        Self {
            enabled: false,
            slaac: true,
            accept_redirects: false,
            dad_transmits: 1,
            forwarding: false,
            router_advertisements: true,
            advertise_interval_s: DEFAULT_INTERVAL_S,
        }
    }
}

/// IPv6 counters, after `netstat -s -p ip6`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ipv6Stats {
    /// Packets received.
    pub received: u64,
    /// Handed to a transport (or ICMPv6).
    pub delivered: u64,
    /// Packets sent (fragments one by one).
    pub sent: u64,
    /// Dropped: malformed fixed header.
    pub bad_header: u64,
    /// Dropped: not for one of our addresses or groups.
    pub not_for_us: u64,
    /// Dropped: a multicast, loopback or own source from the wire.
    pub martian_source: u64,
    /// Dropped by the extension-header walk (limits, options, routing).
    pub extension_drops: u64,
    /// Dropped: an upper layer nobody speaks.
    pub unknown_next_header: u64,
    /// Atomic fragments (RFC 6946) taken as whole packets.
    pub atomic_fragments: u64,
    /// Fragments sent.
    pub fragments_sent: u64,
    /// Not sent: no route or no source address.
    pub no_route: u64,
    /// Not sent or not received: no packet buffer.
    pub no_buffer: u64,
}

/// Everything IPv6 keeps beside the interfaces.
pub struct Ipv6Layer {
    /// How IPv6 runs.
    pub config: Ipv6Config,
    /// Neighbors and their reachability.
    pub neighbors: NeighborCache,
    /// Default routers, on-link prefixes and redirects.
    pub routes: Routes,
    /// DNS servers from router advertisements.
    pub dns: dns::DnsServers,
    /// Fragments in reassembly.
    pub reassembly: Reassembler<Ipv6FragmentKey, wire::Ipv6Header>,
    /// ICMPv6: limits, echo replies and counters.
    pub icmp: Icmpv6State,
    /// Neighbor Discovery and MLD counters.
    pub nd_stats: NdStats,
    /// Counters.
    pub stats: Ipv6Stats,
    /// What forwarding did.
    pub forward_stats: crate::forward::ForwardStats,
    /// Where interface addresses are charged (`nd`).
    budget: Budget,
    random: Random,
    /// The stable-privacy secret (RFC 7217 secret_key).
    secret: [u8; 16],
}

impl Ipv6Layer {
    /// IPv6 off, nothing learned; what it holds is charged to the `nd` and
    /// `reassembly` accounts of `pool`'s memory. The secrets come later
    /// ([`Ipv6Layer::set_secrets`]).
    pub fn new(pool: &PacketPool) -> Self {
        let account = |name: &str| Budget::new(pool.memory().account(name));
        Self {
            config: Ipv6Config::default(),
            neighbors: NeighborCache::new(account("nd")),
            routes: Routes::new(account("nd")),
            dns: dns::DnsServers::new(account("nd")),
            reassembly: fragments::reassembler(account("reassembly")),
            icmp: Icmpv6State::default(),
            nd_stats: NdStats::default(),
            stats: Ipv6Stats::default(),
            forward_stats: Default::default(),
            budget: account("nd"),
            random: Random::new([0; 16]),
            secret: [0; 16],
        }
    }

    /// Gives memory back (the pagedaemon): fragments in reassembly and
    /// stale neighbors, as IPv4's reassembly and ARP do. Returns about the
    /// bytes freed.
    pub fn shrink(&mut self, now_ns: u64, level: base::memory::ReclaimLevel) -> usize {
        self.reassembly.shrink(now_ns, level) + self.neighbors.shrink(level)
    }

    /// Keys the stable-privacy addresses and the random delays, from a
    /// key the random hypercall filled (each derived under its own label
    /// by SipHash, `random.rs`).
    pub fn set_secrets(&mut self, key: [u8; 16]) {
        self.secret = random::derive(&key, b"ipv6 stable-privacy secret (RFC 7217)");
        self.random = Random::new(random::derive(&key, b"ipv6 protocol delays"));
    }
}

impl core::fmt::Debug for Ipv6Layer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ipv6Layer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
