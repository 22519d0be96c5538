//! The bus file's layout, and attaching, locking, writing and reading it.
//!
//! # Layout (version 1; all fields little-endian, offsets in bytes)
//!
//! ```text
//! header, 64 bytes               32-bit words (futex and lock need 32 bits)
//!    0  magic        "AKbu" (0x7562_4b41)
//!    4  version      1
//!    8  lock         0 = free, else the holder's process id
//!   12  wake         futex word: bumped after every write and every close
//!   16  slot count   SLOT_COUNT at creation; 4 ..= 2^20 accepted
//!   20  slot size    1544
//!   24  next sender  a counter handing out sender ids at attach
//!   28  waiters      receivers sleeping on `wake` (writers skip the wake
//!                    system call when 0)
//!                                64-bit words
//!   32  written      sequence number of the newest complete frame (0: none)
//!   40  reserved (24 bytes, zero)
//! slots, from 64: slot count × 1544 bytes; frame n lives in slot n % count
//!    0  sequence     n (≥ 1) when the slot holds frame n; 0 while written
//!    8  timestamp    sender's CLOCK_REALTIME in ns (pcap time)
//!   16  length | sender << 32   frame bytes (14 ..= 1514), sender id
//!   24  frame        1520 bytes, the frame then zero padding
//! ```
//!
//! Writers hold the lock (a spinlock: copying one frame takes microseconds),
//! and write a slot seqlock-style: sequence 0, a release fence, the fields,
//! then the sequence with release, then `written`. A reader checks the
//! sequence before and after copying, so a slot overwritten under it is
//! noticed, never delivered torn. Every value read is validated: another
//! process may write garbage anywhere, which costs frames, never a panic.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};
use std::time::Duration;

use hypercall::{MIN_FRAME, NicError};

use super::shared_memory::{HEADER_BYTES, SharedMapping, futex_wait, futex_wake_all};
use crate::nic::OpenFailure;

/// The first four bytes of a bus file.
const MAGIC: u32 = u32::from_le_bytes(*b"AKbu");
/// The layout described above.
const LAYOUT_VERSION: u32 = 1;
/// The longest frame a slot carries: a 1500-byte MTU plus the header.
pub const MAX_FRAME: usize = 1514;
/// Bytes before the first slot.
pub const BUS_HEADER_BYTES: u64 = 64;
/// Bytes of one slot.
pub const SLOT_BYTES: u64 = 1544;
/// Slots in a new bus file: 2048 × 1544 bytes, about 3 MiB.
pub const SLOT_COUNT: u32 = 2048;
/// The slot counts an existing file may declare.
const SLOT_COUNTS: std::ops::RangeInclusive<u32> = 4..=1 << 20;

/// Header word indices (32-bit).
const MAGIC_WORD: usize = 0;
const VERSION_WORD: usize = 1;
const LOCK_WORD: usize = 2;
const WAKE_WORD: usize = 3;
const SLOT_COUNT_WORD: usize = 4;
const SLOT_SIZE_WORD: usize = 5;
const SENDER_WORD: usize = 6;
const WAITERS_WORD: usize = 7;
/// Body word indices (64-bit, counted from byte 32).
const WRITTEN_WORD: usize = 0;
const FIRST_SLOT_WORD: usize = 4;
const SLOT_WORDS: usize = 193;
const SEQUENCE_OFFSET: usize = 0;
const TIMESTAMP_OFFSET: usize = 1;
const META_OFFSET: usize = 2;
const DATA_OFFSET: usize = 3;

/// Whether attaching may create the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attach {
    /// Create and size a missing or empty file.
    CreateIfMissing,
    /// Refuse a missing or empty file (the dump tool).
    ExistingOnly,
}

/// One frame as read from a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusFrame {
    /// The frame's bus-wide sequence number.
    pub sequence: u64,
    /// The sending NIC's bus-wide id.
    pub sender: u32,
    /// The sender's wall clock when it wrote the frame, ns since 1970.
    pub timestamp_ns: u64,
    /// The frame, destination MAC first.
    pub bytes: Vec<u8>,
}

/// The record fields of a slot that was read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotMeta {
    /// The sending NIC's bus-wide id.
    pub(crate) sender: u32,
    /// The sender's wall clock when it wrote the frame.
    pub(crate) timestamp_ns: u64,
}

