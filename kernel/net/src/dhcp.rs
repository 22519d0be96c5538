//! The DHCP component's glue: one interface configured by the sans-IO
//! client in `kernel/net/dhcp`.
//!
//! The client runs inside the stack, under its lock, like a transport:
//! UDP datagrams to port 68 on the managed interface go to it before any
//! socket sees them (there is no address to match yet), its messages go
//! out as UDP 68 → 67 broadcasts (or unicasts when renewing), and its
//! events configure the interface: address, connected route and default
//! gateway on `Bound`, all of it removed on `Lost`. The lease's name
//! servers (option 6, the first two) go to the resolver on `Bound` and
//! `Renewed` and are withdrawn on `Lost`.

use core::net::{IpAddr, Ipv4Addr};

use dhcp::{ClientConfig, DhcpClient, Event, Lease};
use log::{info, warn};
use wire::ipv4::protocol;
use wire::udp::HEADER_LEN;
use wire::{Ipv4Header, MacAddress, UdpHeader};

use crate::buffer::PacketBuffer;
use crate::interface::{InterfaceAddress, InterfaceIndex};
use crate::socket::ServerSource;
use crate::stack::Stack;

/// The client's port.
pub const CLIENT_PORT: u16 = 68;
/// The server's port.
pub const SERVER_PORT: u16 = 67;
/// Room given to the client for one message.
const MESSAGE_ROOM: usize = 1024;

/// One interface under DHCP.
pub struct DhcpSession {
    interface: InterfaceIndex,
    client: DhcpClient,
}

impl DhcpSession {
    /// A client for `interface`, about to send its first DISCOVER.
    pub fn new(interface: InterfaceIndex, mac: MacAddress, seed: u64, now_ns: u64) -> Self {
        let config = ClientConfig {
            mac: mac.0,
            hostname: Some("anykernel"),
            random_seed: seed,
        };
        Self {
            interface,
            client: DhcpClient::new(config, now_ns),
        }
    }

    /// The interface it manages.
    pub fn interface(&self) -> InterfaceIndex {
        self.interface
    }

    /// The current lease.
    pub fn lease(&self) -> Option<&Lease> {
        self.client.lease()
    }

    /// The client itself (state and counters).
    pub fn client(&self) -> &DhcpClient {
        &self.client
    }

    /// When the client next needs to run.
    pub fn next_deadline(&self) -> Option<u64> {
        self.client.next_deadline()
    }
}

impl Stack {
    /// Whether `packet` (an IP packet from `index`) is for the DHCP client:
    /// a peek at the protocol and destination port, no checksum (the
    /// client's input path checks the packet in full).
    pub(crate) fn dhcp_wants(&self, index: InterfaceIndex, packet: &PacketBuffer) -> bool {
        if self.dhcp.as_ref().is_none_or(|s| s.interface != index) {
            return false;
        }
        let bytes = packet.data();
        let Some(&first) = bytes.first() else {
            return false;
        };
        let header_len = usize::from(first & 0x0f) * 4;
        let unfragmented = bytes
            .get(6..8)
            .is_some_and(|f| f[0] & 0x3f == 0 && f[1] == 0);
        bytes.get(9) == Some(&protocol::UDP)
            && unfragmented
            && bytes.get(header_len + 2..header_len + 4) == Some(&CLIENT_PORT.to_be_bytes()[..])
    }

    /// Feeds a packet [`Stack::dhcp_wants`] to the client.
    pub(crate) fn dhcp_input(&mut self, packet: PacketBuffer) {
        let Ok(header) = Ipv4Header::parse(packet.data()) else {
            return;
        };
        let Some(datagram) = packet.data().get(header.header_len..header.total_len) else {
            return;
        };
        // A device may vouch for the checksum (or hand it over partial).
        let addresses = (IpAddr::V4(header.source), IpAddr::V4(header.destination));
        let Ok(udp) = UdpHeader::parse_checked(datagram, addresses, packet.checksum_valid()) else {
            self.udp.stats.malformed += 1;
            return;
        };
        let payload = &datagram[HEADER_LEN..udp.length];
        let now = self.now_ns();
        let Some(session) = self.dhcp.as_mut() else {
            return;
        };
        let event = session.client.receive(now, payload);
        self.dhcp_after(event);
    }

