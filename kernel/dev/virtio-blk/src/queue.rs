//! The request queue: requests lent to the device, kept by ownership.
//!
//! A virtio-blk request is a chain of buffers: a 16-byte header the
//! device reads (type, sector), the data segments in order (the device
//! reads them for a write, fills them for a read; none for a flush), and
//! one status byte the device writes. virtio-drivers' `VirtQueue::add` lends them with the
//! contract "do not touch these until `pop_used` gives the token back".
//! [`Requests`] keeps it by ownership: the header and status live in
//! boxes and the data in the request's own `Vec`s, all moved into the
//! token's slot (a descriptor index, unique while in flight) and taken out
//! only when the device has returned that token. Moving a box or a `Vec`
//! does not move the bytes the device sees.
//!
//! A token the device returns that was never lent, or a used element the
//! queue refuses, means the device is broken ([`Broken`]); the buffers it
//! may still use are leaked rather than freed under it. Dropping the
//! queue resets the device first, so it stops before its memory goes.
//! This file is the component's only unsafe code.

#![allow(unsafe_code, reason = "VirtQueue lends buffers through unsafe calls")]

use alloc::boxed::Box;
use alloc::vec::Vec;

use block::{BlockError, Operation, Request};
use virtio::KernelHal;
use virtio_drivers::queue::VirtQueue;
use virtio_drivers::transport::{DeviceStatus, Transport};

/// Descriptors in the request queue (with indirect descriptors, also the
/// longest chain: a header, [`MAX_SEGMENTS`] segments and a status).
pub(crate) const QUEUE_SIZE: usize = 128;
/// Data segments one request may have, with indirect descriptors.
pub(crate) const MAX_SEGMENTS: usize = QUEUE_SIZE - 2;
/// Request types (virtio 1.0 §5.2.6).
const TYPE_IN: u32 = 0;
const TYPE_OUT: u32 = 1;
const TYPE_FLUSH: u32 = 4;
/// Status the device writes: success.
const STATUS_OK: u8 = 0;
/// What the status byte holds until the device writes it.
const STATUS_UNSET: u8 = 0xff;

/// The device returned something it was never given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Broken;

/// One request in the device's hands.
struct Lent {
    header: Box<[u8; 16]>,
    status: Box<[u8; 1]>,
    request: Request,
}

/// A request back from the device, and the status it wrote.
pub(crate) struct Finished {
    pub request: Request,
    pub status: u8,
}

impl Finished {
    /// The block layer's view of the status.
    pub(crate) fn result(&self) -> Result<(), BlockError> {
        if self.status == STATUS_OK {
            Ok(())
        } else {
            Err(BlockError::Io)
        }
    }
}

/// The request queue of one device, and its transport.
pub(crate) struct Requests<T: Transport> {
    queue: VirtQueue<KernelHal, QUEUE_SIZE>,
    transport: T,
    lent: Vec<Option<Lent>>,
    indirect: bool,
}

impl<T: Transport> Requests<T> {
    pub(crate) fn new(
        transport: T,
        queue: VirtQueue<KernelHal, QUEUE_SIZE>,
        indirect: bool,
    ) -> Self {
        Self {
            queue,
            transport,
            lent: (0..QUEUE_SIZE).map(|_| None).collect(),
            indirect,
        }
    }

    /// Requests the queue holds at once: one descriptor each with
    /// indirect descriptors, else three (one segment each).
    pub(crate) fn depth(&self) -> usize {
        if self.indirect {
            QUEUE_SIZE
        } else {
            QUEUE_SIZE / 3
        }
    }

    /// Acknowledges the device's interrupt (deasserts a line).
    pub(crate) fn acknowledge(&mut self) {
        self.transport.ack_interrupt();
    }

