//! Virtual NIC hypercalls: Ethernet frames to and from a host backend.
//!
//! The rump papers' `rumpcomp_virtif_*`: a host offers numbered virtual
//! NICs (unit 0, 1, …), each joined to a backend of its own choosing (a
//! shared-memory bus, a Linux tap device). The kernel's `virtif` component
//! opens every unit the host offers and attaches each as an ordinary
//! network interface. Frames cross as plain byte slices: destination MAC
//! through payload, no preamble, no frame check sequence.
//!
//! Reached through [`crate::Hypercalls::virtual_nics`]; hosts without
//! virtual NICs (bare metal, whose NICs are real devices on PCI) return
//! `None` there.

use alloc::boxed::Box;
use core::fmt;

/// The shortest frame a backend passes on: an Ethernet header.
pub const MIN_FRAME: usize = 14;

/// Why a virtual NIC call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NicError {
    /// No NIC with this unit number is configured.
    NoDevice,
    /// The backend could not be opened (missing file, no permission, no
    /// such tap device); the host logged the reason.
    Unavailable,
    /// The frame is shorter than [`MIN_FRAME`] or longer than
    /// [`VirtualNic::max_frame`].
    BadLength,
    /// The backend cannot take the frame now (its queue is full); the frame
    /// was not sent.
    Busy,
    /// [`VirtualNic::close`] was called.
    Closed,
    /// The backend failed in a way the host could not recover from.
    Io,
}

impl fmt::Display for NicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoDevice => "no virtual NIC with this unit number",
            Self::Unavailable => "the virtual NIC's backend could not be opened",
            Self::BadLength => "frame length outside what the backend carries",
            Self::Busy => "the virtual NIC's backend is full",
            Self::Closed => "the virtual NIC is closed",
            Self::Io => "the virtual NIC's backend failed",
        })
    }
}

impl core::error::Error for NicError {}

/// What a virtual NIC's backend does with offloads (since 2.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NicOffloads {
    /// Frames both ways carry a virtio-net header of
    /// [`VIRTIO_HEADER_LENGTH`] bytes before the Ethernet header (the
    /// legacy layout of Linux's `IFF_VNET_HDR`): sent frames may leave
    /// their TCP or UDP checksum partial for the backend to complete;
    /// received ones say whether theirs was checked or is partial.
    pub virtio_header: bool,
    /// With the header: TCP/IPv4 frames of up to 64 KiB both ways, which
    /// the backend cuts to segments (sending) or hands on coalesced
    /// (receiving). [`VirtualNic::max_frame`] then counts them.
    pub segmentation: bool,
    /// With the header: the same for TCP/IPv6 frames (since 2.4).
    pub segmentation_ipv6: bool,
}

/// Bytes of the virtio-net header a NIC with [`NicOffloads::virtio_header`]
/// puts before each frame.
pub const VIRTIO_HEADER_LENGTH: usize = 10;

/// One open virtual NIC. Dropping it detaches from the backend.
///
/// One kernel thread receives; any thread may send. Neither needs the
/// other.
pub trait VirtualNic: Send + Sync {
    /// The MAC address the backend assigned to this NIC (locally
    /// administered, unicast). Never blocks.
    fn mac_address(&self) -> [u8; 6];

    /// The longest frame the backend carries, in bytes (1514 for a
    /// 1500-byte MTU; with offloads, the header and a 64 KiB segment).
    /// Never blocks.
    fn max_frame(&self) -> usize;

    /// What the backend does with offloads; none by default (since 2.2).
    /// Never blocks.
    fn offloads(&self) -> NicOffloads {
        NicOffloads::default()
    }

    /// Sends one frame. Never blocks: a backend that cannot take the frame
    /// at once says [`NicError::Busy`].
    ///
    /// # Errors
    /// [`NicError::BadLength`], [`NicError::Busy`], [`NicError::Closed`],
    /// [`NicError::Io`].
    fn send(&self, frame: &[u8]) -> Result<(), NicError>;

    /// Copies the next received frame into `buffer` and returns its length.
    /// *May block* until a frame arrives or the NIC is closed. A frame
    /// longer than `buffer` is dropped by the host, which goes on waiting
    /// for the next one, so the kernel passes a buffer of
    /// [`VirtualNic::max_frame`] bytes.
    ///
    /// # Errors
    /// [`NicError::Closed`] once [`VirtualNic::close`] was called, at once
    /// and for every later call; [`NicError::Io`].
    fn receive(&self, buffer: &mut [u8]) -> Result<usize, NicError>;

    /// As [`VirtualNic::receive`], but never blocks: `Ok(None)` when no
    /// frame is waiting. The kernel drains a burst with it after one
    /// blocking receive.
    ///
    /// # Errors
    /// As [`VirtualNic::receive`].
    fn try_receive(&self, buffer: &mut [u8]) -> Result<Option<usize>, NicError>;

    /// Makes a blocked [`VirtualNic::receive`] and every later call return
    /// [`NicError::Closed`], so that the receiving thread can end. Never
    /// blocks; callable from any thread.
    fn close(&self);
}

/// The virtual NICs a host offers.
pub trait VirtualNics: Send + Sync {
    /// Opens NIC `unit` (numbered from 0 without gaps). Never blocks for
    /// long: opening a backend is a few host system calls.
    ///
    /// # Errors
    /// [`NicError::NoDevice`] past the last configured unit (the kernel
    /// stops probing there), [`NicError::Unavailable`] when the backend
    /// cannot be opened.
    fn virtif_open(&self, unit: u32) -> Result<Box<dyn VirtualNic>, NicError>;
}