    /// Runs the client's timers.
    pub(crate) fn dhcp_timer(&mut self) {
        let now = self.now_ns();
        let Some(session) = self.dhcp.as_mut() else {
            return;
        };
        let event = session.client.on_timer(now);
        self.dhcp_after(event);
    }

    fn dhcp_after(&mut self, event: Option<Event>) {
        if let Some(event) = event {
            self.dhcp_event(event);
        }
        self.dhcp_transmit();
    }

    /// Sends what the client has to send.
    fn dhcp_transmit(&mut self) {
        let now = self.now_ns();
        loop {
            let Some(session) = self.dhcp.as_mut() else {
                return;
            };
            let index = session.interface;
            let Ok(mut buffer) = self.ip.pool.allocate() else {
                self.ip.stats.no_buffer += 1;
                return;
            };
            let Ok(room) = buffer.append(HEADER_LEN + MESSAGE_ROOM) else {
                return;
            };
            let Some(outgoing) = session.client.poll_transmit(now, &mut room[HEADER_LEN..]) else {
                return;
            };
            buffer.truncate(HEADER_LEN + outgoing.length.min(MESSAGE_ROOM));
            self.dhcp_send(index, outgoing.source, outgoing.destination, buffer);
        }
    }

    fn dhcp_send(
        &mut self,
        index: InterfaceIndex,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        mut buffer: PacketBuffer,
    ) {
        let bytes = buffer.data_mut();
        UdpHeader::write(CLIENT_PORT, SERVER_PORT, bytes, source, destination);
        let sent = if destination.is_broadcast() {
            self.ip
                .output_broadcast(index, source, protocol::UDP, buffer)
        } else {
            self.ip.output(source, destination, protocol::UDP, buffer)
        };
        if let Err(error) = sent {
            warn!("message to {destination} not sent: {error}");
        }
    }

    fn dhcp_event(&mut self, event: Event) {
        let Some(index) = self.dhcp.as_ref().map(|s| s.interface) else {
            return;
        };
        match event {
            Event::Bound(lease) => {
                self.dhcp_configure(index, &lease);
                self.set_name_servers(ServerSource::Dhcp, &name_servers(&lease));
            }
            Event::Renewed(lease) => {
                info!("lease of {} renewed", lease.address);
                self.set_name_servers(ServerSource::Dhcp, &name_servers(&lease));
            }
            Event::Lost => {
                warn!("lease lost; the interface is unconfigured");
                let _ = self.set_default_gateway(None);
                let _ = self.set_address(index, None);
                self.set_name_servers(ServerSource::Dhcp, &[]);
            }
        }
    }

    fn dhcp_configure(&mut self, index: InterfaceIndex, lease: &Lease) {
        let address = InterfaceAddress {
            address: lease.address,
            prefix_length: lease.prefix_length,
        };
        if let Err(error) = self.set_address(index, Some(address)) {
            warn!("cannot configure {address}: {error}");
            return;
        }
        let gateway = lease.router.filter(|router| address.contains(*router));
        if let Err(error) = self.set_default_gateway(gateway) {
            warn!("cannot route via {gateway:?}: {error}");
        }
        let name = self.ip.interface(index).map_or("?", |i| i.name.as_str());
        match gateway {
            Some(router) => info!("{name} is {address} via {router}"),
            None => info!("{name} is {address}"),
        }
    }
}

/// The name servers of a lease, in the server's order.
fn name_servers(lease: &Lease) -> alloc::vec::Vec<IpAddr> {
    lease.dns.iter().flatten().map(|a| IpAddr::V4(*a)).collect()
}

impl core::fmt::Debug for DhcpSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DhcpSession").finish_non_exhaustive()
    }
}