/// What reading a slot for a sequence number found.
#[derive(Debug)]
pub(crate) enum SlotRead {
    /// The frame, copied whole into the caller's vector.
    Frame(SlotMeta),
    /// The slot holds another sequence number (overwritten or garbage).
    Stale,
    /// The slot claims the sequence number but its length is impossible.
    Bad,
}

/// A mapped, validated bus file.
#[derive(Debug)]
pub(crate) struct Ring {
    mapping: SharedMapping,
    slot_count: u64,
}

/// The file's length for `slot_count` slots.
fn file_length(slot_count: u32) -> u64 {
    BUS_HEADER_BYTES + u64::from(slot_count) * SLOT_BYTES
}

fn unavailable(path: &Path, what: &str) -> OpenFailure {
    OpenFailure::new(
        NicError::Unavailable,
        format!("bus {}: {what}", path.display()),
    )
}

/// A new file's header.
fn initial_header(slot_count: u32) -> [u8; HEADER_BYTES] {
    let mut words = [0u32; HEADER_BYTES / 4];
    words[MAGIC_WORD] = MAGIC;
    words[VERSION_WORD] = LAYOUT_VERSION;
    words[SLOT_COUNT_WORD] = slot_count;
    words[SLOT_SIZE_WORD] = SLOT_BYTES as u32;
    let mut bytes = [0u8; HEADER_BYTES];
    for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

/// The slot count of a valid header of a file of `length` bytes.
fn validate_header(header: &[u8; HEADER_BYTES], length: u64) -> Result<u32, &'static str> {
    let word = |index: usize| {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(&header[index * 4..index * 4 + 4]);
        u32::from_le_bytes(bytes)
    };
    if word(MAGIC_WORD) != MAGIC {
        return Err("not a bus file (bad magic)");
    }
    if word(VERSION_WORD) != LAYOUT_VERSION {
        return Err("unknown bus layout version");
    }
    let slot_count = word(SLOT_COUNT_WORD);
    if !SLOT_COUNTS.contains(&slot_count) || u64::from(word(SLOT_SIZE_WORD)) != SLOT_BYTES {
        return Err("impossible slot count or slot size in the header");
    }
    if length < file_length(slot_count) {
        return Err("file shorter than its header says");
    }
    Ok(slot_count)
}

/// Opens `path` for reading and writing, creating it if `mode` allows.
fn open_file(path: &Path, mode: Attach) -> Result<File, OpenFailure> {
    let create = mode == Attach::CreateIfMissing;
    File::options()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(path)
        .map_err(|error| unavailable(path, &format!("cannot open: {error}")))
}

/// Sizes and writes the header of an empty file.
fn initialize(file: &File) -> std::io::Result<()> {
    file.set_len(file_length(SLOT_COUNT))?;
    file.write_all_at(&initial_header(SLOT_COUNT), 0)
}

impl Ring {
    /// Opens, if needed creates, validates and maps the bus at `path`.
    /// Attachers serialise on an flock(2) of the file, so exactly one of
    /// several concurrent first attachers initialises it. (On the error
    /// paths no mapping exists, so dropping the file releases the lock.)
    pub(crate) fn attach(path: &Path, mode: Attach) -> Result<Ring, OpenFailure> {
        let file = open_file(path, mode)?;
        let io_failure = |error: std::io::Error| unavailable(path, &error.to_string());
        file.lock().map_err(io_failure)?;
        let mut length = file.metadata().map_err(io_failure)?.len();
        if length == 0 && mode == Attach::CreateIfMissing {
            initialize(&file).map_err(io_failure)?;
            length = file_length(SLOT_COUNT);
        }
        let mut header = [0u8; HEADER_BYTES];
        file.read_exact_at(&mut header, 0)
            .map_err(|_| unavailable(path, "file shorter than a bus header"))?;
        let slot_count = validate_header(&header, length).map_err(|why| unavailable(path, why))?;
        let mapped =
            usize::try_from(file_length(slot_count)).map_err(|_| unavailable(path, "too large"))?;
        let mapping = SharedMapping::map(&file, mapped).map_err(io_failure)?;
        // The mapping keeps the open file alive, so closing it would not
        // release the flock: unlock explicitly.
        file.unlock().map_err(io_failure)?;
        Ok(Ring {
            mapping,
            slot_count: u64::from(slot_count),
        })
    }

