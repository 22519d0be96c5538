//! Network interfaces (NetBSD's ifnet): what a driver attaches, and the
//! state the stack keeps per interface.
//!
//! A driver implements [`NetworkDevice`] and attaches it with
//! [`crate::Net::attach`]; the stack then owns an [`Interface`] for it:
//! name, link kind, MAC, MTU, up/down, its IPv4 address, its IPv6 state
//! (addresses with their DAD and lifetime states, groups, what routers
//! said: [`crate::ipv6::address::InterfaceIpv6`]), counters and a
//! bounded send queue. Output never calls the driver directly: frames go
//! to the send queue and are handed to the driver when the stack leaves
//! its lock, so a busy device gives back-pressure (the frame waits in the
//! queue) instead of a drop, up to the queue's bound.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::net::Ipv4Addr;

use base::Context;
use wire::MacAddress;

use crate::buffer::PacketBuffer;
use crate::offload::Offloads;

/// Frames an interface holds for a busy device before it drops.
pub const SEND_QUEUE_LIMIT: usize = 512;

/// An interface's number, its index in the stack's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InterfaceIndex(pub u16);

impl InterfaceIndex {
    /// The zone that names this interface in IPv6 socket addresses (their
    /// scope id, `%N` in text): its index plus one, as 0 names none.
    pub fn scope_id(self) -> u32 {
        u32::from(self.0) + 1
    }

    /// The interface a scope id names; `None` for 0 (none named) or one
    /// out of range.
    pub fn from_scope_id(scope_id: u32) -> Option<Self> {
        let index = u16::try_from(scope_id.checked_sub(1)?).ok()?;
        Some(Self(index))
    }
}

/// What the link carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Ethernet II frames.
    Ethernet,
    /// IP packets (either version) with no link header (`lo0`).
    Loopback,
}

/// The device said it cannot take the frame now; here it is back.
#[derive(Debug)]
pub struct DeviceBusy(pub PacketBuffer);

/// What a network driver provides (the `if_transmit` of ifnet).
pub trait NetworkDevice: Send + Sync {
    /// Hands one frame to the device. Called under the stack's lock, with
    /// the virtual CPU; must not block. When the device's queue is full it
    /// returns the frame in [`DeviceBusy`] and later calls
    /// [`crate::Net::transmit_ready`] once it has room.
    ///
    /// # Errors
    /// [`DeviceBusy`] with the frame.
    fn transmit(&self, context: &Context<'_>, frame: PacketBuffer) -> Result<(), DeviceBusy>;

    /// Ends a batch of [`NetworkDevice::transmit`] calls: a device that
    /// holds frames until told (one notification per batch) sends them
    /// now. Called under the stack's lock after every batch; must not
    /// block. Nothing to do by default.
    fn flush(&self, context: &Context<'_>) {
        let _ = context;
    }
}

/// What a driver tells the stack when it attaches.
#[derive(Debug, Clone)]
pub struct InterfaceSpec {
    /// Name prefix (`vif`, `vioif`, `lo`); the stack appends the unit.
    pub name_prefix: &'static str,
    /// The link kind.
    pub kind: LinkKind,
    /// The hardware address (zero for loopback).
    pub mac: MacAddress,
    /// The largest IP packet the link carries.
    pub mtu: usize,
    /// What the device does for the stack (checksums, segmentation).
    pub offloads: Offloads,
}

/// Counters of one interface, after `netstat -i`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterfaceCounters {
    /// Frames received.
    pub received_packets: u64,
    /// Bytes received.
    pub received_bytes: u64,
    /// Frames dropped on input: malformed, not for us, no buffer.
    pub received_dropped: u64,
    /// Frames sent to the device.
    pub sent_packets: u64,
    /// Bytes sent to the device.
    pub sent_bytes: u64,
    /// Frames dropped on output: send queue full, link down, an offload
    /// the device lacks.
    pub sent_dropped: u64,
    /// TCP bursts handed to the device to cut (TSO), per family: IPv4,
    /// IPv6 (counted in `sent_packets` too).
    pub sent_bursts: [u64; 2],
}

/// An interface's IPv4 configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceAddress {
    /// The address.
    pub address: Ipv4Addr,
    /// The prefix length of its subnet.
    pub prefix_length: u8,
}

impl InterfaceAddress {
    /// The subnet's network address.
    pub fn network(&self) -> Ipv4Addr {
        mask_address(self.address, self.prefix_length)
    }

    /// The subnet's directed broadcast address; none on /31 point-to-point
    /// links (RFC 3021) and /32 host routes, whose every address is a host.
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        if self.prefix_length > 30 {
            return None;
        }
        let host_bits = u32::MAX
            .checked_shr(u32::from(self.prefix_length))
            .unwrap_or(0);
        Some(Ipv4Addr::from(u32::from(self.address) | host_bits))
    }

    /// Whether `other` is on this subnet.
    pub fn contains(&self, other: Ipv4Addr) -> bool {
        mask_address(other, self.prefix_length) == self.network()
    }
}

impl fmt::Display for InterfaceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_length)
    }
}

