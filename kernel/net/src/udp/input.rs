//! The input path: demultiplexing, broadcast and multicast fan-out, queues.
//!
//! A unicast datagram goes to one endpoint: one connected to its source
//! first, then one bound to its destination address, then one bound to
//! the wildcard. A broadcast or multicast datagram goes to every endpoint
//! on its port bound to the wildcard or to its destination (an endpoint
//! bound to a unicast address does not hear broadcasts, as in BSD and
//! Linux) and, if connected, connected to its source. Several such
//! endpoints exist only when they bound with SO_REUSEADDR or SO_REUSEPORT.
//! Each gets a copy (the last the buffer it came in); nobody listening
//! earns no ICMP error (RFC 1122 §3.2.2). IPv6 datagrams come the same
//! way ([`Udp::input6`]): their source scoped by the interface they came
//! in on, a port unreachable answered with ICMPv6.

use core::net::{IpAddr, SocketAddr};

use wire::udp::HEADER_LEN;
use wire::{Icmpv6Kind, Ipv4Header, UdpHeader};

use super::{Datagram, MAX_QUEUED, Udp, UdpHandle, make_room};
use crate::buffer::PacketBuffer;
use crate::icmp::{Icmp, PORT_UNREACHABLE};
use crate::ipv4::IpLayer;
use crate::ipv6::Upper;

/// Why a datagram goes nowhere.
enum Refusal {
    /// Its header or checksum is bad.
    Malformed,
    /// Nobody is bound to a unicast datagram's port.
    NoPort,
}

/// A datagram whose header checked out, and where it goes.
struct Arrival {
    source: SocketAddr,
    destination: IpAddr,
    port: u16,
    /// Header and payload, from the length field.
    length: usize,
    /// The one endpoint of a unicast datagram; `None` for every one that
    /// hears a broadcast or multicast one.
    receiver: Option<UdpHandle>,
}

impl Udp {
    /// Delivers a received datagram (`datagram` is the IP payload).
    pub fn input(
        &mut self,
        ip: &mut IpLayer,
        icmp: &mut Icmp,
        header: &Ipv4Header,
        datagram: PacketBuffer,
    ) {
        self.stats.received += 1;
        let (source, destination) = (header.source, header.destination);
        let fan_out = ip.is_broadcast(destination) || destination.is_multicast();
        let addresses = (IpAddr::V4(source), IpAddr::V4(destination));
        let arriving = (datagram.data(), datagram.checksum_valid());
        match self.check(arriving, addresses, 0, fan_out) {
            Ok(arrival) => self.deliver(ip, arrival, datagram),
            Err(Refusal::NoPort) => {
                icmp.send_unreachable(ip, PORT_UNREACHABLE, header, datagram.data());
            }
            Err(Refusal::Malformed) => {}
        }
    }

    /// Delivers a received IPv6 datagram (`upper` from the IPv6 layer),
    /// its source scoped by the interface it came in on; a unicast one to
    /// a port nobody has bound earns an ICMPv6 port unreachable.
    pub fn input6(&mut self, ip: &mut IpLayer, upper: Upper) {
        self.stats.received += 1;
        let (header, interface) = (upper.header, upper.interface);
        let addresses = (IpAddr::V6(header.source), IpAddr::V6(header.destination));
        let fan_out = upper.link_multicast || header.destination.is_multicast();
        let zone = interface.scope_id();
        let arriving = (upper.payload(), upper.packet.checksum_valid());
        match self.check(arriving, addresses, zone, fan_out) {
            Ok(arrival) => self.deliver(ip, arrival, upper.into_payload()),
            Err(Refusal::NoPort) => {
                let kind = Icmpv6Kind::DestinationUnreachable {
                    code: wire::icmpv6::unreachable::PORT,
                };
                ip.send_error6(interface, &header, upper.packet.data(), kind, false);
            }
            Err(Refusal::Malformed) => {}
        }
    }

