//! The two virtqueues with owned packet buffers: zero-copy RX and TX.
//!
//! virtio-drivers' `VirtQueue` lends byte slices to the device with
//! `unsafe` calls whose contract is "do not touch the buffer until its
//! token comes back". [`Rings`] keeps that contract by ownership: a lent
//! [`PacketBuffer`] moves into the table slot of its token (a descriptor
//! index, unique while in flight) and only leaves it when the device has
//! returned that token. Moving a `PacketBuffer` moves a handle; its bytes
//! stay in their pool block (or pages), where the device reads or writes
//! them.
//!
//! - Receive: a buffer is lent as `HEADROOM..HEADROOM + RECEIVE_LENGTH`
//!   of its block; the device writes the virtio-net header and the frame
//!   (or, with merged buffers, a part of one); `receive.rs` takes them
//!   apart.
//! - Transmit: the header is prepended into the frame's headroom, so the
//!   frame goes out as one descriptor of its own bytes.
//! - Notifications: adding never notifies; [`Rings::kick`] does, once per
//!   batch, unless the device said it needs none (`NO_NOTIFY`). Interrupts
//!   of either queue are switched with [`Rings::set_interrupts`]
//!   (`NO_INTERRUPT`).
//!
//! A token the device returns that we never lent (or a used element the
//! crate refuses) means the device is broken: [`Broken`], and the caller
//! stops using it. The device's buffers are never freed under it: the
//! device is reset (when [`Device`] drops, first) before they are.
//! This file is the component's only unsafe code outside its tests.

#![allow(unsafe_code, reason = "VirtQueue lends buffers through unsafe calls")]

use alloc::boxed::Box;
use alloc::vec::Vec;

use net::PacketBuffer;
use net::buffer::MAX_DATA;
use net::virtio_header::Header;
use virtio::KernelHal;
use virtio_drivers::Error as VirtioError;
use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::{DeviceStatus, Transport};

use crate::features::Negotiated;

/// Descriptors per queue (receive and transmit each).
pub(crate) const QUEUE_SIZE: usize = 256;
/// Bytes lent per receive buffer: a virtio-net header and the largest
/// frame (1514, 1518 tagged) fit without merged buffers.
pub(crate) const RECEIVE_LENGTH: usize = MAX_DATA;
const _: () = assert!(RECEIVE_LENGTH >= 12 + 1518);
/// The queues' numbers.
pub(crate) const RECEIVE: u16 = 0;
pub(crate) const TRANSMIT: u16 = 1;

/// One queue of the device.
pub(crate) type Queue = VirtQueue<KernelHal, QUEUE_SIZE>;

/// A started device: its transport, queues and what was agreed.
///
/// The queues are boxed: each holds a shadow of its descriptors (8 KiB),
/// too much to move around on a kernel stack.
pub(crate) struct Device<T: Transport> {
    pub(crate) transport: T,
    pub(crate) receive: Box<Queue>,
    pub(crate) transmit: Box<Queue>,
    pub(crate) negotiated: Negotiated,
    pub(crate) mac: [u8; 6],
}

impl<T: Transport> Drop for Device<T> {
    /// Resets the device, so it uses no queue or buffer once they go.
    fn drop(&mut self) {
        self.transport.set_status(DeviceStatus::empty());
        self.transport.queue_unset(RECEIVE);
        self.transport.queue_unset(TRANSMIT);
    }
}

/// The device returned something it was never given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Broken;

/// Why a frame was not sent; it is handed back.
#[derive(Debug)]
pub(crate) enum Unsent {
    /// Every transmit descriptor is in flight: try after completions.
    Full(PacketBuffer),
    /// Less headroom than the virtio-net header needs.
    NoHeadroom(PacketBuffer),
    /// The queue refused it for good (an empty frame); it is dropped.
    Refused,
}

/// The queues and the buffers lent on them.
pub(crate) struct Rings<T: Transport> {
    /// First, so that it is dropped (resetting the device) before the
    /// buffers the device may still be using.
    device: Device<T>,
    receiving: Vec<Option<PacketBuffer>>,
    sending: Vec<Option<PacketBuffer>>,
    /// Buffers added to each queue since its last notification.
    unannounced: [u16; 2],
}

impl<T: Transport> Rings<T> {
    /// Takes over a started device with empty queues.
    pub(crate) fn new(device: Device<T>) -> Self {
        Self {
            device,
            receiving: (0..QUEUE_SIZE).map(|_| None).collect(),
            sending: (0..QUEUE_SIZE).map(|_| None).collect(),
            unannounced: [0; 2],
        }
    }

    /// The device's MAC address.
    pub(crate) fn mac(&self) -> [u8; 6] {
        self.device.mac
    }

