//! Sending and receiving datagrams, and shutdown.

use core::net::{Ipv4Addr, SocketAddrV4};

use wire::UdpHeader;
use wire::ipv4::protocol;
use wire::udp::HEADER_LEN;

use super::{MAX_PAYLOAD, Udp, UdpError, UdpFlag, UdpHandle};
use crate::buffer::PacketBuffer;
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
        destination: Option<SocketAddrV4>,
    ) -> Result<usize, UdpError> {
        self.bind_if_needed(ip, ports, handle)?;
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
        if ip.is_broadcast(*destination.ip()) && !endpoint.has(UdpFlag::Broadcast) {
            return Err(UdpError::BroadcastDenied);
        }
        if data.len() > MAX_PAYLOAD {
            return Err(UdpError::TooLong);
        }
        let local = endpoint.local;
        let source = match *local.ip() {
            any if any.is_unspecified() => {
                ip.next_hop(*destination.ip())
                    .ok_or(UdpError::Output(OutputError::NoRoute))?
                    .source
            }
            bound => bound,
        };
        let from = SocketAddrV4::new(source, local.port());
        let datagram = datagram(ip, from, destination, data)?;
        ip.output(source, *destination.ip(), protocol::UDP, datagram)
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
    ) -> Result<(usize, SocketAddrV4), UdpError> {
        let endpoint = self.endpoint(handle)?;
        if core::mem::take(&mut endpoint.refused) {
            return Err(UdpError::Refused);
        }
        let Some(datagram) = endpoint.queue.pop_front() else {
            if endpoint.shut_down.read {
                return Ok((0, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)));
            }
            return Err(UdpError::WouldBlock);
        };
        endpoint.queued_bytes -= datagram.payload.footprint();
        let length = datagram.payload.len().min(buffer.len());
        buffer[..length].copy_from_slice(&datagram.payload.data()[..length]);
        Ok((length, datagram.source))
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

/// A buffer holding the UDP datagram `data` from `from` to `to`.
fn datagram(
    ip: &mut IpLayer,
    from: SocketAddrV4,
    to: SocketAddrV4,
    data: &[u8],
) -> Result<PacketBuffer, UdpError> {
    let length = HEADER_LEN + data.len();
    let Ok(mut buffer) = ip.pool.allocate_large(length) else {
        return Err(UdpError::Output(ip.no_buffer()));
    };
    let bytes = buffer.append(length).map_err(|_| UdpError::TooLong)?;
    bytes[HEADER_LEN..].copy_from_slice(data);
    UdpHeader::write(from.port(), to.port(), bytes, *from.ip(), *to.ip());
    Ok(buffer)
}
