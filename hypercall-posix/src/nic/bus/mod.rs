//! The shared-memory Ethernet bus, after NetBSD's shmif(4).
//!
//! A regular file is the bus: every NIC attached to the same path, in any
//! number of processes and without privileges, maps it shared and sees the
//! frames the others send. The file is a header and a ring of frame slots;
//! `ring.rs` documents the layout byte by byte. Writers overwrite the
//! oldest slot and never wait for readers; each reader keeps its own
//! position (`cursor.rs`) and notices when it was overtaken. Receivers
//! sleep on a shared futex that every send and every close bumps.
//!
//! The bus protects against torn reads and garbage, not against a hostile
//! process (one could truncate the file, or hold the lock forever: then
//! sends return `Busy`). All unsafe code is in `shared_memory.rs`.

mod cursor;
mod ring;
mod shared_memory;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use hypercall::{MIN_FRAME, NicError, VirtualNic};

use self::cursor::RingCursor;
use self::ring::{Attach, Ring};
use super::OpenFailure;
use super::receive::{NicStatistics, ReceiveQueue};
use super::spec::FaultSpec;
use crate::sync::lock;

pub use self::ring::{BUS_HEADER_BYTES, BusFrame, MAX_FRAME, SLOT_BYTES, SLOT_COUNT};

/// The sender's wall clock in ns since 1970 (0 before it).
fn timestamp_ns() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

/// A receiver's position and queue, behind one lock.
#[derive(Debug)]
struct Receiver {
    cursor: RingCursor,
    queue: ReceiveQueue,
}

/// One NIC attached to a bus file.
#[derive(Debug)]
pub struct BusNic {
    ring: Ring,
    sender: u32,
    mac: [u8; 6],
    closed: AtomicBool,
    receiver: Mutex<Receiver>,
}

impl BusNic {
    /// Attaches a NIC with address `mac` to the bus at `path`, creating the
    /// file if it is missing. It receives frames sent from now on, passed
    /// through the faults of `faults` drawn from `seed`.
    ///
    /// # Errors
    /// [`NicError::Unavailable`] with the reason if the file cannot be
    /// opened or created, or is not a bus file of this layout.
    pub fn open(
        path: &Path,
        mac: [u8; 6],
        faults: FaultSpec,
        seed: u64,
    ) -> Result<BusNic, OpenFailure> {
        let ring = Ring::attach(path, Attach::CreateIfMissing)?;
        let receiver = Receiver {
            cursor: RingCursor::at_end(&ring),
            queue: ReceiveQueue::new(faults, seed),
        };
        Ok(BusNic {
            sender: ring.allocate_sender(),
            ring,
            mac,
            closed: AtomicBool::new(false),
            receiver: Mutex::new(receiver),
        })
    }

    /// This NIC's sender id on the bus (the dump tool shows it).
    pub fn sender_id(&self) -> u32 {
        self.sender
    }

    /// What this NIC delivered, missed and dropped so far.
    pub fn statistics(&self) -> NicStatistics {
        let receiver = lock(&self.receiver);
        NicStatistics {
            lapped: receiver.cursor.lapped,
            bad_records: receiver.cursor.bad,
            ..receiver.queue.statistics()
        }
    }

    fn check_open(&self) -> Result<(), NicError> {
        match self.closed.load(Ordering::SeqCst) {
            true => Err(NicError::Closed),
            false => Ok(()),
        }
    }

    /// How long a blocking receive may sleep: until a held frame is due.
    fn sleep_limit(&self) -> Option<Duration> {
        let deadline = lock(&self.receiver).queue.deadline()?;
        Some(deadline.saturating_duration_since(Instant::now()))
    }
}

impl VirtualNic for BusNic {
    fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    fn max_frame(&self) -> usize {
        MAX_FRAME
    }

    fn send(&self, frame: &[u8]) -> Result<(), NicError> {
        self.check_open()?;
        if !(MIN_FRAME..=MAX_FRAME).contains(&frame.len()) {
            return Err(NicError::BadLength);
        }
        let guard = self.ring.lock()?;
        let appended = guard.append(self.sender, timestamp_ns(), frame);
        drop(guard);
        self.ring.wake_all();
        appended.map(drop)
    }

    fn receive(&self, buffer: &mut [u8]) -> Result<usize, NicError> {
        loop {
            let ticket = self.ring.ticket();
            if let Some(length) = self.try_receive(buffer)? {
                return Ok(length);
            }
            self.ring.wait(ticket, self.sleep_limit());
        }
    }

    fn try_receive(&self, buffer: &mut [u8]) -> Result<Option<usize>, NicError> {
        self.check_open()?;
        let mut receiver = lock(&self.receiver);
        let Receiver { cursor, queue } = &mut *receiver;
        let (ring, me) = (&self.ring, self.sender);
        queue.next(buffer, |vessel| {
            while let Some(sender) = cursor.next_frame_into(ring, vessel) {
                if sender != me {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.ring.wake_all();
    }
}

/// A reader of a bus that is not a NIC: the dump tool's view.
#[derive(Debug)]
pub struct BusReader {
    ring: Ring,
    cursor: RingCursor,
}

impl BusReader {
    /// Opens an existing bus file positioned at its oldest frame.
    ///
    /// # Errors
    /// [`NicError::Unavailable`] with the reason if the file is missing or
    /// not a bus file of this layout.
    pub fn open(path: &Path) -> Result<BusReader, OpenFailure> {
        let ring = Ring::attach(path, Attach::ExistingOnly)?;
        let cursor = RingCursor::at_oldest(&ring);
        Ok(BusReader { ring, cursor })
    }

    /// The next frame, oldest first; `None` when all were read.
    pub fn next_frame(&mut self) -> Option<BusFrame> {
        self.cursor.next_frame(&self.ring)
    }

    /// Frames skipped because writers overtook this reader.
    pub fn lapped(&self) -> u64 {
        self.cursor.lapped
    }

    /// Sleeps until a frame may have arrived, at most `timeout`.
    pub fn wait(&self, timeout: Duration) {
        let ticket = self.ring.ticket();
        if self.cursor.caught_up(&self.ring) {
            self.ring.wait(ticket, Some(timeout));
        }
    }
}
