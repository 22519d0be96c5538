//! One attached disk: its name, its driver, and the queue in front of it.
//!
//! [`Disk::submit`] checks a request against the geometry (whole sectors,
//! in range, no writes on a read-only disk), joins its segments if the
//! driver takes fewer (`segments.rs`), and hands it to the driver
//! while fewer than the driver's queue depth are in flight; beyond that
//! it waits in the disk's queue, in order, and each completion submits
//! the next. So any number of requests may be submitted at once, and the
//! device always has as many as it takes. [`Disk::transfer`] is the
//! synchronous form: submit, then sleep until done (at most
//! [`IO_TIMEOUT_NS`]).

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use base::Context;
use base::hypercall::WaitResult;
use base::sync::{Condvar, Mutex};

use crate::driver::{BlockDriver, Completion, Geometry, Operation, Refused, Request, Segments};
use crate::error::BlockError;

/// How long a synchronous request waits for the device before it gives
/// up with [`BlockError::Io`] (the device keeps the buffer).
pub const IO_TIMEOUT_NS: u64 = 30_000_000_000;

/// Requests over the driver's depth, in submission order.
#[derive(Default)]
struct Queue {
    in_flight: usize,
    waiting: VecDeque<Request>,
}

/// A disk's counters, for `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// Read requests submitted.
    pub reads: u64,
    /// Write requests submitted.
    pub writes: u64,
    /// Flushes submitted.
    pub flushes: u64,
    /// Bytes asked for by reads.
    pub read_bytes: u64,
    /// Bytes handed over by writes.
    pub written_bytes: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Requests that waited in the disk's queue for the device.
    pub queued: u64,
    /// The most requests the device had at once.
    pub peak_in_flight: u64,
}

#[derive(Debug, Default)]
struct Counters {
    reads: AtomicU64,
    writes: AtomicU64,
    flushes: AtomicU64,
    read_bytes: AtomicU64,
    written_bytes: AtomicU64,
    errors: AtomicU64,
    queued: AtomicU64,
    peak_in_flight: AtomicU64,
}

/// An attached disk (`vblk0`, …).
pub struct Disk {
    name: String,
    index: u32,
    /// Where it is, for the log: `pci 0000:00:04.0`, `host /tmp/disk.img`.
    location: String,
    geometry: Geometry,
    driver: Arc<dyn BlockDriver>,
    queue: Mutex<Queue>,
    counters: Counters,
}

impl Disk {
    pub(crate) fn new(
        name: String,
        index: u32,
        location: String,
        driver: Arc<dyn BlockDriver>,
    ) -> Self {
        Self {
            name,
            index,
            location,
            geometry: driver.geometry(),
            driver,
            queue: Mutex::new(Queue::default()),
            counters: Counters::default(),
        }
    }

    /// Its name, `vblkN`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the driver found it.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Its shape.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// Its number in the registry (`N` of `vblkN`).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Starts `request`; its completion runs later, in the driver's thread.
    ///
    /// # Errors
    /// [`Refused`] with the request, its completion not run:
    /// [`BlockError::Invalid`], [`BlockError::OutOfRange`],
    /// [`BlockError::ReadOnly`], [`BlockError::NoMemory`] (no room to
    /// join its segments), or the driver's own refusal. Completing a
    /// refused request gives the submitter its own segments back.
    pub fn submit(
        self: &Arc<Self>,
        context: &Context<'_>,
        request: Request,
    ) -> Result<(), Refused> {
        if let Err(error) = self.check(&request) {
            return Err(Refused { error, request });
        }
        let mut request = crate::segments::fit(request, self.driver.max_segments())?;
        self.count(&request);
        request.completion.claim(self.clone());
        let mut queue = self.queue.lock(context);
        if queue.in_flight >= self.driver.queue_depth() || !queue.waiting.is_empty() {
            queue.waiting.push_back(request);
            self.counters.queued.fetch_add(1, Relaxed);
            return Ok(());
        }
        queue.in_flight += 1;
        self.counters
            .peak_in_flight
            .fetch_max(queue.in_flight as u64, Relaxed);
        drop(queue);
        self.driver.submit(context, request).map_err(|mut refused| {
            self.queue.lock(context).in_flight -= 1;
            self.counters.errors.fetch_add(1, Relaxed);
            refused.request.completion.release();
            refused
        })
    }

