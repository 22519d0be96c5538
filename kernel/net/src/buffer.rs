//! Packet buffers: pool blocks with headroom, so headers are prepended in
//! place.
//!
//! A [`PacketBuffer`] is one contiguous block from the faction's packet
//! pool ([`PacketPool`], 2 KiB blocks counted against the kernel's memory
//! limit in the `packet_pool` account), or for a packet that outgrows a
//! block a large block (account `packet_large`, up to [`LARGE_DATA`]: what
//! segmentation offload sends and a device's coalesced receive gives),
//! or whole pages beyond that (account `packet_pages`: a reassembled
//! datagram, a large UDP send). Pool blocks are reused as they are; pages
//! are zeroed each time, which for 64 KiB frames cost as much as a copy. Its bytes are `data()`: a window
//! `start..end` into the block. Input strips headers by moving `start`
//! forward; output writes the payload first and then `prepend`s each
//! header below it, into the headroom every fresh buffer has. Nothing on
//! the data path allocates beyond taking a block from the pool.

use alloc::sync::Arc;

use base::hypercall::PAGE_SIZE;
use base::memory::{Account, Memory, MemoryError, Pages, Pool, PoolBlock};

use crate::offload::PacketOffload;

/// Bytes per pool block.
pub const BLOCK_SIZE: usize = 2048;
/// Free bytes before the data of a fresh buffer: room for Ethernet, IPv4
/// and TCP headers with options.
pub const HEADROOM: usize = 128;
/// The most data a pool buffer holds after its headroom.
pub const MAX_DATA: usize = BLOCK_SIZE - HEADROOM;
/// Bytes per large block: 18 pages, one block per chunk.
const LARGE_BLOCK_SIZE: usize = 18 * PAGE_SIZE;
/// The most data a large block holds after its headroom: a 64 KiB
/// segment with its headers, or a coalesced frame spread over receive
/// buffers, with room to spare.
pub const LARGE_DATA: usize = LARGE_BLOCK_SIZE - HEADROOM;
/// Free large blocks kept for reuse (1.1 MiB); more go back to memory.
const LARGE_KEPT_FREE: usize = 16;

/// Where a buffer's bytes live.
enum Storage {
    Block(PoolBlock),
    Pages(Pages),
}

impl Storage {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Block(block) => block,
            Self::Pages(pages) => pages.as_slice(),
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Self::Block(block) => block,
            Self::Pages(pages) => pages.as_mut_slice(),
        }
    }
}

/// One packet's bytes with room to grow at the front.
pub struct PacketBuffer {
    storage: Storage,
    pub(crate) start: usize,
    end: usize,
    /// What a device did or is to do for it (`offload.rs`).
    pub(crate) offload: PacketOffload,
}

/// Not enough headroom (or tailroom) for what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoom;

impl PacketBuffer {
    /// The packet's bytes.
    pub fn data(&self) -> &[u8] {
        &self.storage.bytes()[self.start..self.end]
    }

