//! Taking received buffers apart: header, merged buffers, checksums.
//!
//! The virtio-net header, merged buffers, and what the device says about
//! checksums.
//!
//! A frame that fits one buffer (every frame without merged buffers) is
//! handed on in that buffer, header stripped: no copy. With merged
//! buffers (`MRG_RXBUF`), the first buffer's header says how many buffers
//! the frame spans (`num_buffers`); such a frame (a coalesced TCP segment
//! of up to 64 KiB) is copied into one buffer of pages as its parts
//! arrive, and the parts go straight back on the ring.
//!
//! The device is untrusted. A completion shorter than the header, one
//! claiming more bytes than the buffer holds, a `num_buffers` of 0 or
//! more than a 64 KiB frame needs, a partial checksum outside its frame
//! and segmentation without a size are each dropped and counted
//! ([`ReceiveCounters`]); the buffers of a merged frame refused later (or
//! without memory for it) are consumed and dropped with it, so the stream
//! of buffers stays in step.

use net::{PacketBuffer, PacketPool};

use crate::rings::RECEIVE_LENGTH;
use net::virtio_header::Header;

/// The most buffers one frame may span: a 64 KiB segment and headers.
const MAXIMUM_BUFFERS: usize = (65_535usize + 14 + 12).div_ceil(RECEIVE_LENGTH) + 1;

/// What was dropped on the way in, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveCounters {
    /// Frames with a header that made no sense (see the module docs).
    pub malformed: u64,
    /// Completions too short to hold the header.
    pub runts: u64,
    /// Frames dropped for want of a buffer.
    pub no_memory: u64,
    /// Frames the device vouched for (checksum not verified by us).
    pub vouched: u64,
    /// Frames that spanned several buffers.
    pub merged: u64,
}

/// A merged frame whose buffers are still arriving.
struct Merging {
    /// `None`: being dropped (malformed, or no memory).
    frame: Option<PacketBuffer>,
    header: Header,
    remaining: usize,
}

/// What one completed buffer gave.
#[derive(Debug, Default)]
pub(crate) struct Taken {
    /// A whole frame for the stack.
    pub(crate) frame: Option<PacketBuffer>,
    /// A buffer free to go back on the ring (else the caller posts a fresh
    /// one in place of the one that became `frame`).
    pub(crate) spare: Option<PacketBuffer>,
}

/// The receive side's state between completions.
pub(crate) struct Receiver {
    header_length: usize,
    mergeable: bool,
    merging: Option<Merging>,
    pub(crate) counters: ReceiveCounters,
}

impl Receiver {
    /// A receiver for headers of `header_length` bytes.
    pub(crate) fn new(header_length: usize, mergeable: bool) -> Self {
        Self {
            header_length,
            mergeable,
            merging: None,
            counters: ReceiveCounters::default(),
        }
    }

    /// One completed `buffer` (its lent window) of which the device says
    /// it wrote `written` bytes.
    pub(crate) fn take(
        &mut self,
        buffer: PacketBuffer,
        written: usize,
        pool: &PacketPool,
    ) -> Taken {
        if written > buffer.len() {
            self.counters.malformed += 1;
            if let Some(merging) = self.merging.as_mut() {
                merging.frame = None;
            }
            return self.continue_or_recycle(buffer, 0);
        }
        if self.merging.is_some() {
            return self.continue_or_recycle(buffer, written);
        }
        self.first(buffer, written, pool)
    }

    /// A frame's first buffer.
    fn first(&mut self, mut buffer: PacketBuffer, written: usize, pool: &PacketPool) -> Taken {
        if written < self.header_length {
            self.counters.runts += 1;
            return recycle(buffer);
        }
        let header = Header::read(&buffer.data()[..self.header_length]);
        let buffers = if self.mergeable {
            usize::from(header.buffers)
        } else {
            1
        };
        if buffers == 0 || buffers > MAXIMUM_BUFFERS {
            // A count no frame can have: nothing after it can be trusted
            // to belong to it, so only this buffer goes.
            self.counters.malformed += 1;
            return recycle(buffer);
        }
        buffer.strip_front(self.header_length);
        buffer.truncate(written - self.header_length);
        if buffers == 1 {
            return Taken {
                frame: self.finish(header, buffer),
                spare: None,
            };
        }
        self.counters.merged += 1;
        let frame = self.start_merge(&buffer, buffers, pool);
        self.merging = Some(Merging {
            frame,
            header,
            remaining: buffers - 1,
        });
        recycle(buffer)
    }

    /// A buffer of pages for a frame of `buffers` buffers, the first
    /// one's bytes copied in.
    fn start_merge(
        &mut self,
        first: &PacketBuffer,
        buffers: usize,
        pool: &PacketPool,
    ) -> Option<PacketBuffer> {
        let Ok(mut frame) = pool.allocate_large(buffers * RECEIVE_LENGTH) else {
            self.counters.no_memory += 1;
            return None;
        };
        let room = frame.append(first.len()).ok()?;
        room.copy_from_slice(first.data());
        Some(frame)
    }

    /// A later buffer of a merged frame (`written` bytes of data, no
    /// header), or a stray one when none is being merged.
    fn continue_or_recycle(&mut self, buffer: PacketBuffer, written: usize) -> Taken {
        let Some(mut merging) = self.merging.take() else {
            return recycle(buffer);
        };
        if let Some(frame) = merging.frame.as_mut() {
            match frame.append(written) {
                Ok(room) => room.copy_from_slice(&buffer.data()[..written]),
                Err(_) => {
                    self.counters.malformed += 1;
                    merging.frame = None;
                }
            }
        }
        merging.remaining -= 1;
        if merging.remaining > 0 {
            self.merging = Some(merging);
            return recycle(buffer);
        }
        let frame = merging
            .frame
            .and_then(|frame| self.finish(merging.header, frame));
        Taken {
            frame,
            spare: Some(buffer),
        }
    }

    /// Checks a whole frame's header and marks what the device vouched
    /// for; `None` (counted) when the header is refused.
    fn finish(&mut self, header: Header, mut frame: PacketBuffer) -> Option<PacketBuffer> {
        if header.apply_received(&mut frame).is_err() {
            self.counters.malformed += 1;
            return None;
        }
        self.counters.vouched += u64::from(frame.checksum_valid());
        Some(frame)
    }
}

fn recycle(buffer: PacketBuffer) -> Taken {
    Taken {
        frame: None,
        spare: Some(buffer),
    }
}