    /// Lends `request` to the device at virtio sector `sector`, and
    /// notifies it; gives the request back when the queue is full.
    pub(crate) fn lend(&mut self, request: Request, sector: u64) -> Result<(), Request> {
        let kind = match request.operation {
            Operation::Read => TYPE_IN,
            Operation::Write => TYPE_OUT,
            Operation::Flush => TYPE_FLUSH,
        };
        let mut lent = Lent {
            header: Box::new(header(kind, sector)),
            status: Box::new([STATUS_UNSET]),
            request,
        };
        // SAFETY: the header, status and data move into the token's slot
        // below (their bytes stay where they are) and are not touched
        // until `take_finished` sees the device return the token.
        let token = unsafe { add(&mut self.queue, &mut lent) };
        let Ok(token) = token else {
            return Err(lent.request);
        };
        if let Some(previous) = self.lent[usize::from(token)].replace(lent) {
            // The crate's bug: the device may still use those buffers.
            core::mem::forget(previous);
        }
        if self.queue.should_notify() {
            self.transport.notify(0);
        }
        Ok(())
    }

    /// The next request the device finished, if any.
    ///
    /// # Errors
    /// [`Broken`] when the device returned a token that was not lent.
    pub(crate) fn take_finished(&mut self) -> Result<Option<Finished>, Broken> {
        let Some(token) = self.queue.peek_used() else {
            return Ok(None);
        };
        let slot = self.lent.get_mut(usize::from(token)).ok_or(Broken)?;
        let mut lent = slot.take().ok_or(Broken)?;
        // SAFETY: `lent` was lent with `token` (slots are indexed by
        // token) and its buffers are unchanged since `add`.
        if unsafe { pop(&mut self.queue, token, &mut lent) }.is_err() {
            // Not popped: the device still owns it.
            *slot = Some(lent);
            return Err(Broken);
        }
        Ok(Some(Finished {
            status: lent.status[0],
            request: lent.request,
        }))
    }
}

impl<T: Transport> Drop for Requests<T> {
    fn drop(&mut self) {
        // Reset: the device stops using the queue and the lent buffers.
        self.transport.set_status(DeviceStatus::empty());
    }
}

/// The request header: type, reserved, sector, little-endian.
fn header(kind: u32, sector: u64) -> [u8; 16] {
    let mut header = [0u8; 16];
    header[..4].copy_from_slice(&kind.to_le_bytes());
    header[8..].copy_from_slice(&sector.to_le_bytes());
    header
}

/// Adds `lent`'s chain to `queue`.
///
/// # Safety
/// `lent`'s header, data and status are not touched until [`pop`] with
/// the returned token succeeds.
unsafe fn add(
    queue: &mut VirtQueue<KernelHal, QUEUE_SIZE>,
    lent: &mut Lent,
) -> virtio_drivers::Result<u16> {
    let (header, status) = (&lent.header[..], &mut lent.status[..]);
    let segments = &mut lent.request.buffers;
    // SAFETY: forwarded to the caller.
    unsafe {
        match lent.request.operation {
            Operation::Read => queue.add(&[header], &mut filled(segments, status)),
            Operation::Write => queue.add(&written(header, segments), &mut [status]),
            Operation::Flush => queue.add(&[header], &mut [status]),
        }
    }
}

/// Takes `lent`'s chain back from `queue`.
///
/// # Safety
/// `lent` is what [`add`] lent under `token`, unchanged.
unsafe fn pop(
    queue: &mut VirtQueue<KernelHal, QUEUE_SIZE>,
    token: u16,
    lent: &mut Lent,
) -> virtio_drivers::Result<u32> {
    let (header, status) = (&lent.header[..], &mut lent.status[..]);
    let segments = &mut lent.request.buffers;
    // SAFETY: forwarded to the caller: the same buffers as `add` lent.
    unsafe {
        match lent.request.operation {
            Operation::Read => queue.pop_used(token, &[header], &mut filled(segments, status)),
            Operation::Write => queue.pop_used(token, &written(header, segments), &mut [status]),
            Operation::Flush => queue.pop_used(token, &[header], &mut [status]),
        }
    }
}

/// What the device writes for a read: the segments, then the status.
fn filled<'a>(segments: &'a mut [Vec<u8>], status: &'a mut [u8]) -> Vec<&'a mut [u8]> {
    let mut parts: Vec<&mut [u8]> = segments
        .iter_mut()
        .map(|segment| &mut segment[..])
        .collect();
    parts.push(status);
    parts
}

/// What the device reads for a write: the header, then the segments.
fn written<'a>(header: &'a [u8], segments: &'a [Vec<u8>]) -> Vec<&'a [u8]> {
    let mut parts = alloc::vec![header];
    parts.extend(segments.iter().map(|segment| &segment[..]));
    parts
}
