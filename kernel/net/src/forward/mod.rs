//! IP forwarding, both families: the stack as a router.
//!
//! Off by default (an appliance is a host); `ip.forwarding=1` and
//! `ip6.forwarding=1` at boot ([`crate::config`]) or
//! [`Stack::set_forwarding`] and [`Stack::set_forwarding6`] turn it on.
//! Then a packet that came in on an interface and is not for one of our
//! addresses (any interface's: a router's weak host model) is routed by
//! the tables every output uses — IPv4's [`crate::route::RouteTable`],
//! IPv6's on-link prefixes, static routes and default routers, longest
//! prefix first — and sent out whole, never through the sockets layer.
//! On the way (RFC 1812 for IPv4, RFC 8200 and RFC 4443 for IPv6):
//!
//! - **Never forwarded** ([`ForwardStats::refused`]): a frame that came to
//!   a link-layer group or broadcast; link-local sources or destinations
//!   (169.254/16, fe80::/10); multicast and broadcast destinations,
//!   directed broadcasts of our subnets included; martians (0/8, 127/8,
//!   240/4, ::1, ::, IPv4-mapped); sources that are ours; IPv4 packets
//!   with source-route options (RFC 7126).
//! - **TTL and hop limit.** A packet that arrives with 1 (or 0) left is
//!   answered with a time exceeded; otherwise it leaves with one less
//!   (IPv4's header checksum recomputed).
//! - **No route**: destination unreachable, net (ICMP code 0) or no route
//!   (ICMPv6 code 0).
//! - **Too big for the next link**: IPv4 without DF is fragmented here
//!   (options copied as RFC 791 says); with DF it is answered with
//!   "fragmentation needed" naming the next hop's MTU (RFC 1191); IPv6 is
//!   never fragmented by a router: Packet Too Big (RFC 8201).
//! - **ICMP errors** are rate-limited with the host's own (the same token
//!   buckets), quote the packet as each family says, come from our
//!   address towards the source, and never go about an ICMP error, a
//!   non-first fragment or to a source no host has.
//! - **Offloads.** A packet whose checksum its device left partial keeps
//!   the mark (`offload.rs`): the next device completes it, or the
//!   interface does in software when the device cannot; a packet to be
//!   fragmented has it completed first. A TCP segment a device coalesced,
//!   either family (a tap's TSO or GRO, virtio-net's receive TSO4/TSO6,
//!   which the driver does not take when forwarding is on at boot, as
//!   Linux turns LRO off on a router), goes on whole to a device that cuts
//!   its family again and is cut here for any other (`segment.rs`,
//!   [`ForwardStats::segmented`]); one whose segments are too big for the
//!   next link is answered as any packet too big (fragmentation needed
//!   with DF, packet too big for IPv6), and one that cannot be cut
//!   ([`ForwardStats::coalesced_dropped`]: not TCP right after the IP
//!   header, or too big without DF) is dropped.
//!
//! An IPv6 router answers Neighbor Solicitations as one (the router flag
//! in its advertisements), listens to ff02::2, sends no router
//! solicitations, and ignores router advertisements and redirects (as
//! Linux's `accept_ra=1` does on a router). It sends router
//! advertisements on each interface, with the prefixes of its static
//! addresses and the link MTU, and answers router solicitations
//! (RFC 4861 6.2, `crate::ipv6::router`'s `advertise.rs`; `ip6.ra=off`
//! leaves hosts to be configured by hand or by a `radvd` beside it). A
//! packet that leaves by the link it came from, from a neighbor there,
//! is forwarded and its source gets a redirect to the better first hop
//! (RFC 4861 8.2, `redirect.rs`); IPv4 sends no redirects.

mod fragment;
mod ipv4;
mod ipv6;
mod redirect;
mod segment;

use core::net::{Ipv4Addr, Ipv6Addr};

use wire::ipv6::{addresses, is_link_local};

use crate::interface::InterfaceIndex;
use crate::stack::Stack;

/// What forwarding did, per family (`/stats`: `forward` and `forward6`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardStats {
    /// Packets sent on towards their destination.
    pub forwarded: u64,
    /// Dropped: the TTL or hop limit ran out (time exceeded sent).
    pub ttl_exceeded: u64,
    /// Dropped: no route (destination unreachable sent).
    pub no_route: u64,
    /// Dropped: too big for the next link and not to be fragmented
    /// (fragmentation needed or packet too big sent).
    pub too_big: u64,
    /// IPv4 packets fragmented on the way (counted in `forwarded` too).
    pub fragmented: u64,
    /// Never forwarded: scope, martians, link-layer groups, source routes.
    pub refused: u64,
    /// IPv6: redirects sent (the packet was forwarded as well).
    pub redirects: u64,
    /// Coalesced TCP segments cut here in software for a device that
    /// cannot cut them (counted once in `forwarded` too).
    pub segmented: u64,
    /// Coalesced segments that could not be cut again (not TCP right
    /// after the IP header, or too big for the next link without DF).
    pub coalesced_dropped: u64,
}

impl ForwardStats {
    /// The counters as `/stats` names them.
    pub fn pairs(&self) -> [(&'static str, u64); 9] {
        [
            ("forwarded", self.forwarded),
            ("ttl_exceeded", self.ttl_exceeded),
            ("no_route", self.no_route),
            ("too_big", self.too_big),
            ("fragmented", self.fragmented),
            ("refused", self.refused),
            ("segmented", self.segmented),
            ("redirects", self.redirects),
            ("coalesced_dropped", self.coalesced_dropped),
        ]
    }
}

/// Whether no packet from or to `address` crosses a router: 0/8, 127/8,
/// 169.254/16, multicast, 240/4 and the limited broadcast.
pub(crate) fn unroutable(address: Ipv4Addr) -> bool {
    let first = address.octets()[0];
    first == 0
        || address.is_loopback()
        || address.is_link_local()
        || address.is_multicast()
        || first >= 240
}

/// The same for IPv6: ::, ::1, fe80::/10, multicast, IPv4-mapped.
pub(crate) fn unroutable6(address: Ipv6Addr) -> bool {
    address.is_unspecified()
        || address.is_loopback()
        || is_link_local(address)
        || address.is_multicast()
        || address.to_ipv4_mapped().is_some()
}

impl Stack {
    /// Turns IPv4 forwarding on or off.
    pub fn set_forwarding(&mut self, on: bool) {
        self.ip.forwarding = on;
    }

    /// Turns IPv6 forwarding on or off: the interfaces running IPv6 join
    /// or leave the all-routers group, their neighbor advertisements say
    /// router from now on, and they start or stop sending router
    /// advertisements (`ip6.ra=`).
    pub fn set_forwarding6(&mut self, on: bool) {
        if self.ip.v6.config.forwarding == on {
            return;
        }
        self.ip.v6.config.forwarding = on;
        let running: alloc::vec::Vec<InterfaceIndex> = (self.ip.interfaces.iter())
            .filter(|i| i.ipv6.enabled)
            .map(|i| i.index)
            .collect();
        for index in running {
            match on {
                true => {
                    self.ip.join6(index, addresses::ALL_ROUTERS);
                    self.ip.start_advertising(index);
                }
                false => {
                    self.ip.leave6(index, addresses::ALL_ROUTERS);
                    self.ip.stop_advertising(index);
                }
            }
        }
    }
}