    /// Runs one request and waits for it: the buffer back, or why not.
    ///
    /// # Errors
    /// As [`Disk::submit`], the device's failure, or [`BlockError::Io`]
    /// after [`IO_TIMEOUT_NS`] without an answer.
    pub fn transfer(
        self: &Arc<Self>,
        context: &Context<'_>,
        operation: Operation,
        sector: u64,
        buffer: Vec<u8>,
    ) -> Result<Vec<u8>, BlockError> {
        let slot = Arc::new(Slot::new());
        let filled = slot.clone();
        let completion = Completion::new(move |context, buffers, result| {
            *filled.answer.lock(context) = Some((buffers, result));
            filled.ready.notify_all(context);
        });
        let buffers = match buffer.is_empty() {
            true => Vec::new(),
            false => alloc::vec![buffer],
        };
        let request = Request {
            operation,
            sector,
            buffers,
            completion,
        };
        self.submit(context, request)
            .map_err(|refused| refused.error)?;
        slot.wait(context)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> DiskStats {
        let c = &self.counters;
        DiskStats {
            reads: c.reads.load(Relaxed),
            writes: c.writes.load(Relaxed),
            flushes: c.flushes.load(Relaxed),
            read_bytes: c.read_bytes.load(Relaxed),
            written_bytes: c.written_bytes.load(Relaxed),
            errors: c.errors.load(Relaxed),
            queued: c.queued.load(Relaxed),
            peak_in_flight: c.peak_in_flight.load(Relaxed),
        }
    }

    /// Why `request` cannot go to this disk, if it cannot.
    fn check(&self, request: &Request) -> Result<(), BlockError> {
        let geometry = self.geometry;
        if request.operation != Operation::Read && geometry.read_only {
            return Err(BlockError::ReadOnly);
        }
        let segments = &request.buffers;
        if request.operation == Operation::Flush {
            let empty = request.sector == 0 && segments.is_empty();
            return if empty {
                Ok(())
            } else {
                Err(BlockError::Invalid)
            };
        }
        let sector_size = geometry.sector_size as usize;
        let whole =
            |segment: &Vec<u8>| !segment.is_empty() && segment.len().is_multiple_of(sector_size);
        if segments.is_empty() || !segments.iter().all(whole) {
            return Err(BlockError::Invalid);
        }
        let sectors = (request.length() / sector_size) as u64;
        let end = request.sector.checked_add(sectors);
        match end {
            Some(end) if end <= geometry.sectors => Ok(()),
            _ => Err(BlockError::OutOfRange),
        }
    }

    fn count(&self, request: &Request) {
        let c = &self.counters;
        let length = request.length() as u64;
        match request.operation {
            Operation::Read => {
                c.reads.fetch_add(1, Relaxed);
                c.read_bytes.fetch_add(length, Relaxed);
            }
            Operation::Write => {
                c.writes.fetch_add(1, Relaxed);
                c.written_bytes.fetch_add(length, Relaxed);
            }
            Operation::Flush => {
                c.flushes.fetch_add(1, Relaxed);
            }
        };
    }

    /// A request of this disk is over: submit what waited for room.
    pub(crate) fn finished(
        self: &Arc<Self>,
        context: &Context<'_>,
        result: Result<(), BlockError>,
    ) {
        if result.is_err() {
            self.counters.errors.fetch_add(1, Relaxed);
        }
        let mut queue = self.queue.lock(context);
        queue.in_flight = queue.in_flight.saturating_sub(1);
        while queue.in_flight < self.driver.queue_depth() {
            let Some(next) = queue.waiting.pop_front() else {
                return;
            };
            queue.in_flight += 1;
            drop(queue);
            if let Err(mut refused) = self.driver.submit(context, next) {
                self.queue.lock(context).in_flight -= 1;
                self.counters.errors.fetch_add(1, Relaxed);
                // Reported from a completion, never the submitter's call;
                // released first, so that this loop goes on without
                // recursing through `finished`.
                refused.request.completion.release();
                refused.fail(context);
            }
            queue = self.queue.lock(context);
        }
    }
}

impl fmt::Debug for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disk")
            .field("name", &self.name)
            .field("location", &self.location)
            .field("geometry", &self.geometry)
            .finish_non_exhaustive()
    }
}

/// A finished request: the segments back, and how it went.
type Answer = (Segments, Result<(), BlockError>);

/// Where a synchronous request's answer lands.
struct Slot {
    answer: Mutex<Option<Answer>>,
    ready: Condvar,
}

impl Slot {
    fn new() -> Self {
        Self {
            answer: Mutex::new(None),
            ready: Condvar::new(),
        }
    }

    fn wait(&self, context: &Context<'_>) -> Result<Vec<u8>, BlockError> {
        let deadline = context.now_ns().saturating_add(IO_TIMEOUT_NS);
        let mut answer = self.answer.lock(context);
        loop {
            if let Some((mut buffers, result)) = answer.take() {
                return result.map(|()| buffers.pop().unwrap_or_default());
            }
            let (next, waited) = self.ready.wait_until(answer, deadline);
            answer = next;
            if waited == WaitResult::TimedOut && answer.is_none() {
                return Err(BlockError::Io);
            }
        }
    }
}
