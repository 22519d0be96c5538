//! Device offloads: what an interface can do for the stack, per packet.
//!
//! An interface tells the stack at attach what its device does
//! ([`Offloads`], NetBSD's `if_capenable`): complete transport checksums
//! left partial, and cut TCP segments of up to 64 KiB into segments of
//! the peer's MSS (TSO). Each packet buffer then carries what was done or
//! is asked (`PacketOffload`, the skb's `ip_summed`, `csum_start` and
//! `gso_size`):
//!
//! - **Transmit checksum.** The transport writes the folded pseudo-header
//!   sum (not complemented) into its checksum field and marks the buffer
//!   [`PacketBuffer::set_partial_checksum`]; the device sums from the
//!   transport header to the end and stores the complement there.
//! - **Segmentation.** A TCP segment longer than the MTU carries its
//!   segment size ([`PacketBuffer::set_segment_size`]); the device cuts it,
//!   copying the headers and fixing lengths, sequence numbers and sums.
//! - **Receive.** A driver marks a frame whose checksum the device checked
//!   (or that came from a host that never computed one)
//!   [`PacketBuffer::set_checksum_valid`]; the transports skip theirs.
//!   Frames larger than the MTU (coalesced by the device) are accepted
//!   like any other. A frame whose checksum was left partial, or that
//!   the device coalesced, also keeps those marks
//!   ([`PacketBuffer::set_received_partial`],
//!   [`PacketBuffer::set_segment_size`]): they are transmit marks again
//!   if the packet is forwarded (`crate::forward`), so the next device
//!   completes the sum (or [`Interface::enqueue`] does) and a coalesced
//!   TCP segment is cut again or dropped; a packet that ends here has
//!   them cleared ([`PacketBuffer::clear_transmit_marks`]).
//!
//! An interface without a capability never sees a packet that needs it:
//! TCP asks the route before using either, and [`Interface::enqueue`]
//! completes a stray partial checksum in software (a route that changed
//! under a segment) and drops a stray oversized segment. Partial
//! checksums serve TCP and UDP in both families (the transport sums the
//! pseudo-header of its own), and a packet that must be fragmented has
//! its checksum completed first. Segmentation is per family (TSO4, TSO6,
//! as virtio-net and Linux's tap negotiate them): a route offers bursts
//! only when its device cuts the destination's family, and
//! [`Interface::enqueue`] drops a burst of a family the device does not
//! cut ([`Offloads::segments`], the family read from the IP header).
//!
//! [`Interface::enqueue`]: crate::interface::Interface

use crate::buffer::PacketBuffer;

/// What an interface's device does for the stack.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offloads {
    /// It completes the TCP and UDP checksums of packets marked partial,
    /// in either family (it sums from the mark to the end).
    pub transmit_checksum: bool,
    /// It cuts TCP/IPv4 segments of up to [`SEGMENTATION_LIMIT`] bytes
    /// into segments of their marked size (TSO4; needs `transmit_checksum`).
    pub segmentation_ipv4: bool,
    /// The same for TCP/IPv6 (TSO6; needs `transmit_checksum`).
    pub segmentation_ipv6: bool,
}

impl Offloads {
    /// Nothing: loopback, the bus, a tap without a virtio-net header.
    pub const NONE: Self = Self {
        transmit_checksum: false,
        segmentation_ipv4: false,
        segmentation_ipv6: false,
    };
    /// Everything this stack uses.
    pub const ALL: Self = Self {
        transmit_checksum: true,
        segmentation_ipv4: true,
        segmentation_ipv6: true,
    };

    /// Whether the device cuts TCP bursts of the family of IP `version`
    /// (4 or 6); any other version, never.
    pub fn segments(self, version: u8) -> bool {
        let family = match version {
            4 => self.segmentation_ipv4,
            6 => self.segmentation_ipv6,
            _ => false,
        };
        family && self.transmit_checksum
    }
}

/// The IP version of the packet starting `at` bytes into `frame`'s data
/// (after its link header); 0 when the frame is shorter.
pub fn ip_version(frame: &PacketBuffer, at: usize) -> u8 {
    frame.data().get(at).map_or(0, |byte| byte >> 4)
}

/// The largest IP packet handed to a segmenting device: what an IPv4
/// total length (or an IPv6 payload length) holds, less a little for the
/// headers a segment grows.
pub const SEGMENTATION_LIMIT: usize = 65_000;

/// The offload marks of one packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PacketOffload {
    /// Receive: the transport checksum needs no verification.
    checksum_valid: bool,
    /// Transmit: where the transport header starts, as a position in the
    /// block (so later prepends do not move it), and the offset of its
    /// checksum field in it.
    partial: Option<(usize, u16)>,
    /// Transmit: payload bytes per segment the device cuts it into.
    segment_size: u16,
}

impl PacketBuffer {
    /// Whether a device vouched for the transport checksum.
    pub fn checksum_valid(&self) -> bool {
        self.offload.checksum_valid
    }

    /// Says whether the device vouched for the transport checksum.
    pub fn set_checksum_valid(&mut self, valid: bool) {
        self.offload.checksum_valid = valid;
    }

    /// Marks the data as a transport header and payload whose checksum
    /// field at `field` holds the folded pseudo-header sum, for the
    /// device to complete.
    pub fn set_partial_checksum(&mut self, field: u16) {
        self.offload.partial = Some((self.start, field));
    }

    /// Where the partial checksum's sum starts in the data and where its
    /// field is from there; `None` when there is none (or its start was
    /// stripped).
    pub fn partial_checksum(&self) -> Option<(usize, usize)> {
        let (position, field) = self.offload.partial?;
        let start = position.checked_sub(self.start)?;
        (start + usize::from(field) + 2 <= self.len()).then_some((start, usize::from(field)))
    }

    /// Marks a received frame's checksum as partial as its device said:
    /// the sum starts `start` bytes into the data, its field is `field`
    /// bytes from there.
    pub fn set_received_partial(&mut self, start: usize, field: u16) {
        self.offload.partial = Some((self.start + start, field));
    }

    /// Forgets the transmit marks a device left on a received packet (a
    /// partial checksum, a segment size): they matter only to a packet
    /// passed on.
    pub fn clear_transmit_marks(&mut self) {
        self.offload.partial = None;
        self.offload.segment_size = 0;
    }

    /// Payload bytes per segment a segmenting device cuts this TCP segment
    /// into; 0 when it goes as is.
    pub fn segment_size(&self) -> u16 {
        self.offload.segment_size
    }

    /// Asks the device to cut this TCP segment into segments of `size`
    /// payload bytes.
    pub fn set_segment_size(&mut self, size: u16) {
        self.offload.segment_size = size;
    }

    /// Completes a partial checksum in software, as the device would have;
    /// false when the mark pointed outside the data (the packet is then
    /// unusable).
    pub fn complete_checksum(&mut self) -> bool {
        if self.offload.partial.is_none() {
            return true;
        }
        let marked = self.partial_checksum();
        self.offload.partial = None;
        let Some((start, field)) = marked else {
            return false;
        };
        wire::complete_partial(&mut self.data_mut()[start..], field)
    }
}
