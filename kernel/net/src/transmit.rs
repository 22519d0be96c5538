//! The TCP engine's way down: routes and segments of either family.
//!
//! The engine names a link-local IPv6 peer's interface by a zone, the
//! scope id of its socket addresses ([`InterfaceIndex::scope_id`]); a
//! route answers with the zone of the interface it chose, and a segment
//! that came in tells its zone through `arriving_zone`, so a connection
//! to `fe80::1%vif0` has one key both ways. A segment goes out with the
//! ECN field the engine asks for in either family (IPv4's TOS or IPv6's
//! traffic class).

use core::net::IpAddr;

use crate::interface::InterfaceIndex;
use crate::ipv4::{IpLayer, OutputError};
use crate::ipv6::canonical;

/// IP protocol number of TCP, in both families.
const TCP: u8 = wire::ipv4::protocol::TCP;

impl tcp::Transmit for IpLayer {
    fn route(&self, destination: IpAddr, zone: u32) -> Option<tcp::Route> {
        let route = self.route_ip(destination, InterfaceIndex::from_scope_id(zone))?;
        Some(tcp::Route {
            source: route.source,
            mtu: u16::try_from(route.mtu).unwrap_or(u16::MAX),
            zone: route.interface.scope_id(),
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
