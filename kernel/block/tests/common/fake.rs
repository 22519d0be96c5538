//! A fake disk driver: an in-memory disk served by a kernel thread, whose
//! sectors and flushes can be made to fail.
//!
//! Requests wait in a queue until the device thread takes the whole
//! queue at once, so several are in flight; each is then done against
//! the bytes in memory and completed from that thread, holding no lock,
//! as the driver contract says.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use base::sync::{Condvar, Mutex};
use base::thread::JoinHandle;
use base::{Context, Kernel};
use block::{BlockDriver, BlockError, Geometry, Operation, Refused, Request};

/// What the device holds and what it is asked to do.
#[derive(Default)]
pub struct DeviceState {
    pub bytes: Vec<u8>,
    queue: VecDeque<Request>,
    /// Sectors whose reads and writes fail.
    pub failing: Range<u64>,
    /// Flushes fail.
    pub fail_flush: bool,
    pub flushes: u64,
    /// The most requests taken at once.
    pub peak_batch: usize,
    /// Sector and length of every write, in completion order.
    pub writes: Vec<(u64, usize)>,
    /// The segments of every request, in completion order.
    pub segments: Vec<usize>,
    stop: bool,
}

/// The fake driver.
pub struct FakeDisk {
    geometry: Geometry,
    depth: usize,
    /// Segments a request may have (more are refused).
    max_segments: usize,
    pub state: Mutex<DeviceState>,
    ready: Condvar,
}

impl FakeDisk {
    /// A disk of `sectors` zeroed 512-byte sectors taking `depth` requests
    /// of up to 256 segments.
    pub fn new(sectors: u64, depth: usize) -> Arc<Self> {
        Self::with_segments(sectors, depth, 256)
    }

    /// As [`FakeDisk::new`], taking requests of up to `max_segments`.
    pub fn with_segments(sectors: u64, depth: usize, max_segments: usize) -> Arc<Self> {
        Arc::new(Self {
            max_segments,
            geometry: Geometry {
                sector_size: 512,
                sectors,
                read_only: false,
                flush: true,
            },
            depth,
            state: Mutex::new(DeviceState {
                bytes: vec![0; sectors as usize * 512],
                ..DeviceState::default()
            }),
            ready: Condvar::new(),
        })
    }

    /// Starts the device thread.
    pub fn start(self: &Arc<Self>, kernel: &Arc<Kernel>) -> JoinHandle {
        let device = self.clone();
        kernel
            .spawn("fake-disk", move |context| device.serve(context))
            .expect("a thread")
    }

    /// Ends the device thread once the queue is empty.
    pub fn stop(&self, context: &Context<'_>, thread: JoinHandle) {
        self.state.lock(context).stop = true;
        self.ready.notify_all(context);
        thread.join(context).expect("joined");
    }

    fn serve(&self, context: &Context<'_>) {
        loop {
            let batch: Vec<Request> = {
                let mut state = self.state.lock(context);
                while state.queue.is_empty() && !state.stop {
                    state = self.ready.wait(state);
                }
                if state.queue.is_empty() {
                    return;
                }
                state.peak_batch = state.peak_batch.max(state.queue.len());
                state.queue.drain(..).collect()
            };
            for request in batch {
                self.perform(context, request);
            }
        }
    }

    fn perform(&self, context: &Context<'_>, request: Request) {
        let length = request.length();
        let Request {
            operation,
            sector,
            mut buffers,
            completion,
        } = request;
        let result = {
            let mut state = self.state.lock(context);
            state.segments.push(buffers.len());
            let sectors = sector..sector + (length / 512) as u64;
            let failing = sectors.start < state.failing.end && state.failing.start < sectors.end;
            let at = sector as usize * 512..sector as usize * 512 + length;
            match operation {
                _ if failing => Err(BlockError::Io),
                Operation::Read => {
                    let mut from = &state.bytes[at];
                    for segment in &mut buffers {
                        let (head, rest) = from.split_at(segment.len());
                        segment.copy_from_slice(head);
                        from = rest;
                    }
                    Ok(())
                }
                Operation::Write => {
                    state.bytes[at].copy_from_slice(&buffers.concat());
                    state.writes.push((sector, length));
                    Ok(())
                }
                Operation::Flush if state.fail_flush => Err(BlockError::Io),
                Operation::Flush => {
                    state.flushes += 1;
                    Ok(())
                }
            }
        };
        completion.complete(context, buffers, result);
    }
}

impl BlockDriver for FakeDisk {
    fn geometry(&self) -> Geometry {
        self.geometry
    }

    fn queue_depth(&self) -> usize {
        self.depth
    }

    fn max_segments(&self) -> usize {
        self.max_segments
    }

    fn submit(&self, context: &Context<'_>, request: Request) -> Result<(), Refused> {
        let mut state = self.state.lock(context);
        if state.stop || request.buffers.len() > self.max_segments {
            return Err(Refused {
                error: BlockError::Io,
                request,
            });
        }
        state.queue.push_back(request);
        self.ready.notify_one(context);
        Ok(())
    }
}
