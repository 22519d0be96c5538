//! A block device over a host file: a queue served by worker threads.
//!
//! Requests wait in one queue; [`WORKERS`] host threads take them in
//! order and run them with `preadv`/`pwritev` over their segments
//! (`vectored.rs`; positioned, so several run at once) or `fdatasync` for
//! a flush, then queue the completion and wake the kernel's completion
//! thread. The file is opened without
//! `O_DIRECT`: the host's page cache sits below the kernel's, and a flush
//! (`fdatasync`) is what makes writes durable.
//!
//! The geometry is fixed at open: the file's length rounded down to whole
//! [`BLOCK_SIZE`] blocks. A request past it is refused at submission; a
//! file that shrank meanwhile fails the request with `Io`.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::ops::RangeInclusive;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use hypercall::{
    BlockCompletion, BlockDevice, BlockError, BlockGeometry, BlockOperation, BlockRequest,
};

use super::spec::DiskSpec;
use super::vectored::{read_at, write_at};

/// The block size every file disk has: the sector of the disks it stands for.
pub const BLOCK_SIZE: u32 = 512;
/// Requests in flight at most (queued, running, or completed and not taken).
pub const QUEUE_DEPTH: usize = 64;
/// Segments one request may have (Linux's `IOV_MAX`: one `preadv`).
pub const MAX_SEGMENTS: usize = 1024;
/// Host threads serving one disk's queue.
pub const WORKERS: usize = 4;

/// The queue, the completions, and whether the disk is closed.
#[derive(Debug, Default)]
struct State {
    queued: VecDeque<BlockRequest>,
    completed: VecDeque<BlockCompletion>,
    /// Submitted and not yet taken back by the kernel.
    in_flight: usize,
    closed: bool,
    /// The workers end once the queue is empty (set when dropped).
    stopping: bool,
}

/// What the disk and its workers share.
#[derive(Debug)]
struct Shared {
    file: File,
    geometry: BlockGeometry,
    failing: Option<RangeInclusive<u64>>,
    state: Mutex<State>,
    /// Workers wait here for requests.
    work: Condvar,
    /// The kernel's completion thread waits here.
    done: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One open file disk.
#[derive(Debug)]
pub struct FileDisk {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl FileDisk {
    /// Opens the file `spec` names (read-write unless `ro`) and starts its
    /// workers.
    ///
    /// # Errors
    /// The host's error when the file cannot be opened or measured, or no
    /// worker thread can start.
    pub fn open(spec: &DiskSpec) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(!spec.read_only)
            .open(&spec.path)?;
        let length = file.metadata()?.len();
        let geometry = BlockGeometry {
            size: length - length % u64::from(BLOCK_SIZE),
            block_size: BLOCK_SIZE,
            read_only: spec.read_only,
        };
        let shared = Arc::new(Shared {
            file,
            geometry,
            failing: spec.failing.clone(),
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            done: Condvar::new(),
        });
        let mut disk = Self {
            shared,
            workers: Vec::with_capacity(WORKERS),
        };
        for index in 0..WORKERS {
            let shared = disk.shared.clone();
            let worker = std::thread::Builder::new()
                .name(format!("disk-worker-{index}"))
                .spawn(move || serve(&shared))?;
            disk.workers.push(worker);
        }
        Ok(disk)
    }

    /// Why `request` cannot start, if it cannot.
    fn check(&self, request: &BlockRequest) -> Result<(), BlockError> {
        let geometry = self.shared.geometry;
        let block = geometry.block_size as usize;
        let segments = &request.buffers;
        let writes = request.operation != BlockOperation::Read;
        if writes && geometry.read_only {
            return Err(BlockError::ReadOnly);
        }
        let whole = |segment: &Vec<u8>| !segment.is_empty() && segment.len().is_multiple_of(block);
        let fits = match request.operation {
            BlockOperation::Flush => request.offset == 0 && segments.is_empty(),
            _ => {
                let end = request.offset.checked_add(request.length() as u64);
                (1..=MAX_SEGMENTS).contains(&segments.len())
                    && segments.iter().all(whole)
                    && request.offset.is_multiple_of(block as u64)
                    && end.is_some_and(|end| end <= geometry.size)
            }
        };
        if fits {
            Ok(())
        } else {
            Err(BlockError::Invalid)
        }
    }
}

impl BlockDevice for FileDisk {
    fn geometry(&self) -> BlockGeometry {
        self.shared.geometry
    }

    fn queue_depth(&self) -> usize {
        QUEUE_DEPTH
    }

    fn max_segments(&self) -> usize {
        MAX_SEGMENTS
    }

    fn submit(&self, request: BlockRequest) -> Result<(), (BlockError, BlockRequest)> {
        if let Err(error) = self.check(&request) {
            return Err((error, request));
        }
        let mut state = self.shared.lock();
        if state.closed {
            return Err((BlockError::Closed, request));
        }
        if state.in_flight >= QUEUE_DEPTH {
            return Err((BlockError::Busy, request));
        }
        state.in_flight += 1;
        state.queued.push_back(request);
        self.shared.work.notify_one();
        Ok(())
    }

    fn wait(&self) -> Result<(), BlockError> {
        let mut state = self.shared.lock();
        loop {
            if !state.completed.is_empty() {
                return Ok(());
            }
            if state.closed && state.in_flight == 0 {
                return Err(BlockError::Closed);
            }
            state = self
                .shared
                .done
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    fn take_completion(&self) -> Option<BlockCompletion> {
        let mut state = self.shared.lock();
        let completion = state.completed.pop_front()?;
        state.in_flight -= 1;
        if state.closed && state.in_flight == 0 {
            self.shared.done.notify_all();
        }
        Some(completion)
    }

    fn close(&self) {
        let mut state = self.shared.lock();
        state.closed = true;
        self.shared.done.notify_all();
    }
}

impl Drop for FileDisk {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.closed = true;
            state.stopping = true;
            self.shared.work.notify_all();
            self.shared.done.notify_all();
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A worker: runs queued requests until the disk is dropped.
fn serve(shared: &Shared) {
    loop {
        let request = {
            let mut state = shared.lock();
            loop {
                if let Some(request) = state.queued.pop_front() {
                    break request;
                }
                if state.stopping {
                    return;
                }
                state = shared
                    .work
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        };
        let completion = perform(shared, request);
        shared.lock().completed.push_back(completion);
        shared.done.notify_one();
    }
}

/// Runs one checked request against the file.
fn perform(shared: &Shared, request: BlockRequest) -> BlockCompletion {
    let length = request.length();
    let BlockRequest {
        tag,
        operation,
        offset,
        mut buffers,
    } = request;
    let result = if touches_failing(shared, offset, length) {
        Err(BlockError::Io)
    } else {
        let outcome = match operation {
            BlockOperation::Read => read_at(&shared.file, &mut buffers, offset),
            BlockOperation::Write => write_at(&shared.file, &buffers, offset),
            BlockOperation::Flush => shared.file.sync_data(),
        };
        outcome.map_err(|_| BlockError::Io)
    };
    BlockCompletion {
        tag,
        buffers,
        result,
    }
}

/// Whether bytes `offset..offset + length` touch the injected bad sectors.
fn touches_failing(shared: &Shared, offset: u64, length: usize) -> bool {
    let Some(failing) = &shared.failing else {
        return false;
    };
    if length == 0 {
        return false;
    }
    let sector = u64::from(BLOCK_SIZE);
    let first = offset / sector;
    let last = (offset + length as u64 - 1) / sector;
    first <= *failing.end() && last >= *failing.start()
}
