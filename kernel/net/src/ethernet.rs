//! The link layer: Ethernet II framing, ARP, and loopback delivery.
//!
//! Output: an IPv4 packet for a neighbour gets the neighbour's MAC from
//! the ARP cache, or waits there while a request goes out; an IPv6 packet
//! gets it from the neighbor cache the same way (a solicitation goes
//! out), or from its group (33:33 and the group's last four bytes, RFC
//! 2464). Input: frames are checked and split by EtherType; ARP is
//! answered here (RFC 826's merge rule), IPv4 and IPv6 go up. Loopback
//! frames are bare IP packets of either version.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use wire::arp::PACKET_LEN;
use wire::ethernet::HEADER_LEN;
use wire::{ArpOperation, ArpPacket, EtherType, EthernetHeader, MacAddress};

use crate::arp::HoldOutcome;
use crate::buffer::PacketBuffer;
use crate::interface::{InterfaceIndex, LinkKind};
use crate::ipv4::{IpLayer, OutputError};

/// What a received frame carries, for the stack to pass on.
pub enum LinkInput {
    /// An IPv4 packet, link header stripped; `link_multicast` when the
    /// frame went to a link-layer group or broadcast (never forwarded).
    Ipv4 {
        /// The packet.
        packet: PacketBuffer,
        /// The frame's destination was a group.
        link_multicast: bool,
    },
    /// An IPv6 packet, link header stripped; `link_multicast` when the
    /// frame went to a link-layer group (ICMPv6 errors never answer those).
    Ipv6 {
        /// The packet.
        packet: PacketBuffer,
        /// The frame's destination was a group.
        link_multicast: bool,
    },
    /// Handled here (ARP) or dropped.
    Consumed,
}

impl IpLayer {
    /// Sends an IP packet to `neighbour` on `index`; a packet waiting for
    /// ARP counts as sent.
    ///
    /// # Errors
    /// [`OutputError::QueueFull`] when the interface dropped it.
    pub(crate) fn link_output(
        &mut self,
        index: InterfaceIndex,
        neighbour: Ipv4Addr,
        packet: PacketBuffer,
    ) -> Result<(), OutputError> {
        let Some(interface) = self.interface(index) else {
            return Err(OutputError::NoRoute);
        };
        if interface.spec.kind == LinkKind::Loopback {
            return self.enqueue(index, packet);
        }
        let broadcast = neighbour.is_broadcast()
            || interface
                .address
                .is_some_and(|a| a.broadcast() == Some(neighbour));
        let now = self.now_ns;
        let mac = if broadcast {
            Some(MacAddress::BROADCAST)
        } else {
            self.arp.lookup(now, index, neighbour)
        };
        match mac {
            Some(mac) => self.frame_and_enqueue(index, mac, EtherType::Ipv4, packet),
            None => {
                if self.arp.hold(now, index, neighbour, packet) == HoldOutcome::SendRequest {
                    self.send_arp_request(index, neighbour);
                }
                Ok(())
            }
        }
    }

    /// Sends an IPv6 packet to `neighbour` on `index`: to a group's MAC,
    /// or to the neighbor cache's (a packet waiting for a solicitation's
    /// answer counts as sent).
    ///
    /// # Errors
    /// [`OutputError::QueueFull`] when the interface dropped it.
    pub(crate) fn link_output6(
        &mut self,
        index: InterfaceIndex,
        neighbour: Ipv6Addr,
        packet: PacketBuffer,
    ) -> Result<(), OutputError> {
        let Some(interface) = self.interface(index) else {
            return Err(OutputError::NoRoute);
        };
        if interface.spec.kind == LinkKind::Loopback {
            return self.enqueue(index, packet);
        }
        if neighbour.is_multicast() {
            let mac = MacAddress::ipv6_multicast(neighbour);
            return self.frame_and_enqueue(index, mac, EtherType::Ipv6, packet);
        }
        let now = self.now_ns;
        if let Some(mac) = self.v6.neighbors.resolve(now, index, neighbour) {
            return self.frame_and_enqueue(index, mac, EtherType::Ipv6, packet);
        }
        let timing = self.nud_timing(index);
        if self
            .v6
            .neighbors
            .hold(now, index, neighbour, packet, timing)
        {
            self.send_solicitation(index, neighbour, None);
        }
        Ok(())
    }

    pub(crate) fn frame_and_enqueue(
        &mut self,
        index: InterfaceIndex,
        destination: MacAddress,
        ether_type: EtherType,
        mut packet: PacketBuffer,
    ) -> Result<(), OutputError> {
        let source = self
            .interface(index)
            .map(|i| i.spec.mac)
            .ok_or(OutputError::NoRoute)?;
        let Ok(bytes) = packet.prepend(HEADER_LEN) else {
            return Err(self.no_buffer());
        };
        EthernetHeader {
            destination,
            source,
            ether_type,
        }
        .write(bytes);
        self.enqueue(index, packet)
    }

    fn enqueue(&mut self, index: InterfaceIndex, frame: PacketBuffer) -> Result<(), OutputError> {
        let interface = self.interface_mut(index).ok_or(OutputError::NoRoute)?;
        if interface.enqueue(frame) {
            Ok(())
        } else {
            Err(OutputError::QueueFull)
        }
    }

