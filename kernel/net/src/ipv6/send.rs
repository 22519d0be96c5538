//! Neighbor Discovery and MLD messages onto the link: a sealed ICMPv6
//! message in a buffer, its fixed header (hop limit 255 for ND, 1 with
//! the Router Alert header for MLD), straight to a MAC.
//!
//! These messages name their link-layer destination themselves (a
//! group's MAC, or the MAC a solicitation carried), so they never wait
//! in the neighbor cache; only an answer to a solicitation that carried
//! no address goes through it.

use core::net::Ipv6Addr;

use wire::{EtherType, Ipv6Header, MacAddress};

use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::ipv4::IpLayer;

impl IpLayer {
    /// Sends an ND message of at most `room` bytes written by `write`,
    /// with hop limit 255, straight to `mac` when given (ND rarely waits
    /// for ND), else through the neighbor cache.
    pub(crate) fn send_nd(
        &mut self,
        index: InterfaceIndex,
        source: Ipv6Addr,
        destination: Ipv6Addr,
        mac: Option<MacAddress>,
        room: usize,
        write: impl FnOnce(&mut [u8]) -> usize,
    ) {
        let Some(message) = self.icmpv6_buffer(room, write, source, destination) else {
            return;
        };
        self.send_link_local6(index, source, destination, mac, 255, None, message);
    }

    /// A buffer holding an ICMPv6 message written by `write`, sealed.
    pub(crate) fn icmpv6_buffer(
        &mut self,
        room: usize,
        write: impl FnOnce(&mut [u8]) -> usize,
        source: Ipv6Addr,
        destination: Ipv6Addr,
    ) -> Option<PacketBuffer> {
        let Ok(mut buffer) = self.pool.allocate() else {
            self.v6.stats.no_buffer += 1;
            return None;
        };
        let length = write(buffer.append(room).ok()?);
        buffer.truncate(length);
        wire::icmpv6::seal(buffer.data_mut(), source, destination);
        Some(buffer)
    }

    /// Sends an ICMPv6 `message` on the link to `mac` (or through the
    /// neighbor cache), behind a fixed header with `hop_limit` and the
    /// hop-by-hop header `hop_by_hop`.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call per field of the packet, from two callers"
    )]
    pub(crate) fn send_link_local6(
        &mut self,
        index: InterfaceIndex,
        source: Ipv6Addr,
        destination: Ipv6Addr,
        mac: Option<MacAddress>,
        hop_limit: u8,
        hop_by_hop: Option<&[u8; 8]>,
        mut message: PacketBuffer,
    ) {
        let mut next = wire::ipv6::next_header::ICMPV6;
        if let Some(extension) = hop_by_hop {
            let Ok(bytes) = message.prepend(extension.len()) else {
                return;
            };
            bytes.copy_from_slice(extension);
            next = wire::ipv6::next_header::HOP_BY_HOP;
        }
        let mut header = Ipv6Header::new(source, destination, next, message.len());
        header.hop_limit = hop_limit;
        let Ok(bytes) = message.prepend(wire::ipv6::HEADER_LEN) else {
            return;
        };
        header.write(bytes);
        let sent = match mac {
            Some(mac) => self.frame_and_enqueue(index, mac, EtherType::Ipv6, message),
            None => self.link_output6(index, destination, message),
        };
        if sent.is_ok() {
            self.v6.stats.sent += 1;
        }
    }

    /// The MAC of interface `index`.
    pub(crate) fn own_mac(&self, index: InterfaceIndex) -> MacAddress {
        self.interface(index)
            .map_or(MacAddress::ZERO, |i| i.spec.mac)
    }
}
