//! One virtqueue of single-buffer chains, kept by ownership.
//!
//! Every queue of a console moves whole buffers one way: the receive
//! queues (control and ports) lend empty buffers the device fills, the
//! transmit queues lend full ones it reads. virtio-drivers' `add` lends
//! with the contract "do not touch these until `pop_used` gives the token
//! back"; [`Ring`] keeps it by ownership: each buffer is a `Box<[u8]>`
//! moved into its token's slot (a descriptor index, unique while in
//! flight) and taken out only when the device has returned that token.
//! Moving a box does not move the bytes the device sees.
//!
//! A token the device returns that was never lent, or a used element the
//! queue refuses, means the device is broken ([`Broken`]); a buffer it
//! may still use is leaked rather than freed under it. A length the
//! device claims beyond the buffer is cut to the buffer. This file is the
//! component's only unsafe code.

#![allow(unsafe_code, reason = "VirtQueue lends buffers through unsafe calls")]

use alloc::boxed::Box;
use alloc::vec::Vec;

use virtio::KernelHal;
use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::Transport;

use crate::device::QUEUE_SIZE;

/// The device returned something it was never given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Broken;

/// A buffer the device returned, and how many bytes it wrote into it.
pub(crate) type Returned = (Box<[u8]>, usize);

/// Which way a ring's buffers go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// The device fills them (receive queues).
    ToDriver,
    /// The device reads them (transmit queues).
    ToDevice,
}

/// One queue, its number and the buffers lent on it.
pub(crate) struct Ring {
    queue: VirtQueue<KernelHal, QUEUE_SIZE>,
    number: u16,
    direction: Direction,
    lent: Vec<Option<Box<[u8]>>>,
    count: usize,
}

impl Ring {
    /// Queue `number` of `transport`, set up (its size checked before).
    ///
    /// # Errors
    /// virtio-drivers' error setting the queue up.
    pub(crate) fn new(
        transport: &mut impl Transport,
        number: u16,
        direction: Direction,
    ) -> virtio_drivers::Result<Self> {
        Ok(Self {
            queue: VirtQueue::new(transport, number, false, false)?,
            number,
            direction,
            lent: (0..QUEUE_SIZE).map(|_| None).collect(),
            count: 0,
        })
    }

    /// Asks the device to interrupt when it returns buffers, or not (a
    /// hint: it may interrupt anyway). Turning them on is followed by a
    /// full fence, so that a check of the used ring after it cannot miss
    /// a buffer the device returned without seeing the request.
    pub(crate) fn interrupts(&mut self, on: bool) {
        self.queue.set_dev_notify(on);
        if on {
            core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Whether another buffer fits.
    pub(crate) fn has_room(&self) -> bool {
        self.count < QUEUE_SIZE
    }

    /// Lends `buffer` and notifies the device if it asks; gives the
    /// buffer back when the queue is full or it is empty.
    pub(crate) fn lend(
        &mut self,
        transport: &mut impl Transport,
        mut buffer: Box<[u8]>,
    ) -> Result<(), Box<[u8]>> {
        if buffer.is_empty() {
            return Err(buffer);
        }
        // SAFETY: the buffer moves into the token's slot below (its bytes
        // stay where they are) and is not touched until `take` sees the
        // device return the token.
        let token = unsafe { add(&mut self.queue, self.direction, &mut buffer) };
        let Ok(token) = token else {
            return Err(buffer);
        };
        if let Some(previous) = self.lent[usize::from(token)].replace(buffer) {
            // The crate's bug: the device may still use that buffer.
            core::mem::forget(previous);
        }
        self.count += 1;
        if self.queue.should_notify() {
            transport.notify(self.number);
        }
        Ok(())
    }

    /// The next buffer the device returned and the bytes it wrote (for a
    /// receive queue), if any.
    ///
    /// # Errors
    /// [`Broken`] when the device returned a token that was not lent.
    pub(crate) fn take(&mut self) -> Result<Option<Returned>, Broken> {
        let Some(token) = self.queue.peek_used() else {
            return Ok(None);
        };
        let slot = self.lent.get_mut(usize::from(token)).ok_or(Broken)?;
        let mut buffer = slot.take().ok_or(Broken)?;
        // SAFETY: `buffer` was lent with `token` (slots are indexed by
        // token) in this ring's direction, unchanged since `add`.
        let used = unsafe { pop(&mut self.queue, self.direction, token, &mut buffer) };
        let Ok(used) = used else {
            // Not popped: the device still owns it.
            *slot = Some(buffer);
            return Err(Broken);
        };
        self.count -= 1;
        let length = (used as usize).min(buffer.len());
        Ok(Some((buffer, length)))
    }
}

/// Adds `buffer` to `queue` as one descriptor going `direction`.
///
/// # Safety
/// `buffer` is not touched until [`pop`] with the returned token succeeds.
unsafe fn add(
    queue: &mut VirtQueue<KernelHal, QUEUE_SIZE>,
    direction: Direction,
    buffer: &mut [u8],
) -> virtio_drivers::Result<u16> {
    // SAFETY: forwarded to the caller.
    unsafe {
        match direction {
            Direction::ToDriver => queue.add(&[], &mut [buffer]),
            Direction::ToDevice => queue.add(&[buffer], &mut []),
        }
    }
}

/// Takes `buffer` back from `queue`.
///
/// # Safety
/// `buffer` is what [`add`] lent under `token` going `direction`.
unsafe fn pop(
    queue: &mut VirtQueue<KernelHal, QUEUE_SIZE>,
    direction: Direction,
    token: u16,
    buffer: &mut [u8],
) -> virtio_drivers::Result<u32> {
    // SAFETY: forwarded to the caller: the same buffer as `add` lent.
    unsafe {
        match direction {
            Direction::ToDriver => queue.pop_used(token, &[], &mut [buffer]),
            Direction::ToDevice => queue.pop_used(token, &[buffer], &mut []),
        }
    }
}
