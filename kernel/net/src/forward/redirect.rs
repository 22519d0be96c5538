//! ICMPv6 Redirects from a forwarding node (RFC 4861 8.2).
//!
//! A packet that leaves by the interface it came in on, from a source
//! that is a neighbor there (a link-local address, or one of an on-link
//! prefix of that interface), had a better first hop on its own link: the
//! router forwards it and tells the source so. The target is the
//! destination itself when it is on-link, else the next router, which
//! must be named by its link-local address (a gateway given by a global
//! address gets no redirect). The redirect comes from our link-local
//! address with hop limit 255, carries as much of the packet as fits in
//! 1280 bytes (the Redirected Header option) but no Target Link-Layer
//! Address option (the host resolves the target itself), and shares the
//! ICMPv6 errors' rate limit. Hosts ignore redirects unless told to
//! follow them (`ip6.redirects=on`).

use core::net::Ipv6Addr;

use wire::Ipv6Header;
use wire::icmpv6::kind;
use wire::ipv6::{MINIMUM_MTU, is_link_local};

use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;

/// The Redirected Header option's type (RFC 4861 4.6.3).
const REDIRECTED_HEADER: u8 = 4;
/// The redirect's fixed part: type, code, sum, reserved, two addresses.
const FIXED_LEN: usize = 40;
/// The most of the packet a redirect carries: all that fits in the
/// minimum MTU behind the IPv6 header, the fixed part and the option's
/// own 8 bytes, in whole 8-byte units.
const QUOTE_LIMIT: usize = (MINIMUM_MTU - 40 - FIXED_LEN - 8) / 8 * 8;

impl IpLayer {
    /// Sends a redirect about `packet` (fixed header `header`), which
    /// came in on `arrived` and leaves there again towards `neighbour`,
    /// if RFC 4861 8.2 asks for one; whether one went.
    pub(super) fn redirect6(
        &mut self,
        arrived: InterfaceIndex,
        header: &Ipv6Header,
        neighbour: Ipv6Addr,
        packet: &[u8],
    ) -> bool {
        let source = header.source;
        let neighbor = is_link_local(source) || self.v6.routes.on_link(source) == Some(arrived);
        let target = match neighbour == header.destination {
            true => neighbour,
            false if is_link_local(neighbour) => neighbour,
            false => return false,
        };
        let from = self.interface(arrived).and_then(|i| i.ipv6.link_local());
        let Some(from) = from.filter(|_| neighbor) else {
            return false;
        };
        if !self.error6_allowed() {
            return false;
        }
        let quoted = packet.len().min(QUOTE_LIMIT) / 8 * 8;
        let room = FIXED_LEN + 8 + quoted;
        let destination = header.destination;
        self.send_nd(arrived, from, source, None, room, |out| {
            write_redirect(out, (target, destination), &packet[..quoted])
        });
        true
    }
}

/// A Redirect to `target` for `destination` quoting `quoted` (a multiple
/// of 8 bytes) into `out`; its length.
fn write_redirect(
    out: &mut [u8],
    (target, destination): (Ipv6Addr, Ipv6Addr),
    quoted: &[u8],
) -> usize {
    out[..8].copy_from_slice(&[kind::REDIRECT, 0, 0, 0, 0, 0, 0, 0]);
    out[8..24].copy_from_slice(&target.octets());
    out[24..40].copy_from_slice(&destination.octets());
    let units = (1 + quoted.len() / 8) as u8;
    out[40..48].copy_from_slice(&[REDIRECTED_HEADER, units, 0, 0, 0, 0, 0, 0]);
    out[48..48 + quoted.len()].copy_from_slice(quoted);
    48 + quoted.len()
}
