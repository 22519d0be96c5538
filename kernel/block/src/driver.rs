//! What a disk driver gives the block layer: its shape and asynchronous
//! requests whose completions it delivers from its own thread.
//!
//! A driver (virtio-blk, the host's disks) implements [`BlockDriver`] and
//! registers with [`crate::Block::attach`]. Its contract, after tock's
//! TRD2:
//!
//! - [`BlockDriver::submit`] never blocks for the device and never
//!   completes the request itself: a request it cannot start comes back
//!   in [`Refused`], buffer and all.
//! - A started request's [`Completion`] is completed exactly once, later,
//!   from the driver's completion or interrupt thread, with the virtual
//!   CPU held and **no driver lock held** (the completion may submit
//!   again).
//! - The buffers move into the request and come back in the completion;
//!   while the device has them, nothing else can reach them.
//! - A request carries its bytes in one or more segments (scatter-gather:
//!   a read fills them in order, a write writes them in order, as if they
//!   were one buffer). A driver takes at most
//!   [`BlockDriver::max_segments`] of them; [`Disk::submit`] joins the
//!   segments of a longer request into one buffer for it.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use base::Context;

use crate::disk::Disk;
use crate::error::BlockError;

/// A disk's shape, fixed while it is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Bytes per sector, the unit of every request: a power of two, at
    /// least 512.
    pub sector_size: u32,
    /// Sectors on the disk (never zero).
    pub sectors: u64,
    /// Writes and flushes are refused.
    pub read_only: bool,
    /// The device has a volatile write cache that [`Operation::Flush`]
    /// empties; without it, completed writes are durable and a flush is
    /// not sent.
    pub flush: bool,
}

impl Geometry {
    /// Bytes on the disk.
    pub fn bytes(&self) -> u64 {
        self.sectors.saturating_mul(u64::from(self.sector_size))
    }
}

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Fills the buffer from `sector` on.
    Read,
    /// Writes the buffer from `sector` on.
    Write,
    /// Makes every write completed before it was submitted durable;
    /// `sector` is 0 and the buffer empty.
    Flush,
}

/// A request's bytes: its segments, in order.
pub type Segments = Vec<Vec<u8>>;

/// What the submitter runs when its request is over: the segments back,
/// and how it went.
pub type Done = Box<dyn FnOnce(&Context<'_>, Segments, Result<(), BlockError>) + Send>;

/// How a request's end is reported: the submitter's [`Done`], and the
/// disk's own bookkeeping when it went through a [`Disk`].
pub struct Completion {
    done: Done,
    /// Set by [`Disk::submit`] while the request is the disk's.
    disk: Option<Arc<Disk>>,
}

impl Completion {
    /// A completion that runs `done`.
    pub fn new(
        done: impl FnOnce(&Context<'_>, Segments, Result<(), BlockError>) + Send + 'static,
    ) -> Self {
        Self {
            done: Box::new(done),
            disk: None,
        }
    }

    /// Reports the request over: a driver calls it once, from its
    /// completion thread, holding none of its locks.
    pub fn complete(
        self,
        context: &Context<'_>,
        buffers: Segments,
        result: Result<(), BlockError>,
    ) {
        (self.done)(context, buffers, result);
        if let Some(disk) = self.disk {
            disk.finished(context, result);
        }
    }

    pub(crate) fn claim(&mut self, disk: Arc<Disk>) {
        self.disk = Some(disk);
    }

    pub(crate) fn release(&mut self) {
        self.disk = None;
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("through_a_disk", &self.disk.is_some())
            .finish_non_exhaustive()
    }
}

/// One request to a disk.
pub struct Request {
    /// What to do.
    pub operation: Operation,
    /// The first sector.
    pub sector: u64,
    /// Read: segments to fill; write: segments to write (each a nonzero
    /// multiple of the sector size, at least one); flush: none.
    pub buffers: Segments,
    /// Completed once when the request is over.
    pub completion: Completion,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("sector", &self.sector)
            .field("segments", &self.buffers.len())
            .field("length", &self.length())
            .finish_non_exhaustive()
    }
}

impl Request {
    /// The bytes of all its segments.
    pub fn length(&self) -> usize {
        self.buffers.iter().map(Vec::len).sum()
    }
}

/// A request a driver could not start, handed back unstarted.
#[derive(Debug)]
pub struct Refused {
    /// Why.
    pub error: BlockError,
    /// The request, its `Done` not called.
    pub request: Request,
}

impl Refused {
    /// Completes the refused request with its error now, giving the
    /// submitter its segments back.
    pub fn fail(self, context: &Context<'_>) {
        let Request {
            buffers,
            completion,
            ..
        } = self.request;
        completion.complete(context, buffers, Err(self.error));
    }
}

/// A disk driver, as the block layer sees it.
pub trait BlockDriver: Send + Sync {
    /// The disk's shape. Never blocks.
    fn geometry(&self) -> Geometry;

    /// Requests the driver takes at once (at least 1); the block layer
    /// queues the rest and submits them as completions free room.
    fn queue_depth(&self) -> usize;

    /// Segments one request may have (at least 1): a request with more
    /// reaches the driver joined into one buffer. Never blocks.
    fn max_segments(&self) -> usize {
        1
    }

    /// Starts `request` (checked by the block layer: in range, whole
    /// sectors, not a write on a read-only disk).
    ///
    /// # Errors
    /// [`Refused`] when the device cannot take it (full, broken).
    fn submit(&self, context: &Context<'_>, request: Request) -> Result<(), Refused>;
}
