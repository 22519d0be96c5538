//! One virtio disk as a driver of the block layer.
//!
//! [`VirtioDisk`] takes requests from the block layer's queue and lends
//! them to the device; its interrupt handler ([`VirtioDisk::service`])
//! takes back what the device finished and completes each request, after
//! letting go of the disk's lock (a completion may submit the next
//! request). Lock order: nothing is held while a completion runs.
//!
//! A failed request (a status other than OK) completes with EIO and is
//! logged the first time. A device that returns a token it was never
//! given is broken: it is no longer used, every later request is refused
//! with EIO, and the requests it still holds never complete (their
//! waiters time out with EIO); nothing panics.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

use base::Context;
use base::interrupt::Interrupt;
use base::sync::Mutex;
use block::{BlockDriver, BlockError, Geometry, Operation, Refused, Request};
use dev::DevError;
use log::{error, warn};
use virtio::Started;
use virtio_drivers::transport::Transport;

use crate::device::{Shape, VIRTIO_SECTOR};
use crate::queue::{Broken, Finished, Requests};

/// A transport a disk can live on: any the interrupt thread and the
/// block layer's threads may share.
pub(crate) trait DiskTransport: Transport + Send + 'static {}

impl<T: Transport + Send + 'static> DiskTransport for T {}

/// One virtio disk on transport `T`.
pub(crate) struct VirtioDisk<T: DiskTransport> {
    /// Where it is, for the log: `pci 0000:00:04.0`, `mmio 0xfeb00e00`.
    label: String,
    geometry: Geometry,
    depth: usize,
    /// Data segments one request may have.
    segments: usize,
    /// Virtio sectors per block-layer sector.
    scale: u64,
    state: Mutex<State<T>>,
    /// Kept so the interrupt thread lives as long as the disk.
    interrupt: Mutex<Option<Interrupt>>,
    /// A failed request has been logged.
    failure_logged: AtomicBool,
}

struct State<T: DiskTransport> {
    requests: Requests<T>,
    broken: bool,
}

impl<T: DiskTransport> VirtioDisk<T> {
    /// The disk of a started device.
    pub(crate) fn new(label: String, requests: Requests<T>, shape: Shape) -> Self {
        let scale = u64::from(shape.block_size) / VIRTIO_SECTOR;
        Self {
            label,
            geometry: Geometry {
                sector_size: shape.block_size,
                sectors: shape.capacity / scale,
                read_only: shape.read_only,
                flush: shape.flush,
            },
            depth: requests.depth(),
            segments: shape.max_segments,
            scale,
            state: Mutex::new(State {
                requests,
                broken: false,
            }),
            interrupt: Mutex::new(None),
            failure_logged: AtomicBool::new(false),
        }
    }

    /// Where the disk is.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Everything the device finished, taken under the lock.
    fn take_finished(&self, context: &Context<'_>) -> Vec<Finished> {
        let mut state = self.state.lock(context);
        let mut finished = Vec::new();
        if state.broken {
            return finished;
        }
        state.requests.acknowledge();
        loop {
            match state.requests.take_finished() {
                Ok(Some(request)) => finished.push(request),
                Ok(None) => return finished,
                Err(Broken) => {
                    error!(
                        "{}: the device returned a request it was not given; stopped",
                        self.label
                    );
                    state.broken = true;
                    return finished;
                }
            }
        }
    }

    fn log_failure(&self, finished: &Finished) {
        if !self.failure_logged.swap(true, Relaxed) {
            let request = &finished.request;
            warn!(
                "{}: the device failed a {:?} at sector {} (status {}); EIO",
                self.label, request.operation, request.sector, finished.status
            );
        }
    }
}

impl<T: DiskTransport> Started for VirtioDisk<T> {
    /// The interrupt handler: completes every request the device finished.
    fn service(&self, context: &Context<'_>) {
        for finished in self.take_finished(context) {
            let result = finished.result();
            if result.is_err() {
                self.log_failure(&finished);
            }
            let Request {
                buffers,
                completion,
                ..
            } = finished.request;
            completion.complete(context, buffers, result);
        }
    }

    /// Keeps `interrupt` (and so its thread) alive with the disk.
    fn keep_interrupt(&self, context: &Context<'_>, interrupt: Interrupt) {
        *self.interrupt.lock(context) = Some(interrupt);
    }

    fn attach(self: &Arc<Self>, context: &Context<'_>, described: &str) -> Result<(), DevError> {
        crate::register(context, self.clone(), described)
    }
}

impl<T: DiskTransport> BlockDriver for VirtioDisk<T> {
    fn geometry(&self) -> Geometry {
        self.geometry
    }

    fn queue_depth(&self) -> usize {
        self.depth
    }

    fn max_segments(&self) -> usize {
        self.segments
    }

    fn submit(&self, context: &Context<'_>, request: Request) -> Result<(), Refused> {
        let refuse = |error, request| Err(Refused { error, request });
        let data = request.operation != Operation::Flush;
        let segments = request.buffers.len();
        if data == (segments == 0) || segments > self.segments {
            return refuse(BlockError::Invalid, request);
        }
        if request.operation != Operation::Read && self.geometry.read_only {
            return refuse(BlockError::ReadOnly, request);
        }
        let mut state = self.state.lock(context);
        if state.broken {
            return refuse(BlockError::Io, request);
        }
        let sector = request.sector.saturating_mul(self.scale);
        match state.requests.lend(request, sector) {
            Ok(()) => Ok(()),
            Err(request) => refuse(BlockError::Io, request),
        }
    }
}
