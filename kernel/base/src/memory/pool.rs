//! Fixed-size block pools carved from kernel pages (NetBSD's pool(9)).
//!
//! A pool grows one chunk of pages at a time when its free list is empty,
//! so every block counts against the kernel's memory limit and running out
//! is an `Err`, not a crash. Its chunks and its free list are charged to
//! the account named after the pool. [`Pool::reclaim`] gives wholly free
//! chunks back (what the rump papers' pagedaemon asks allocators to do);
//! every pool is registered with its memory so the pagedaemon finds it.
//!
//! Blocks are returned from whatever thread drops them, inside the kernel
//! or not, so the free list sits behind a spin lock rather than the
//! virtual CPU; it is never held across anything that can block.

#![allow(
    unsafe_code,
    reason = "blocks are slices of pages the pool owns (contract: hypercall::Memory)"
)]

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use hypercall::{MemoryError, PAGE_SIZE};
use spin::Mutex;

use super::{Account, Memory, Pages};

/// Blocks per chunk that a pool aims for when sizing its chunks.
const BLOCKS_PER_CHUNK_TARGET: usize = 16;

/// A pool of equally sized blocks.
pub struct Pool {
    name: String,
    account: Account,
    block_size: usize,
    pages_per_chunk: usize,
    /// With one block per chunk: the free blocks kept; a block freed
    /// beyond them gives its chunk back at once. `None` keeps every chunk
    /// until [`Pool::reclaim`].
    keep_free: Option<usize>,
    state: Mutex<PoolState>,
}

struct PoolState {
    free: Vec<NonNull<u8>>,
    chunks: Vec<Pages>,
    in_use: usize,
    /// Bytes of the free list charged to the pool's account.
    list_charged: usize,
}

/// Bytes per free-list entry.
const FREE_ENTRY: usize = core::mem::size_of::<NonNull<u8>>();

// SAFETY: the pointers in `free` point into `chunks`, which the state owns;
// the state moves between threads only behind the pool's lock.
unsafe impl Send for PoolState {}

/// A snapshot of a pool's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Bytes per block.
    pub block_size: usize,
    /// Blocks handed out now.
    pub in_use: usize,
    /// Blocks ready on the free list.
    pub free: usize,
    /// Chunks of pages owned.
    pub chunks: usize,
}

impl Pool {
    /// A pool of `block_size`-byte blocks (rounded up to 16), growing from
    /// `memory`.
    ///
    /// # Errors
    /// [`MemoryError::InvalidRequest`] for a zero or absurd block size.
    pub fn new(
        memory: &Arc<Memory>,
        name: &str,
        block_size: usize,
    ) -> Result<Arc<Self>, MemoryError> {
        Self::with_chunks_of(memory, name, block_size, BLOCKS_PER_CHUNK_TARGET, None)
    }

    /// A pool whose chunks hold about `blocks` blocks each (at least one).
    /// With one (large blocks), the pool grows a block at a time and, with
    /// `keep_free`, keeps at most that many free blocks: a busy moment
    /// leaves no megabytes behind.
    ///
    /// # Errors
    /// [`MemoryError::InvalidRequest`] for a zero or absurd block size.
    pub fn with_chunks_of(
        memory: &Arc<Memory>,
        name: &str,
        block_size: usize,
        blocks: usize,
        keep_free: Option<usize>,
    ) -> Result<Arc<Self>, MemoryError> {
        let block_size = block_size
            .checked_next_multiple_of(16)
            .filter(|&size| size > 0 && size <= 64 * PAGE_SIZE)
            .ok_or(MemoryError::InvalidRequest)?;
        let pages_per_chunk = (block_size * blocks.max(1)).div_ceil(PAGE_SIZE);
        let pool = Arc::new(Self {
            name: String::from(name),
            account: memory.account(name),
            block_size,
            pages_per_chunk,
            keep_free,
            state: Mutex::new(PoolState {
                free: Vec::new(),
                chunks: Vec::new(),
                in_use: 0,
                list_charged: 0,
            }),
        });
        memory.pressure.add_pool(Arc::downgrade(&pool));
        Ok(pool)
    }

    /// Takes a block (its bytes are whatever the last user left).
    ///
    /// # Errors
    /// [`MemoryError::Exhausted`] when the pool is empty and cannot grow.
    pub fn alloc(self: &Arc<Self>) -> Result<PoolBlock, MemoryError> {
        let mut state = self.state.lock();
        if state.free.is_empty() {
            self.grow(&mut state)?;
        }
        let start = state.free.pop().expect("grow added free blocks");
        state.in_use += 1;
        Ok(PoolBlock {
            pool: self.clone(),
            start,
        })
    }

    fn blocks_per_chunk(&self) -> usize {
        self.pages_per_chunk * PAGE_SIZE / self.block_size
    }

    /// Adds a chunk's blocks to the (empty) free list. The free list gets
    /// room for every block of every chunk, so `give_back` never allocates.
    fn grow(&self, state: &mut PoolState) -> Result<(), MemoryError> {
        let blocks = self.blocks_per_chunk();
        let all_blocks = (state.chunks.len() + 1) * blocks;
        self.reserve_free_list(state, all_blocks)?;
        state
            .chunks
            .try_reserve(1)
            .map_err(|_| MemoryError::Exhausted)?;
        let chunk = self.account.alloc_pages(self.pages_per_chunk)?;
        let base = chunk.as_ptr();
        for index in (0..blocks).rev() {
            // SAFETY: `index * block_size` stays inside the chunk, whose
            // length is at least `blocks * block_size`.
            state
                .free
                .push(unsafe { base.add(index * self.block_size) });
        }
        state.chunks.push(chunk);
        Ok(())
    }