    /// What was agreed with the device.
    pub(crate) fn negotiated(&self) -> Negotiated {
        self.device.negotiated
    }

    /// Bytes of virtio-net header before each frame (10 legacy, 12).
    pub(crate) fn header_length(&self) -> usize {
        self.device.negotiated.header_length()
    }

    /// Acknowledges the device's interrupt (deasserts a line).
    pub(crate) fn acknowledge(&mut self) {
        self.device.transport.ack_interrupt();
    }

    /// Whether the receive queue has completions waiting.
    pub(crate) fn receive_pending(&self) -> bool {
        self.device.receive.can_pop()
    }

    /// Whether the transmit queue has completions waiting.
    pub(crate) fn transmit_pending(&self) -> bool {
        self.device.transmit.can_pop()
    }

    /// Asks for (or waives) used-buffer interrupts of queue `queue`.
    pub(crate) fn set_interrupts(&mut self, queue: u16, enable: bool) {
        self.queue(queue).set_dev_notify(enable);
    }

    fn queue(&mut self, queue: u16) -> &mut Queue {
        match queue {
            RECEIVE => &mut self.device.receive,
            _ => &mut self.device.transmit,
        }
    }

    /// Notifies the device of what was added to `queue` since the last
    /// time, unless it asked not to be.
    pub(crate) fn kick(&mut self, queue: u16) {
        let slot = usize::from(queue == TRANSMIT);
        if core::mem::take(&mut self.unannounced[slot]) == 0 {
            return;
        }
        if self.queue(queue).should_notify() {
            self.device.transport.notify(queue);
        }
    }

    /// Lends `buffer` to the device for one received frame (or part of
    /// one); gives it back when the queue is full or the buffer too small.
    pub(crate) fn post_receive(&mut self, mut buffer: PacketBuffer) -> Result<(), PacketBuffer> {
        if buffer.reset(RECEIVE_LENGTH).is_err() {
            return Err(buffer);
        }
        // SAFETY: `buffer` moves into its token's slot below and is not
        // touched until `take_received` sees the device return the token.
        match unsafe { self.device.receive.add(&[], &mut [buffer.data_mut()]) } {
            Ok(token) => {
                park(&mut self.receiving, token, buffer);
                self.unannounced[0] = self.unannounced[0].saturating_add(1);
                Ok(())
            }
            Err(_) => Err(buffer),
        }
    }

    /// The next completed receive buffer, if any, with the bytes the
    /// device says it wrote (untrusted: may exceed the buffer).
    ///
    /// # Errors
    /// [`Broken`] when the device returned a token that was not lent.
    pub(crate) fn take_received(&mut self) -> Result<Option<(PacketBuffer, usize)>, Broken> {
        let Some(token) = self.device.receive.peek_used() else {
            return Ok(None);
        };
        let slot = self.receiving.get_mut(usize::from(token)).ok_or(Broken)?;
        let mut buffer = slot.take().ok_or(Broken)?;
        // SAFETY: `buffer` was lent with `token` (slots are indexed by
        // token) and its window is unchanged since `post_receive`.
        match unsafe {
            self.device
                .receive
                .pop_used(token, &[], &mut [buffer.data_mut()])
        } {
            Ok(written) => Ok(Some((buffer, written as usize))),
            Err(_) => {
                // Not popped: the device still owns it.
                *slot = Some(buffer);
                Err(Broken)
            }
        }
    }

    /// Queues `frame` with `header` prepended in place; the device hears
    /// of it at the next [`Rings::kick`].
    ///
    /// # Errors
    /// [`Unsent`] with the frame, unchanged.
    pub(crate) fn send(&mut self, mut frame: PacketBuffer, header: &Header) -> Result<(), Unsent> {
        let length = self.header_length();
        let Ok(bytes) = frame.prepend(length) else {
            return Err(Unsent::NoHeadroom(frame));
        };
        header.write(bytes);
        // SAFETY: `frame` moves into its token's slot below and is not
        // touched until `reclaim_sent` sees the device return the token.
        match unsafe { self.device.transmit.add(&[frame.data()], &mut []) } {
            Ok(token) => {
                park(&mut self.sending, token, frame);
                self.unannounced[1] = self.unannounced[1].saturating_add(1);
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
        while let Some(token) = self.device.transmit.peek_used() {
            let slot = self.sending.get_mut(usize::from(token)).ok_or(Broken)?;
            let frame = slot.take().ok_or(Broken)?;
            // SAFETY: `frame` was lent with `token` and is unchanged.
            if unsafe {
                self.device
                    .transmit
                    .pop_used(token, &[frame.data()], &mut [])
            }
            .is_err()
            {
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
