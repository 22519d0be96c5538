//! The TCP engine's way down: routes, offloads and segments of either family.
//!
//! The engine names a link-local IPv6 peer's interface by a zone, the
//! scope id of its socket addresses ([`InterfaceIndex::scope_id`]); a
//! route answers with the zone of the interface it chose, and a segment
//! that came in tells its zone through `arriving_zone`, so a connection
//! to `fe80::1%vif0` has one key both ways. A segment goes out with the
//! ECN field the engine asks for in either family (IPv4's TOS or IPv6's
//! traffic class).
//!
//! A route carries its device's offloads (`crate::offload`): partial
//! checksums in both families (the engine sums the pseudo-header of the
//! path's), and TSO bursts in the family the device cuts (TSO4, TSO6).
//! Bursts go out in pages when they outgrow a pool block.

use core::net::IpAddr;

use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::ipv4::{IpLayer, OutputError};
use crate::ipv6::canonical;
use crate::offload::{Offloads, SEGMENTATION_LIMIT};

/// IP protocol number of TCP, in both families.
const TCP: u8 = wire::ipv4::protocol::TCP;
/// Where a TCP header keeps its checksum.
const TCP_CHECKSUM_FIELD: u16 = 16;
/// The largest IP and TCP headers, options included (IPv4's with
/// options, 60, outgrow IPv6's fixed 40).
const HEADERS: usize = 60 + 60;

impl tcp::Transmit for IpLayer {
    fn route(&self, destination: IpAddr, zone: u32) -> Option<tcp::Route> {
        let route = self.route_ip(destination, InterfaceIndex::from_scope_id(zone))?;
        let offloads = self
            .interface(route.interface)
            .map_or(Offloads::NONE, |i| i.spec.offloads);
        let version = match route.source {
            IpAddr::V4(_) => 4,
            IpAddr::V6(_) => 6,
        };
        let segment_limit = match offloads.segments(version) {
            true => (SEGMENTATION_LIMIT - HEADERS) as u32,
            false => 0,
        };
        Some(tcp::Route {
            source: route.source,
            mtu: u16::try_from(route.mtu).unwrap_or(u16::MAX),
            zone: route.interface.scope_id(),
            offload: tcp::Offload {
                checksum: offloads.transmit_checksum,
                segment_limit,
            },
        })
    }

    fn send(
        &mut self,
        path: tcp::Path,
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), tcp::TransmitError> {
        self.send_marked(path, tcp::Ecn::NotCapable, length, fill)
    }

    fn arriving_ecn(&self) -> tcp::Ecn {
        self.arriving_ecn
    }

    fn arriving_zone(&self) -> u32 {
        self.arriving_zone
    }

    fn arriving_checksum_valid(&self) -> bool {
        self.arriving_checksum_valid
    }

    /// A segment whose checksum the device completes, or a burst it cuts:
    /// in pages when it outgrows a pool block.
    fn send_shaped(
        &mut self,
        path: tcp::Path,
        (ecn, shape): (tcp::Ecn, tcp::Shape),
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), tcp::TransmitError> {
        let mut segment = self
            .pool
            .allocate_large(length)
            .map_err(|_| tcp::TransmitError::NoBuffer)?;
        let bytes = segment
            .append(length)
            .map_err(|_| tcp::TransmitError::NoBuffer)?;
        fill(bytes);
        if shape.partial_checksum {
            segment.set_partial_checksum(TCP_CHECKSUM_FIELD);
        }
        segment.set_segment_size(shape.segment_size);
        self.send_segment(path, ecn, segment)
    }

    fn send_marked(
        &mut self,
        path: tcp::Path,
        ecn: tcp::Ecn,
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), tcp::TransmitError> {
        let mut segment = self
            .pool
            .allocate()
            .map_err(|_| tcp::TransmitError::NoBuffer)?;
        let bytes = segment
            .append(length)
            .map_err(|_| tcp::TransmitError::NoBuffer)?;
        fill(bytes);
        self.send_segment(path, ecn, segment)
    }
}

impl IpLayer {
    /// Sends a filled TCP segment along `path`.
    fn send_segment(
        &mut self,
        path: tcp::Path,
        ecn: tcp::Ecn,
        segment: PacketBuffer,
    ) -> Result<(), tcp::TransmitError> {
        let zone = InterfaceIndex::from_scope_id(path.zone);
        let sent = match (canonical(path.source), canonical(path.destination)) {
            (IpAddr::V4(source), IpAddr::V4(destination)) => {
                self.output_marked(source, destination, TCP, ecn, segment)
            }
            (IpAddr::V6(source), IpAddr::V6(destination)) => {
                self.output6_marked(source, destination, TCP, ecn, segment, zone)
            }
            _ => Err(OutputError::NoRoute),
        };
        sent.map_err(|error| match error {
            OutputError::NoRoute => tcp::TransmitError::NoRoute,
            OutputError::QueueFull => tcp::TransmitError::QueueFull,
            OutputError::NoBuffer | OutputError::TooBig => tcp::TransmitError::NoBuffer,
        })
    }
}