    /// Gives the free list room for `blocks`, charging the growth.
    fn reserve_free_list(&self, state: &mut PoolState, blocks: usize) -> Result<(), MemoryError> {
        let before = state.free.capacity();
        if blocks <= before {
            return Ok(());
        }
        let bytes = (blocks - before) * FREE_ENTRY;
        self.account.charge(bytes)?;
        if state
            .free
            .try_reserve_exact(blocks - state.free.len())
            .is_err()
        {
            self.account.release(bytes);
            return Err(MemoryError::Exhausted);
        }
        state.list_charged += bytes;
        Ok(())
    }

    /// Shrinks the free list to the blocks of the chunks left.
    fn shrink_free_list(&self, state: &mut PoolState) {
        let target = state.chunks.len() * self.blocks_per_chunk();
        state.free.shrink_to(target);
        let kept = (state.free.capacity() * FREE_ENTRY).min(state.list_charged);
        self.account.release(state.list_charged - kept);
        state.list_charged = kept;
    }

    /// Returns chunks none of whose blocks is in use; gives the number of
    /// pages released.
    pub fn reclaim(&self) -> usize {
        let mut state = self.state.lock();
        let per_chunk = self.blocks_per_chunk();
        let chunk_bytes = self.pages_per_chunk * PAGE_SIZE;
        let mut released = 0;
        let mut index = 0;
        while index < state.chunks.len() {
            let base = state.chunks[index].as_ptr().as_ptr() as usize;
            let inside = |block: &NonNull<u8>| {
                (base..base + chunk_bytes).contains(&(block.as_ptr() as usize))
            };
            if state.free.iter().filter(|b| inside(b)).count() == per_chunk {
                state.free.retain(|b| !inside(b));
                state.chunks.swap_remove(index);
                released += self.pages_per_chunk;
            } else {
                index += 1;
            }
        }
        if released > 0 {
            self.shrink_free_list(&mut state);
        }
        released
    }

    /// The pool's current use.
    pub fn stats(&self) -> PoolStats {
        let state = self.state.lock();
        PoolStats {
            block_size: self.block_size,
            in_use: state.in_use,
            free: state.free.len(),
            chunks: state.chunks.len(),
        }
    }

    fn give_back(&self, block: NonNull<u8>) {
        let mut state = self.state.lock();
        state.in_use -= 1;
        let surplus = self
            .keep_free
            .is_some_and(|keep| self.blocks_per_chunk() == 1 && state.free.len() >= keep);
        let chunk = surplus
            .then(|| {
                state
                    .chunks
                    .iter()
                    .position(|chunk| chunk.as_ptr() == block)
            })
            .flatten();
        match chunk {
            Some(index) => {
                let pages = state.chunks.swap_remove(index);
                drop(state);
                // Its pages go back outside the lock.
                drop(pages);
            }
            // Capacity for every block of every chunk was reserved in
            // `grow`, so this push never allocates.
            None => state.free.push(block),
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // The chunks release their own charge as they drop.
        self.account.release(self.state.get_mut().list_charged);
    }
}

impl core::fmt::Debug for Pool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.name)
            .field("stats", &self.stats())
            .finish()
    }
}

/// A block from a [`Pool`]; returned to it on drop.
pub struct PoolBlock {
    pool: Arc<Pool>,
    start: NonNull<u8>,
}

// SAFETY: a block is exclusively owned memory, like a `Box<[u8]>`.
unsafe impl Send for PoolBlock {}
// SAFETY: shared references only allow reads.
unsafe impl Sync for PoolBlock {}

impl Deref for PoolBlock {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: the block is `block_size` initialised bytes (its chunk was
        // zeroed when allocated) that only this `PoolBlock` refers to.
        unsafe { core::slice::from_raw_parts(self.start.as_ptr(), self.pool.block_size) }
    }
}

impl DerefMut for PoolBlock {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and `&mut self` makes the access unique.
        unsafe { core::slice::from_raw_parts_mut(self.start.as_ptr(), self.pool.block_size) }
    }
}

impl Drop for PoolBlock {
    fn drop(&mut self) {
        self.pool.give_back(self.start);
    }
}

impl core::fmt::Debug for PoolBlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PoolBlock")
            .field("pool", &self.pool.name)
            .field("start", &self.start)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypercall_posix::{Posix, PosixConfig};

    #[test]
    fn the_free_list_has_room_for_every_block_of_every_chunk() {
        let host = Posix::new(PosixConfig::default());
        let memory = Arc::new(Memory::new(host, 1 << 20));
        let pool = Pool::new(&memory, "test", 512).unwrap();
        let per_chunk = pool.blocks_per_chunk();
        let blocks: Vec<_> = (0..3 * per_chunk).map(|_| pool.alloc().unwrap()).collect();
        assert_eq!(pool.stats().chunks, 3);
        let capacity = pool.state.lock().free.capacity();
        assert!(capacity >= 3 * per_chunk, "{capacity} < {}", 3 * per_chunk);
        drop(blocks);
        assert_eq!(pool.stats().free, 3 * per_chunk);
    }
}
