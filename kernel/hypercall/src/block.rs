//! Block device hypercalls: asynchronous I/O on a host's disks.
//!
//! The rump papers' `rumpuser_open` / `rumpuser_bio`: a host offers named
//! block devices (a hosted kernel's disk image files), the kernel opens
//! them by name and moves blocks with asynchronous requests, several in
//! flight at once. Bare metal offers none here: its disks are devices on
//! a bus, driven by the kernel's own virtio-blk component.
//!
//! # Requests and completions
//!
//! A [`BlockRequest`] owns its buffers: the kernel hands them over with
//! [`BlockDevice::submit`] and gets them back, inside a
//! [`BlockCompletion`], from [`BlockDevice::take_completion`]. Nobody else
//! touches them meanwhile, so no unsafe contract is needed. The bytes of
//! a read or write come in one or more segments (since 3.0), up to
//! [`BlockDevice::max_segments`]: the host moves them as if they were
//! one buffer (`preadv`), so a kernel reading a run of blocks into the
//! buffers it keeps them in copies nothing. The kernel's completion
//! thread sleeps in [`BlockDevice::wait`] (with its virtual CPU released)
//! until a completion is ready, then drains them; the host never calls
//! into the kernel, and a completion is never delivered from inside the
//! call that submitted its request.
//!
//! # Ordering
//!
//! Requests in flight complete in any order. A [`BlockOperation::Flush`]
//! makes durable every write that *completed* before the flush was
//! submitted; writes still in flight when it is submitted are not covered.
//! A kernel that wants "these writes, then durable" waits for the writes'
//! completions and submits the flush after them.
//!
//! Reached through [`crate::Hypercalls::block_devices`] (since 2.3);
//! hosts without block devices return `None` there.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why a block call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// No block device has this name.
    NoDevice,
    /// The device could not be opened (missing file, no permission); the
    /// host logged the reason.
    Unavailable,
    /// The request is malformed: an offset or segment length that is not
    /// a multiple of the block size, an empty segment, a read or write
    /// without segments or with more than [`BlockDevice::max_segments`],
    /// a segment on a flush, or a range past the end of the device.
    Invalid,
    /// A write or flush on a device opened read-only.
    ReadOnly,
    /// The device has [`BlockDevice::queue_depth`] requests in flight; the
    /// request was not started. Submit again after a completion.
    Busy,
    /// [`BlockDevice::close`] was called.
    Closed,
    /// The host's I/O failed (the host's EIO).
    Io,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoDevice => "no block device with this name",
            Self::Unavailable => "the block device could not be opened",
            Self::Invalid => "malformed block request",
            Self::ReadOnly => "the block device is read-only",
            Self::Busy => "the block device's queue is full",
            Self::Closed => "the block device is closed",
            Self::Io => "the block device failed the request",
        })
    }
}

impl core::error::Error for BlockError {}

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockOperation {
    /// Fills the segments from the device, in order, from `offset`.
    Read,
    /// Writes the segments to the device, in order, from `offset`.
    Write,
    /// Makes earlier completed writes durable (see the module docs);
    /// `offset` is 0 and there are no segments.
    Flush,
}

/// One request, owning its buffers until it completes.
#[derive(Debug, PartialEq, Eq)]
pub struct BlockRequest {
    /// The kernel's name for the request, returned in its completion.
    pub tag: u64,
    /// What to do.
    pub operation: BlockOperation,
    /// Byte offset on the device, a multiple of the block size.
    pub offset: u64,
    /// Read: the segments to fill, in order; write: the segments to
    /// write, in order (at least one, at most
    /// [`BlockDevice::max_segments`], each a nonzero multiple of the
    /// block size; the transfer is their sum). Flush: none.
    pub buffers: Vec<Vec<u8>>,
}

impl BlockRequest {
    /// The bytes of all its segments.
    pub fn length(&self) -> usize {
        self.buffers.iter().map(Vec::len).sum()
    }
}

/// A finished request: its tag, its buffers back, and how it went.
#[derive(Debug, PartialEq, Eq)]
pub struct BlockCompletion {
    /// The request's tag.
    pub tag: u64,
    /// The request's segments, as many and as long as submitted: filled
    /// for a successful read, unchanged for a write, unspecified after a
    /// failed read.
    pub buffers: Vec<Vec<u8>>,
    /// `Err(BlockError::Io)` when the host's I/O failed,
    /// `Err(BlockError::Closed)` for requests cut short by a close.
    pub result: Result<(), BlockError>,
}

/// The shape of a device, fixed while it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockGeometry {
    /// Bytes in the device, a multiple of `block_size`.
    pub size: u64,
    /// The smallest unit of transfer in bytes: a power of two, at least 512.
    pub block_size: u32,
    /// Writes and flushes are refused with [`BlockError::ReadOnly`].
    pub read_only: bool,
}

/// One open block device. Dropping it closes it.
///
/// Any thread may submit; one thread at a time waits and takes
/// completions (the kernel's completion thread for the device).
pub trait BlockDevice: Send + Sync {
    /// The device's size and block size. Never blocks.
    fn geometry(&self) -> BlockGeometry;

    /// How many requests may be in flight at once (at least 1). Never
    /// blocks.
    fn queue_depth(&self) -> usize;

    /// How many segments one request may have (at least 1). Never
    /// blocks.
    fn max_segments(&self) -> usize;

    /// Starts `request`. Never blocks, and never completes the request
    /// before returning: its completion comes from
    /// [`BlockDevice::take_completion`].
    ///
    /// # Errors
    /// The request comes back, unstarted, with [`BlockError::Invalid`],
    /// [`BlockError::ReadOnly`], [`BlockError::Busy`] or
    /// [`BlockError::Closed`].
    fn submit(&self, request: BlockRequest) -> Result<(), (BlockError, BlockRequest)>;

    /// Sleeps until a completion is ready to take. *May block.* Returns at
    /// once when one is ready already.
    ///
    /// # Errors
    /// [`BlockError::Closed`] once [`BlockDevice::close`] was called and
    /// every completion has been taken, at once and for every later call.
    fn wait(&self) -> Result<(), BlockError>;

    /// The next finished request, if any. Never blocks.
    fn take_completion(&self) -> Option<BlockCompletion>;

    /// Refuses new requests with [`BlockError::Closed`]; requests in flight
    /// still complete (with their own result) and can be taken, and then
    /// [`BlockDevice::wait`] says closed, so the completion thread can end.
    /// Never blocks; callable from any thread.
    fn close(&self);
}

/// The block devices a host offers.
pub trait BlockDevices: Send + Sync {
    /// The names of the devices, in the order the host was told of them
    /// (the kernel attaches them in this order). Never blocks.
    fn block_names(&self) -> Vec<String>;

    /// Opens the device `name`. Never blocks for long: opening is a few
    /// host system calls.
    ///
    /// # Errors
    /// [`BlockError::NoDevice`] for a name not in
    /// [`BlockDevices::block_names`], [`BlockError::Unavailable`] when the
    /// host cannot open it.
    fn block_open(&self, name: &str) -> Result<Box<dyn BlockDevice>, BlockError>;
}
