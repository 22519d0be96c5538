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
//! earns no ICMP error (RFC 1122 §3.2.2).

use core::net::{Ipv4Addr, SocketAddrV4};

use wire::udp::HEADER_LEN;
use wire::{Ipv4Header, UdpHeader};

use super::{Datagram, MAX_QUEUED, Udp, UdpHandle, make_room};
use crate::buffer::PacketBuffer;
use crate::icmp::{Icmp, PORT_UNREACHABLE};
use crate::ipv4::IpLayer;

impl Udp {
    /// Delivers a received datagram (`datagram` is the IP payload).
    pub fn input(
        &mut self,
        ip: &mut IpLayer,
        icmp: &mut Icmp,
        header: &Ipv4Header,
        mut datagram: PacketBuffer,
    ) {
        self.stats.received += 1;
        let addresses = (!datagram.checksum_valid()).then_some((header.source, header.destination));
        let Ok(udp) = UdpHeader::parse_checked(datagram.data(), addresses) else {
            self.stats.malformed += 1;
            return;
        };
        let source = SocketAddrV4::new(header.source, udp.source_port);
        let destination = header.destination;
        let fan_out = ip.is_broadcast(destination) || destination.is_multicast();
        datagram.truncate(udp.length);
        if fan_out {
            datagram.strip_front(HEADER_LEN);
            return self.deliver_to_all(ip, destination, udp.destination_port, source, datagram);
        }
        let Some(handle) = self.demultiplex(destination, udp.destination_port, source) else {
            self.stats.no_port += 1;
            icmp.send_unreachable(ip, PORT_UNREACHABLE, header, datagram.data());
            return;
        };
        datagram.strip_front(HEADER_LEN);
        self.enqueue(handle, source, datagram);
    }

    /// Every endpoint that hears a broadcast or multicast datagram gets a
    /// copy of `payload`.
    fn deliver_to_all(
        &mut self,
        ip: &mut IpLayer,
        destination: Ipv4Addr,
        port: u16,
        source: SocketAddrV4,
        payload: PacketBuffer,
    ) {
        let mut receivers = core::mem::take(&mut self.receivers);
        receivers.clear();
        let hearing = self.endpoints.iter().filter(|(_, endpoint)| {
            let address = *endpoint.local.ip();
            endpoint.local.port() == port
                && (address.is_unspecified() || address == destination)
                && endpoint.remote.is_none_or(|remote| remote == source)
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

    pub(super) fn enqueue(
        &mut self,
        handle: UdpHandle,
        source: SocketAddrV4,
        payload: PacketBuffer,
    ) {
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
    fn demultiplex(
        &self,
        destination: Ipv4Addr,
        port: u16,
        source: SocketAddrV4,
    ) -> Option<UdpHandle> {
        let mut best: Option<(u8, UdpHandle)> = None;
        for (handle, endpoint) in self.endpoints.iter() {
            if endpoint.local.port() != port {
                continue;
            }
            let address_matches =
                endpoint.local.ip().is_unspecified() || *endpoint.local.ip() == destination;
            let peer_matches = endpoint.remote.is_none_or(|remote| remote == source);
            if !address_matches || !peer_matches {
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