    fn header_word(&self, index: usize) -> &AtomicU32 {
        &self.mapping.header()[index]
    }

    fn body_word(&self, index: usize) -> &AtomicU64 {
        &self.mapping.body()[index]
    }

    /// The slots in the ring.
    pub(crate) fn slot_count(&self) -> u64 {
        self.slot_count
    }

    /// A fresh sender id, unique on this bus until 2^32 attaches (never 0).
    pub(crate) fn allocate_sender(&self) -> u32 {
        let previous = self
            .header_word(SENDER_WORD)
            .fetch_add(1, Ordering::Relaxed);
        previous.wrapping_add(1).max(1)
    }

    /// The sequence number of the newest complete frame.
    pub(crate) fn frames_written(&self) -> u64 {
        self.body_word(WRITTEN_WORD).load(Ordering::Acquire)
    }

    /// The value of the wake word, taken before checking for frames and
    /// passed to [`Ring::wait`], so that no wake between the two is lost.
    pub(crate) fn ticket(&self) -> u32 {
        self.header_word(WAKE_WORD).load(Ordering::SeqCst)
    }

    /// Sleeps until the wake word moves on from `ticket` (a frame was
    /// written or a NIC closed), at most `timeout`; may return spuriously.
    pub(crate) fn wait(&self, ticket: u32, timeout: Option<Duration>) {
        let waiters = self.header_word(WAITERS_WORD);
        waiters.fetch_add(1, Ordering::SeqCst);
        let wake = self.header_word(WAKE_WORD);
        if wake.load(Ordering::SeqCst) == ticket {
            futex_wait(wake, ticket, timeout);
        }
        waiters.fetch_sub(1, Ordering::SeqCst);
    }

    /// Moves the wake word on and wakes every waiter, in every process.
    pub(crate) fn wake_all(&self) {
        let wake = self.header_word(WAKE_WORD);
        wake.fetch_add(1, Ordering::SeqCst);
        if self.header_word(WAITERS_WORD).load(Ordering::SeqCst) != 0 {
            futex_wake_all(wake);
        }
    }

    /// The body word index of `sequence`'s slot.
    fn slot_start(&self, sequence: u64) -> usize {
        let index = usize::try_from(sequence % self.slot_count)
            .expect("slot counts are at most 2^20, so an index fits usize");
        FIRST_SLOT_WORD + index * SLOT_WORDS
    }

    /// Reads the slot of `sequence` into `bytes` (cleared first),
    /// validating everything; `bytes` is meaningful only for `Frame`.
    pub(crate) fn read_into(&self, sequence: u64, bytes: &mut Vec<u8>) -> SlotRead {
        bytes.clear();
        let start = self.slot_start(sequence);
        let body = self.mapping.body();
        let sequence_word = &body[start + SEQUENCE_OFFSET];
        if sequence == 0 || sequence_word.load(Ordering::Acquire) != sequence {
            return SlotRead::Stale;
        }
        let timestamp_ns = body[start + TIMESTAMP_OFFSET].load(Ordering::Relaxed);
        let meta = body[start + META_OFFSET].load(Ordering::Relaxed);
        let (length, sender) = ((meta & 0xffff_ffff) as usize, (meta >> 32) as u32);
        let plausible = (MIN_FRAME..=MAX_FRAME).contains(&length);
        if plausible {
            copy_out(
                &body[start + DATA_OFFSET..start + SLOT_WORDS],
                length,
                bytes,
            );
        }
        fence(Ordering::Acquire);
        if sequence_word.load(Ordering::Relaxed) != sequence {
            return SlotRead::Stale;
        }
        if !plausible {
            return SlotRead::Bad;
        }
        SlotRead::Frame(SlotMeta {
            sender,
            timestamp_ns,
        })
    }
}

/// Appends the first `length` bytes held by `words` (at most their size)
/// to `bytes`.
fn copy_out(words: &[AtomicU64], length: usize, bytes: &mut Vec<u8>) {
    let start = bytes.len();
    bytes.reserve(length);
    for word in words.iter().take(length.div_ceil(8)) {
        let chunk = word.load(Ordering::Relaxed).to_le_bytes();
        let wanted = (length - (bytes.len() - start)).min(8);
        bytes.extend_from_slice(&chunk[..wanted]);
    }
}

mod writer;

#[cfg(test)]
mod tests;