    /// The packet's bytes, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let (start, end) = (self.start, self.end);
        &mut self.storage.bytes_mut()[start..end]
    }

    /// Bytes in the packet.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the packet has no bytes.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The memory this buffer holds, whatever its data: what queues
    /// charge it against their limits.
    pub fn footprint(&self) -> usize {
        self.storage.bytes().len()
    }

    /// Free bytes before the data.
    pub fn headroom(&self) -> usize {
        self.start
    }

    /// Free bytes after the data.
    pub fn tailroom(&self) -> usize {
        self.storage.bytes().len() - self.end
    }

    /// Grows the data by `count` bytes at the front and returns them.
    ///
    /// # Errors
    /// [`NoRoom`] when the headroom is smaller.
    pub fn prepend(&mut self, count: usize) -> Result<&mut [u8], NoRoom> {
        let start = self.start.checked_sub(count).ok_or(NoRoom)?;
        self.start = start;
        Ok(&mut self.storage.bytes_mut()[start..start + count])
    }

    /// Grows the data by `count` bytes at the end and returns them.
    ///
    /// # Errors
    /// [`NoRoom`] when the tailroom is smaller.
    pub fn append(&mut self, count: usize) -> Result<&mut [u8], NoRoom> {
        if count > self.tailroom() {
            return Err(NoRoom);
        }
        let end = self.end;
        self.end += count;
        Ok(&mut self.storage.bytes_mut()[end..end + count])
    }

    /// Drops `count` bytes from the front (a header that was read).
    /// Saturates at the end of the data.
    pub fn strip_front(&mut self, count: usize) {
        self.start = self.start.saturating_add(count).min(self.end);
    }

    /// Keeps only the first `length` bytes (drops link padding).
    pub fn truncate(&mut self, length: usize) {
        self.end = self.start + length.min(self.len());
    }

    /// Sets the data to `length` bytes starting `HEADROOM` into the block,
    /// for a driver that fills a received frame, and forgets any offload
    /// marks. Returns the bytes.
    ///
    /// # Errors
    /// [`NoRoom`] when the block is smaller.
    pub fn reset(&mut self, length: usize) -> Result<&mut [u8], NoRoom> {
        let capacity = self.storage.bytes().len();
        if HEADROOM + length > capacity {
            return Err(NoRoom);
        }
        self.start = HEADROOM;
        self.end = HEADROOM + length;
        self.offload = PacketOffload::default();
        Ok(&mut self.storage.bytes_mut()[HEADROOM..HEADROOM + length])
    }
}

impl core::fmt::Debug for PacketBuffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PacketBuffer")
            .field("len", &self.len())
            .field("headroom", &self.headroom())
            .finish()
    }
}

/// The faction's source of packet buffers.
#[derive(Clone)]
pub struct PacketPool {
    pool: Arc<Pool>,
    large: Arc<Pool>,
    pages: Account,
}

impl PacketPool {
    /// A pool of 2 KiB blocks growing from `memory`.
    ///
    /// # Errors
    /// [`MemoryError`] if the pool cannot be made.
    pub fn new(memory: &Arc<Memory>) -> Result<Self, MemoryError> {
        Ok(Self {
            pool: Pool::new(memory, "packet_pool", BLOCK_SIZE)?,
            large: Pool::with_chunks_of(
                memory,
                "packet_large",
                LARGE_BLOCK_SIZE,
                1,
                Some(LARGE_KEPT_FREE),
            )?,
            pages: memory.account("packet_pages"),
        })
    }

    /// An empty buffer with [`HEADROOM`] free at the front.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] at the memory limit: the caller drops the
    /// packet and counts it.
    pub fn allocate(&self) -> Result<PacketBuffer, MemoryError> {
        let block = self.pool.alloc()?;
        Ok(PacketBuffer {
            storage: Storage::Block(block),
            start: HEADROOM,
            end: HEADROOM,
            offload: PacketOffload::default(),
        })
    }

    /// An empty buffer for up to `size` bytes of data: a block, a large
    /// block, or pages. Counted against the limit too.
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] at the memory limit.
    pub fn allocate_large(&self, size: usize) -> Result<PacketBuffer, MemoryError> {
        if size <= MAX_DATA {
            return self.allocate();
        }
        if size <= LARGE_DATA {
            return Ok(PacketBuffer {
                storage: Storage::Block(self.large.alloc()?),
                start: HEADROOM,
                end: HEADROOM,
                offload: PacketOffload::default(),
            });
        }
        let pages = (HEADROOM + size).div_ceil(PAGE_SIZE);
        Ok(PacketBuffer {
            storage: Storage::Pages(self.pages.alloc_pages(pages)?),
            start: HEADROOM,
            end: HEADROOM,
            offload: PacketOffload::default(),
        })
    }

    /// Blocks handed out now (for `/stats`).
    pub fn in_use(&self) -> usize {
        self.pool.stats().in_use
    }

    /// The memory the pool draws on (for the other parts' accounts).
    pub fn memory(&self) -> &Arc<Memory> {
        self.pages.memory()
    }
}

impl core::fmt::Debug for PacketPool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PacketPool")
            .field("in_use", &self.in_use())
            .finish()
    }
}