/// `address` with all but the first `prefix_length` bits cleared.
pub fn mask_address(address: Ipv4Addr, prefix_length: u8) -> Ipv4Addr {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix_length.min(32)))
        .unwrap_or(0);
    Ipv4Addr::from(u32::from(address) & mask)
}

/// One attached interface.
pub struct Interface {
    /// Its index.
    pub index: InterfaceIndex,
    /// `vif0`, `lo0`, …
    pub name: String,
    /// Link kind, MAC, MTU.
    pub spec: InterfaceSpec,
    /// Administratively up: down interfaces neither send nor receive.
    pub up: bool,
    /// The configured address.
    pub address: Option<InterfaceAddress>,
    /// IPv6: addresses and their states, groups, link parameters.
    pub ipv6: crate::ipv6::address::InterfaceIpv6,
    /// Counters.
    pub counters: InterfaceCounters,
    /// The MTU its device carries; `spec.mtu` may be set lower
    /// (`crate::Stack::set_mtu`).
    pub device_mtu: usize,
    pub(crate) device: Arc<dyn NetworkDevice>,
    pub(crate) send_queue: VecDeque<PacketBuffer>,
}

impl Interface {
    /// Whether `address` is this interface's own or one of its broadcasts.
    pub fn accepts(&self, destination: Ipv4Addr) -> bool {
        if destination.is_broadcast() {
            return true;
        }
        match self.address {
            Some(own) => destination == own.address || own.broadcast() == Some(destination),
            None => false,
        }
    }

    /// Queues a finished frame for the device; drops and counts it (and
    /// says so) when the interface is down or the queue is full.
    pub(crate) fn enqueue(&mut self, mut frame: PacketBuffer) -> bool {
        if !self.up || self.send_queue.len() >= SEND_QUEUE_LIMIT || !self.offer(&mut frame) {
            self.counters.sent_dropped += 1;
            return false;
        }
        self.send_queue.push_back(frame);
        true
    }

    /// Whether the device can take `frame`'s offload marks; a partial
    /// checksum it cannot complete is completed here (see `offload.rs`).
    fn offer(&self, frame: &mut PacketBuffer) -> bool {
        let offloads = self.spec.offloads;
        if frame.segment_size() > 0 && !offloads.segments(self.ip_version(frame)) {
            return false;
        }
        offloads.transmit_checksum || frame.complete_checksum()
    }

    /// The IP version of the packet in `frame`, after the link header.
    fn ip_version(&self, frame: &PacketBuffer) -> u8 {
        let link_header = match self.spec.kind {
            LinkKind::Ethernet => wire::ethernet::HEADER_LEN,
            LinkKind::Loopback => 0,
        };
        crate::offload::ip_version(frame, link_header)
    }

    /// Hands queued frames to the device until it is busy or the queue is
    /// empty, then flushes the batch.
    pub(crate) fn start_output(&mut self, context: &Context<'_>) {
        if self.send_queue.is_empty() {
            return;
        }
        while let Some(frame) = self.send_queue.pop_front() {
            let length = frame.len() as u64;
            let burst = (frame.segment_size() > 0).then(|| self.ip_version(&frame));
            match self.device.transmit(context, frame) {
                Ok(()) => {
                    self.counters.sent_packets += 1;
                    self.counters.sent_bytes += length;
                    match burst {
                        Some(6) => self.counters.sent_bursts[1] += 1,
                        Some(_) => self.counters.sent_bursts[0] += 1,
                        None => {}
                    }
                }
                Err(DeviceBusy(frame)) => {
                    self.send_queue.push_front(frame);
                    break;
                }
            }
        }
        self.device.flush(context);
    }
}

impl fmt::Debug for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interface")
            .field("name", &self.name)
            .field("up", &self.up)
            .field("address", &self.address)
            .field("ipv6", &self.ipv6.addresses)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_arithmetic() {
        let address = InterfaceAddress {
            address: Ipv4Addr::new(192, 168, 77, 2),
            prefix_length: 24,
        };
        assert_eq!(address.network(), Ipv4Addr::new(192, 168, 77, 0));
        assert_eq!(address.broadcast(), Some(Ipv4Addr::new(192, 168, 77, 255)));
        let point_to_point = InterfaceAddress {
            address: Ipv4Addr::new(10, 0, 0, 2),
            prefix_length: 31,
        };
        assert_eq!(point_to_point.broadcast(), None, "the peer is a host");
        assert!(point_to_point.contains(Ipv4Addr::new(10, 0, 0, 3)));
        assert!(address.contains(Ipv4Addr::new(192, 168, 77, 200)));
        assert!(!address.contains(Ipv4Addr::new(192, 168, 78, 1)));
        assert_eq!(
            mask_address(Ipv4Addr::new(10, 1, 2, 3), 0),
            Ipv4Addr::UNSPECIFIED
        );
        assert_eq!(
            mask_address(Ipv4Addr::new(10, 1, 2, 3), 32),
            Ipv4Addr::new(10, 1, 2, 3)
        );
        assert_eq!(
            mask_address(Ipv4Addr::new(10, 1, 2, 3), 99),
            Ipv4Addr::new(10, 1, 2, 3)
        );
    }
}