    /// Asks who has `target` on `index`; with `target` our own address,
    /// this is the gratuitous ARP announcing it.
    pub(crate) fn send_arp_request(&mut self, index: InterfaceIndex, target: Ipv4Addr) {
        let Some(interface) = self.interface(index) else {
            return;
        };
        let packet = ArpPacket {
            operation: ArpOperation::Request,
            sender_mac: interface.spec.mac,
            sender_ip: interface
                .address
                .map_or(Ipv4Addr::UNSPECIFIED, |a| a.address),
            target_mac: MacAddress::ZERO,
            target_ip: target,
        };
        self.send_arp(index, MacAddress::BROADCAST, &packet);
    }

    fn send_arp(&mut self, index: InterfaceIndex, destination: MacAddress, packet: &ArpPacket) {
        let Ok(mut buffer) = self.pool.allocate() else {
            self.stats.no_buffer += 1;
            return;
        };
        let Ok(bytes) = buffer.append(PACKET_LEN) else {
            return;
        };
        packet.write(bytes);
        // A lost ARP packet is retried by its timer, or by the requester.
        let _ = self.frame_and_enqueue(index, destination, EtherType::Arp, buffer);
    }

    /// Retries the ARP requests whose timers ran out.
    pub(crate) fn arp_timers(&mut self) {
        let mut retries = Vec::new();
        let now = self.now_ns;
        self.arp.on_timer(now, &mut retries);
        for (index, target) in retries {
            self.send_arp_request(index, target);
        }
    }

    /// Takes a received frame apart.
    pub(crate) fn link_input(
        &mut self,
        index: InterfaceIndex,
        mut frame: PacketBuffer,
    ) -> LinkInput {
        let Some(interface) = self.interface_mut(index) else {
            return LinkInput::Consumed;
        };
        interface.counters.received_packets += 1;
        interface.counters.received_bytes += frame.len() as u64;
        if !interface.up {
            interface.counters.received_dropped += 1;
            return LinkInput::Consumed;
        }
        if interface.spec.kind == LinkKind::Loopback {
            return match frame.data().first().map(|byte| byte >> 4) {
                Some(6) => LinkInput::Ipv6 {
                    packet: frame,
                    link_multicast: false,
                },
                _ => LinkInput::Ipv4 {
                    packet: frame,
                    link_multicast: false,
                },
            };
        }
        let own_mac = interface.spec.mac;
        let header = match EthernetHeader::parse(frame.data()) {
            Ok(header) if header.destination == own_mac || header.destination.is_multicast() => {
                header
            }
            _ => return self.drop_input(index),
        };
        frame.strip_front(HEADER_LEN);
        match header.ether_type {
            EtherType::Ipv4 => LinkInput::Ipv4 {
                packet: frame,
                link_multicast: header.destination.is_multicast(),
            },
            EtherType::Ipv6 => LinkInput::Ipv6 {
                packet: frame,
                link_multicast: header.destination.is_multicast(),
            },
            EtherType::Arp => {
                self.arp_input(index, frame.data());
                LinkInput::Consumed
            }
            EtherType::Other(_) => self.drop_input(index),
        }
    }

    fn drop_input(&mut self, index: InterfaceIndex) -> LinkInput {
        if let Some(interface) = self.interface_mut(index) {
            interface.counters.received_dropped += 1;
        }
        LinkInput::Consumed
    }

    /// RFC 826's reception algorithm: merge the sender, answer requests
    /// for our address, release packets that waited for the sender.
    fn arp_input(&mut self, index: InterfaceIndex, bytes: &[u8]) {
        let Ok(packet) = ArpPacket::parse(bytes) else {
            self.arp.stats.malformed += 1;
            return;
        };
        let Some(own) = self.interface(index).and_then(|i| i.address) else {
            return;
        };
        let sender_valid = !packet.sender_ip.is_unspecified()
            && !packet.sender_mac.is_multicast()
            && packet.sender_ip != own.address;
        let for_us = packet.target_ip == own.address;
        if packet.sender_ip == own.address && packet.sender_mac != own_mac(self, index) {
            log::warn!("{} is also claimed by {}", own.address, packet.sender_mac);
        }
        if sender_valid {
            let now = self.now_ns;
            // Entries are made only for neighbours on our subnet (RFC 826's
            // merge, restricted so that off-link claims cannot crowd out
            // the gateway); others are only refreshed.
            let create = for_us && own.contains(packet.sender_ip);
            let released = self
                .arp
                .learn(now, index, packet.sender_ip, packet.sender_mac, create);
            for waiting in released {
                // Dropped and counted by the interface if its queue is full.
                let _ = self.frame_and_enqueue(index, packet.sender_mac, EtherType::Ipv4, waiting);
            }
        }
        if for_us && packet.operation == ArpOperation::Request {
            self.send_arp_reply(index, &packet);
        }
    }

    fn send_arp_reply(&mut self, index: InterfaceIndex, request: &ArpPacket) {
        if request.sender_mac.is_multicast() {
            return; // Never answer to a broadcast hardware address.
        }
        let Some(interface) = self.interface(index) else {
            return;
        };
        let reply = ArpPacket {
            operation: ArpOperation::Reply,
            sender_mac: interface.spec.mac,
            sender_ip: request.target_ip,
            target_mac: request.sender_mac,
            target_ip: request.sender_ip,
        };
        self.arp.stats.replies_sent += 1;
        self.send_arp(index, request.sender_mac, &reply);
    }
}

impl core::fmt::Debug for LinkInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LinkInput").finish_non_exhaustive()
    }
}

/// The MAC of interface `index`.
fn own_mac(ip: &IpLayer, index: InterfaceIndex) -> MacAddress {
    ip.interface(index).map_or(MacAddress::ZERO, |i| i.spec.mac)
}
