//! The TCP engine's way down: routes, offloads and segments.
//!
//! The TCP engine's way down: routes with their offloads, and segments
//! into packet buffers (plain, or shaped for the device: partial checksum,
//! bursts in pages for segmentation, see `crate::offload`).

use core::net::Ipv4Addr;

use wire::ipv4::HEADER_LEN;

use super::{IpLayer, OutputError};
use crate::buffer::PacketBuffer;
use crate::offload::{Offloads, SEGMENTATION_LIMIT};

/// The TCP engine's way down: routes and segments.
impl tcp::Transmit for IpLayer {
    fn route(&self, destination: Ipv4Addr) -> Option<tcp::Route> {
        let hop = self.next_hop(destination)?;
        let offloads = self
            .interface(hop.interface)
            .map_or(Offloads::NONE, |i| i.spec.offloads);
        let segment_limit = match offloads.segmentation && offloads.transmit_checksum {
            // Room for the IPv4 and TCP headers with options.
            true => (SEGMENTATION_LIMIT - HEADER_LEN - 60) as u32,
            false => 0,
        };
        Some(tcp::Route {
            source: hop.source,
            mtu: u16::try_from(hop.mtu).unwrap_or(u16::MAX),
            offload: tcp::Offload {
                checksum: offloads.transmit_checksum,
                segment_limit,
            },
        })
    }

    fn send(
        &mut self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        length: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(), tcp::TransmitError> {
        self.send_marked(source, destination, tcp::Ecn::NotCapable, length, fill)
    }

    fn arriving_ecn(&self) -> tcp::Ecn {
        self.arriving_ecn
    }

    fn arriving_checksum_valid(&self) -> bool {
        self.arriving_checksum_valid
    }

    /// A segment whose checksum the device completes, or a burst it cuts:
    /// in pages when it outgrows a pool block.
    fn send_shaped(
        &mut self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
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
        self.send_segment(source, destination, ecn, segment)
    }

    fn send_marked(
        &mut self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
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
        self.send_segment(source, destination, ecn, segment)
    }
}

/// Where a TCP header keeps its checksum.
const TCP_CHECKSUM_FIELD: u16 = 16;

impl IpLayer {
    /// Sends a filled TCP segment.
    fn send_segment(
        &mut self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        ecn: tcp::Ecn,
        segment: PacketBuffer,
    ) -> Result<(), tcp::TransmitError> {
        let protocol = wire::ipv4::protocol::TCP;
        self.output_marked(source, destination, protocol, ecn, segment)
            .map_err(|error| match error {
                OutputError::NoRoute => tcp::TransmitError::NoRoute,
                OutputError::QueueFull => tcp::TransmitError::QueueFull,
                OutputError::NoBuffer | OutputError::TooBig => tcp::TransmitError::NoBuffer,
            })
    }
}
