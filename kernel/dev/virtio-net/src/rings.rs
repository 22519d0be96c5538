//! The two virtqueues with owned packet buffers: zero-copy RX and TX.
//!
//! virtio-drivers' `VirtIONetRaw` lends byte slices to the device with
//! `unsafe` calls whose contract is "do not touch the buffer until its
//! token comes back". [`Rings`] keeps that contract by ownership: a lent
//! [`PacketBuffer`] moves into the table slot of its token (a descriptor
//! index, unique while in flight) and only leaves it when the device has
//! returned that token. Moving a `PacketBuffer` moves a handle; its bytes
//! stay in their pool block, where the device reads or writes them.
//!
//! - Receive: a buffer is lent as `HEADROOM..HEADROOM + RECEIVE_LENGTH`
//!   of its block; the device writes the virtio-net header and the frame,
//!   and the header is then stripped in place.
//! - Transmit: the header is prepended into the frame's headroom, so the
//!   frame goes out as one descriptor of its own bytes.
//!
//! A token the device returns that we never lent (or a used element the
//! crate refuses) means the device is broken: [`Broken`], and the caller
//! stops using it. The device's buffers are never freed under it: the
//! transport (dropped first, it is the first field) resets the device.
//! This file is the component's only unsafe code outside its tests.

#![allow(
    unsafe_code,
    reason = "VirtIONetRaw lends buffers through unsafe calls"
)]

use alloc::boxed::Box;
use alloc::vec::Vec;

use net::PacketBuffer;
use net::buffer::MAX_DATA;
use virtio_drivers::Error as VirtioError;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::Transport;

use virtio::KernelHal;

/// Descriptors per queue (receive and transmit each).
pub(crate) const QUEUE_SIZE: usize = 256;
/// Bytes lent per receive buffer: a virtio-net header and the largest
/// frame (1514, 1518 tagged) fit; the crate wants at least 1526.
pub(crate) const RECEIVE_LENGTH: usize = MAX_DATA;
const _: () = assert!(RECEIVE_LENGTH >= 12 + 1518);

/// The crate's raw driver as this component uses it, over transport `T`
/// (`SomeTransport` in images, a fake device in the host tests).
pub(crate) type NetRaw<T> = VirtIONetRaw<KernelHal, T, QUEUE_SIZE>;

/// The device returned something it was never given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Broken;

/// What came back on the receive queue.
#[derive(Debug)]
pub(crate) enum Received {
    /// A frame, header stripped.
    Frame(PacketBuffer),
    /// A completion too short to hold even the header; the buffer is free.
    Runt(PacketBuffer),
}

/// Why a frame was not sent; it is handed back.
#[derive(Debug)]
pub(crate) enum Unsent {
    /// Every transmit descriptor is in flight: try after completions.
    Full(PacketBuffer),
    /// Less headroom than the virtio-net header needs.
    NoHeadroom(PacketBuffer),
    /// The crate refused it (e.g. too short); it will never go, and is
    /// dropped.
    Refused,
}

/// The queues and the buffers lent on them.
pub(crate) struct Rings<T: Transport> {
    /// First, so that it is dropped (resetting the device) before the
    /// buffers the device may still be using.
    raw: Box<NetRaw<T>>,
    header_length: usize,
    receiving: Vec<Option<PacketBuffer>>,
    sending: Vec<Option<PacketBuffer>>,
}

impl<T: Transport> Rings<T> {
    /// Takes over an initialised device with empty queues.
    pub(crate) fn new(raw: Box<NetRaw<T>>) -> Self {
        let mut scratch = [0u8; 16];
        let header_length = raw
            .fill_buffer_header(&mut scratch)
            .expect("16 bytes hold either virtio-net header");
        Self {
            raw,
            header_length,
            receiving: (0..QUEUE_SIZE).map(|_| None).collect(),
            sending: (0..QUEUE_SIZE).map(|_| None).collect(),
        }
    }

    /// The device's MAC address.
    pub(crate) fn mac(&self) -> [u8; 6] {
        self.raw.mac_address()
    }

    /// Bytes of virtio-net header before each frame (10 legacy, 12).
    pub(crate) fn header_length(&self) -> usize {
        self.header_length
    }

