//! Writing the bus: the cross-process spinlock and the seqlock slot write.
//!
//! The lock word holds the holder's process id. A writer spins briefly,
//! then yields; after [`LOCK_PATIENCE`] it steals the lock from a holder
//! that no longer exists (a crashed process would otherwise halt the bus,
//! as it does shmif's) and otherwise gives up with `Busy`, since `send`
//! must not block. The slot write protocol is in `ring.rs`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

use hypercall::{MIN_FRAME, NicError};

use super::{
    DATA_OFFSET, LOCK_WORD, MAX_FRAME, META_OFFSET, Ring, SEQUENCE_OFFSET, SLOT_WORDS,
    TIMESTAMP_OFFSET, WRITTEN_WORD,
};

/// How long `lock` spins before it checks whether the holder still lives.
const LOCK_PATIENCE: Duration = Duration::from_millis(20);

impl Ring {
    /// Takes the bus lock, spinning; steals it from a holder process that
    /// no longer exists.
    ///
    /// # Errors
    /// [`NicError::Busy`] if a live holder keeps it past [`LOCK_PATIENCE`].
    pub(crate) fn lock(&self) -> Result<RingLock<'_>, NicError> {
        let word = self.header_word(LOCK_WORD);
        let me = std::process::id().max(1);
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            let Err(holder) = word.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            else {
                return Ok(RingLock { ring: self });
            };
            attempt = attempt.wrapping_add(1);
            if attempt < 64 {
                std::hint::spin_loop();
                continue;
            }
            std::thread::yield_now();
            if attempt.is_multiple_of(64) && start.elapsed() > LOCK_PATIENCE {
                if !process_exists(holder) && self.steal(holder, me) {
                    return Ok(RingLock { ring: self });
                }
                return Err(NicError::Busy);
            }
        }
    }

    fn steal(&self, holder: u32, me: u32) -> bool {
        let word = self.header_word(LOCK_WORD);
        word.compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }
}

/// Whether a process with this id exists (a guess across pid namespaces;
/// it only decides whether a lock held for long is stolen).
fn process_exists(process: u32) -> bool {
    process != 0 && Path::new(&format!("/proc/{process}")).exists()
}

/// The held bus lock; dropping it unlocks.
#[derive(Debug)]
pub(crate) struct RingLock<'ring> {
    ring: &'ring Ring,
}

impl RingLock<'_> {
    /// Writes `frame` (of a length already checked) as the next frame and
    /// returns its sequence number.
    ///
    /// # Errors
    /// [`NicError::Io`] if the bus counter is exhausted (only a file
    /// scribbled on can get there).
    pub(crate) fn append(
        &self,
        sender: u32,
        timestamp_ns: u64,
        frame: &[u8],
    ) -> Result<u64, NicError> {
        debug_assert!((MIN_FRAME..=MAX_FRAME).contains(&frame.len()));
        let ring = self.ring;
        let written = ring.body_word(WRITTEN_WORD);
        let sequence = written
            .load(Ordering::Relaxed)
            .checked_add(1)
            .ok_or(NicError::Io)?;
        let start = ring.slot_start(sequence);
        let slot = &ring.mapping.body()[start..start + SLOT_WORDS];
        slot[SEQUENCE_OFFSET].store(0, Ordering::Relaxed);
        fence(Ordering::Release);
        slot[TIMESTAMP_OFFSET].store(timestamp_ns, Ordering::Relaxed);
        let meta = frame.len() as u64 | u64::from(sender) << 32;
        slot[META_OFFSET].store(meta, Ordering::Relaxed);
        copy_in(&slot[DATA_OFFSET..], frame);
        slot[SEQUENCE_OFFSET].store(sequence, Ordering::Release);
        written.store(sequence, Ordering::Release);
        Ok(sequence)
    }
}

/// Stores `frame` into `words`, zero-padding the last word.
fn copy_in(words: &[AtomicU64], frame: &[u8]) {
    for (word, chunk) in words.iter().zip(frame.chunks(8)) {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
    }
}

impl Drop for RingLock<'_> {
    fn drop(&mut self) {
        self.ring.header_word(LOCK_WORD).store(0, Ordering::Release);
    }
}
