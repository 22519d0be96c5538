//! Sending and receiving datagrams, and shutdown.

use core::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use tcp::address::{unspecified_like, zone_of};
use wire::UdpHeader;
use wire::ipv4::protocol;
use wire::udp::HEADER_LEN;

use super::{MAX_PAYLOAD, MAX_PAYLOAD_6, Udp, UdpError, UdpFlag, UdpHandle};
use crate::buffer::PacketBuffer;
use crate::interface::InterfaceIndex;
use crate::ipv4::{IpLayer, OutputError};
use crate::ports::EphemeralPorts;

impl Udp {
    /// Sends `data` as one datagram to `destination` (or the connected
    /// peer).
    ///
    /// # Errors
    /// [`UdpError::NotConnected`], [`UdpError::TooLong`],
    /// [`UdpError::BroadcastDenied`], [`UdpError::Shutdown`],
    /// [`UdpError::Output`].
    pub fn send_to(
        &mut self,
        ip: &mut IpLayer,
        ports: &mut EphemeralPorts,
        handle: UdpHandle,
        data: &[u8],
        destination: Option<SocketAddr>,
    ) -> Result<usize, UdpError> {
        let wildcard = destination.map(|to| unspecified_like(to.ip()));
        let wildcard = wildcard.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        self.bind_if_needed(ip, ports, handle, wildcard)?;
        let destination = match destination {
            Some(to) => Some(self.reachable(ip, handle, to)?),
            None => None,
        };
        let endpoint = self.endpoint(handle)?;
        if endpoint.shut_down.write {
            return Err(UdpError::Shutdown);
        }
        let destination = destination
            .or(endpoint.remote)
            .ok_or(UdpError::NotConnected)?;
        if destination.port() == 0 {
            return Err(UdpError::InvalidDestination);
        }
        let broadcast = match destination.ip() {
            IpAddr::V4(v4) => ip.is_broadcast(v4),
            IpAddr::V6(_) => false,
        };
        if broadcast && !endpoint.has(UdpFlag::Broadcast) {
            return Err(UdpError::BroadcastDenied);
        }
        let limit = if destination.is_ipv4() {
            MAX_PAYLOAD
        } else {
            MAX_PAYLOAD_6
        };
        if data.len() > limit {
            return Err(UdpError::TooLong);
        }
        let local = endpoint.local;
        let zone = InterfaceIndex::from_scope_id(zone_of(destination));
        let route = ip.route_ip(destination.ip(), zone);
        let source = match local.ip() {
            any if any.is_unspecified() => {
                route.ok_or(UdpError::Output(OutputError::NoRoute))?.source
            }
            bound => bound,
        };
        let from = SocketAddr::new(source, local.port());
        let partial = route.is_some_and(|route| completes_checksums(ip, route.interface));
        let datagram = datagram(ip, (from, destination), data, partial)?;
        ip.output_ip(source, destination.ip(), protocol::UDP, datagram, zone)
            .map_err(UdpError::Output)?;
        self.stats.sent += 1;
        Ok(data.len())
    }

    /// Copies the next datagram into `buffer` (the rest of a longer one is
    /// discarded) and says who sent it. Shut down for reading, it reads
    /// end of file: 0 bytes from 0.0.0.0:0.
    ///
    /// # Errors
    /// [`UdpError::WouldBlock`], [`UdpError::InvalidHandle`].
    pub fn receive_from(
        &mut self,
        handle: UdpHandle,
        buffer: &mut [u8],
    ) -> Result<(usize, SocketAddr), UdpError> {
        self.next_datagram(handle, buffer, true)
    }

    /// As [`Udp::receive_from`], but the datagram stays queued, whole, to
    /// be received again (MSG_PEEK).
    ///
    /// # Errors
    /// As [`Udp::receive_from`].
    pub fn peek_from(
        &mut self,
        handle: UdpHandle,
        buffer: &mut [u8],
    ) -> Result<(usize, SocketAddr), UdpError> {
        self.next_datagram(handle, buffer, false)
    }

    fn next_datagram(
        &mut self,
        handle: UdpHandle,
        buffer: &mut [u8],
        take: bool,
    ) -> Result<(usize, SocketAddr), UdpError> {
        let endpoint = self.endpoint(handle)?;
        if core::mem::take(&mut endpoint.refused) {
            return Err(UdpError::Refused);
        }
        let Some(datagram) = endpoint.queue.front() else {
            if endpoint.shut_down.read {
                let nobody = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
                return Ok((0, SocketAddr::V4(nobody)));
            }
            return Err(UdpError::WouldBlock);
        };
        let length = datagram.payload.len().min(buffer.len());
        buffer[..length].copy_from_slice(&datagram.payload.data()[..length]);
        let source = datagram.source;
        if take && let Some(datagram) = endpoint.queue.pop_front() {
            endpoint.queued_bytes -= datagram.payload.footprint();
        }
        Ok((length, source))
    }

    /// Ends reading (`read`: the queue is emptied, later datagrams are
    /// dropped, readers wake to end of file) and/or writing (`write`:
    /// sends fail). Neither can be undone.
    ///
    /// # Errors
    /// [`UdpError::InvalidHandle`].
    pub fn shutdown(&mut self, handle: UdpHandle, read: bool, write: bool) -> Result<(), UdpError> {
        let endpoint = self.endpoint(handle)?;
        endpoint.shut_down.write |= write;
        if read && !endpoint.shut_down.read {
            endpoint.shut_down.read = true;
            endpoint.queue.clear();
            endpoint.queued_bytes = 0;
            self.events.push(handle);
        }
        Ok(())
    }
}

/// Whether the device of `interface` completes checksums left partial.
fn completes_checksums(ip: &IpLayer, interface: InterfaceIndex) -> bool {
    ip.interface(interface)
        .is_some_and(|interface| interface.spec.offloads.transmit_checksum)
}

/// A buffer holding the UDP datagram `data` from `from` to `to`, its
/// checksum left `partial` for the device (`crate::offload`) or whole.
fn datagram(
    ip: &mut IpLayer,
    (from, to): (SocketAddr, SocketAddr),
    data: &[u8],
    partial: bool,
) -> Result<PacketBuffer, UdpError> {
    let length = HEADER_LEN + data.len();
    let Ok(mut buffer) = ip.pool.allocate_large(length) else {
        return Err(UdpError::Output(ip.no_buffer()));
    };
    let bytes = buffer.append(length).map_err(|_| UdpError::TooLong)?;
    bytes[HEADER_LEN..].copy_from_slice(data);
    let ports = (from.port(), to.port());
    if partial {
        UdpHeader::write_partial(ports, bytes, from.ip(), to.ip());
        buffer.set_partial_checksum(wire::udp::CHECKSUM_FIELD);
    } else {
        UdpHeader::write_ip(ports.0, ports.1, bytes, from.ip(), to.ip());
    }
    Ok(buffer)
}