    /// Checks a datagram's header (of `data`, from `source` to
    /// `destination`; its checksum too unless a device `verified` it) and
    /// finds where it goes.
    fn check(
        &mut self,
        (data, verified): (&[u8], bool),
        (source, destination): (IpAddr, IpAddr),
        zone: u32,
        fan_out: bool,
    ) -> Result<Arrival, Refusal> {
        let addresses = (source, destination);
        let Ok(udp) = UdpHeader::parse_checked(data, addresses, verified) else {
            self.stats.malformed += 1;
            return Err(Refusal::Malformed);
        };
        let source = tcp::scoped(source, udp.source_port, zone);
        let port = udp.destination_port;
        let receiver = if fan_out {
            None
        } else {
            let Some(handle) = self.demultiplex(destination, port, source) else {
                self.stats.no_port += 1;
                return Err(Refusal::NoPort);
            };
            Some(handle)
        };
        Ok(Arrival {
            source,
            destination,
            port,
            length: udp.length,
            receiver,
        })
    }

    /// Queues the payload of `datagram` (whose header `arrival` checked).
    fn deliver(&mut self, ip: &mut IpLayer, arrival: Arrival, mut datagram: PacketBuffer) {
        datagram.truncate(arrival.length);
        datagram.strip_front(HEADER_LEN);
        match arrival.receiver {
            Some(handle) => self.enqueue(handle, arrival.source, datagram),
            None => {
                let (destination, port) = (arrival.destination, arrival.port);
                self.deliver_to_all(ip, destination, port, arrival.source, datagram);
            }
        }
    }

    /// Every endpoint that hears a broadcast or multicast datagram gets a
    /// copy of `payload`.
    fn deliver_to_all(
        &mut self,
        ip: &mut IpLayer,
        destination: IpAddr,
        port: u16,
        source: SocketAddr,
        payload: PacketBuffer,
    ) {
        let mut receivers = core::mem::take(&mut self.receivers);
        receivers.clear();
        let hearing = self.endpoints.iter().filter(|(_, endpoint)| {
            endpoint.local.port() == port && endpoint.hears(destination, source)
        });
        receivers.extend(hearing.map(|(handle, _)| handle));
        let Some((&last, others)) = receivers.split_last() else {
            self.stats.no_port += 1;
            self.receivers = receivers;
            return;
        };
        for &handle in others {
            let Some(copy) = copy_of(ip, &payload) else {
                self.stats.no_memory += 1;
                continue;
            };
            self.stats.copies += 1;
            self.enqueue(handle, source, copy);
        }
        self.enqueue(last, source, payload);
        self.receivers = receivers;
    }

    pub(super) fn enqueue(&mut self, handle: UdpHandle, source: SocketAddr, payload: PacketBuffer) {
        let Some(endpoint) = self.endpoints.get_mut(handle) else {
            return;
        };
        if endpoint.shut_down.read {
            self.stats.shut_down += 1;
            return;
        }
        let charge = payload.footprint();
        let full = endpoint.queue.len() >= MAX_QUEUED
            || endpoint.queued_bytes + charge > endpoint.receive_buffer;
        if full {
            self.stats.queue_full += 1;
            return;
        }
        if !make_room(&mut endpoint.queue, &self.budget) {
            self.stats.no_memory += 1;
            return;
        }
        endpoint.queued_bytes += charge;
        let was_empty = endpoint.queue.is_empty();
        endpoint.queue.push_back(Datagram { source, payload });
        if was_empty {
            self.events.push(handle);
        }
    }

    /// The endpoint for a unicast datagram: a connected match first, then
    /// a specific local address, then the wildcard.
    fn demultiplex(&self, destination: IpAddr, port: u16, source: SocketAddr) -> Option<UdpHandle> {
        let mut best: Option<(u8, UdpHandle)> = None;
        for (handle, endpoint) in self.endpoints.iter() {
            if endpoint.local.port() != port || !endpoint.hears(destination, source) {
                continue;
            }
            let score = u8::from(endpoint.remote.is_some()) * 2
                + u8::from(!endpoint.local.ip().is_unspecified());
            if best.is_none_or(|(best_score, _)| score > best_score) {
                best = Some((score, handle));
            }
        }
        best.map(|(_, handle)| handle)
    }
}

/// A fresh buffer holding the bytes of `payload`.
fn copy_of(ip: &mut IpLayer, payload: &PacketBuffer) -> Option<PacketBuffer> {
    let mut copy = ip.pool.allocate_large(payload.len()).ok()?;
    copy.append(payload.len())
        .ok()?
        .copy_from_slice(payload.data());
    Some(copy)
}