    /// Acknowledges the device's interrupt (deasserts a line).
    pub(crate) fn acknowledge(&mut self) {
        self.raw.ack_interrupt();
    }

    /// Whether either queue has completions waiting.
    pub(crate) fn pending(&mut self) -> bool {
        self.raw.poll_receive().is_some() || self.raw.poll_transmit().is_some()
    }

    /// Lends `buffer` to the device for one received frame; gives it back
    /// when the queue is full or the buffer too small.
    pub(crate) fn post_receive(&mut self, mut buffer: PacketBuffer) -> Result<(), PacketBuffer> {
        if buffer.reset(RECEIVE_LENGTH).is_err() {
            return Err(buffer);
        }
        // SAFETY: `buffer` moves into its token's slot below and is not
        // touched until `take_received` sees the device return the token.
        match unsafe { self.raw.receive_begin(buffer.data_mut()) } {
            Ok(token) => {
                park(&mut self.receiving, token, buffer);
                Ok(())
            }
            Err(_) => Err(buffer),
        }
    }

    /// The next completed receive buffer, if any.
    ///
    /// # Errors
    /// [`Broken`] when the device returned a token that was not lent.
    pub(crate) fn take_received(&mut self) -> Result<Option<Received>, Broken> {
        let Some(token) = self.raw.poll_receive() else {
            return Ok(None);
        };
        let slot = self.receiving.get_mut(usize::from(token)).ok_or(Broken)?;
        let mut buffer = slot.take().ok_or(Broken)?;
        // SAFETY: `buffer` was lent with `token` (slots are indexed by
        // token) and its window is unchanged since `receive_begin`.
        match unsafe { self.raw.receive_complete(token, buffer.data_mut()) } {
            Ok((header, length)) => {
                buffer.strip_front(header);
                buffer.truncate(length);
                Ok(Some(Received::Frame(buffer)))
            }
            Err(VirtioError::IoError) => Ok(Some(Received::Runt(buffer))),
            Err(_) => {
                // Not popped: the device still owns it.
                *slot = Some(buffer);
                Err(Broken)
            }
        }
    }

    /// Sends `frame` with the virtio-net header prepended in place.
    ///
    /// # Errors
    /// [`Unsent`] with the frame, unchanged.
    pub(crate) fn send(&mut self, mut frame: PacketBuffer) -> Result<(), Unsent> {
        let length = self.header_length;
        let Ok(header) = frame.prepend(length) else {
            return Err(Unsent::NoHeadroom(frame));
        };
        self.raw
            .fill_buffer_header(header)
            .expect("the prepended header has the header's length");
        // SAFETY: `frame` moves into its token's slot below and is not
        // touched until `reclaim_sent` sees the device return the token.
        match unsafe { self.raw.transmit_begin(frame.data()) } {
            Ok(token) => {
                park(&mut self.sending, token, frame);
                Ok(())
            }
            Err(error) => {
                frame.strip_front(length);
                Err(match error {
                    VirtioError::QueueFull => Unsent::Full(frame),
                    _ => Unsent::Refused,
                })
            }
        }
    }

    /// Frees every frame the device has finished sending; returns how many.
    ///
    /// # Errors
    /// [`Broken`] when the device returned a token that was not lent.
    pub(crate) fn reclaim_sent(&mut self) -> Result<usize, Broken> {
        let mut freed = 0;
        while let Some(token) = self.raw.poll_transmit() {
            let slot = self.sending.get_mut(usize::from(token)).ok_or(Broken)?;
            let frame = slot.take().ok_or(Broken)?;
            // SAFETY: `frame` was lent with `token` and is unchanged.
            if unsafe { self.raw.transmit_complete(token, frame.data()) }.is_err() {
                *slot = Some(frame);
                return Err(Broken);
            }
            freed += 1;
        }
        Ok(freed)
    }
}

/// Stores a lent buffer in its token's slot. A token outside the table or
/// one still occupied would be the crate's bug; the buffer the device may
/// use is then leaked rather than freed under it.
fn park(slots: &mut [Option<PacketBuffer>], token: u16, buffer: PacketBuffer) {
    match slots.get_mut(usize::from(token)) {
        Some(slot) => {
            if let Some(previous) = slot.replace(buffer) {
                core::mem::forget(previous);
            }
        }
        None => core::mem::forget(buffer),
    }
}
