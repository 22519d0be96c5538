//! The host's disks (the block device hypercalls) as block drivers.
//!
//! At boot the component opens every device the host names
//! ([`base::hypercall::BlockDevices`]) and attaches each as the next
//! `vblkN`. A request goes to the host with a tag; its completion is
//! found by that tag in the disk's table of pending requests. A kernel
//! thread per disk, `blkdone`, sleeps in the host's `wait` with the
//! virtual CPU released, then takes every completion and completes its
//! request, holding no lock. At shutdown the device is closed, which ends
//! the thread once the requests in flight are back.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::Arc;

use base::Context;
use base::hypercall::{BlockCompletion, BlockDevice, BlockOperation, BlockRequest};
use base::sync::Mutex;
use log::warn;

use crate::disk::Disk;
use crate::driver::{BlockDriver, Completion, Geometry, Operation, Refused, Request};
use crate::error::BlockError;
use crate::registry::Block;

/// The completion thread's stack: completions run the cache's bookkeeping.
const COMPLETION_STACK: usize = 32 * 1024;

/// One host disk as a driver.
struct HostDisk {
    device: Arc<dyn BlockDevice>,
    geometry: Geometry,
    /// Requests the host has, by tag.
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    next_tag: u64,
    completions: BTreeMap<u64, Completion>,
}

impl BlockDriver for HostDisk {
    fn geometry(&self) -> Geometry {
        self.geometry
    }

    fn queue_depth(&self) -> usize {
        self.device.queue_depth().max(1)
    }

    fn max_segments(&self) -> usize {
        self.device.max_segments().max(1)
    }

    fn submit(&self, context: &Context<'_>, request: Request) -> Result<(), Refused> {
        let Request {
            operation,
            sector,
            buffers,
            completion,
        } = request;
        let tag = {
            let mut pending = self.pending.lock(context);
            let tag = pending.next_tag;
            pending.next_tag += 1;
            pending.completions.insert(tag, completion);
            tag
        };
        let host_request = BlockRequest {
            tag,
            operation: match operation {
                Operation::Read => BlockOperation::Read,
                Operation::Write => BlockOperation::Write,
                Operation::Flush => BlockOperation::Flush,
            },
            offset: sector * u64::from(self.geometry.sector_size),
            buffers,
        };
        let Err((error, host_request)) = self.device.submit(host_request) else {
            return Ok(());
        };
        let completion = self.pending.lock(context).completions.remove(&tag);
        let completion = completion.expect("the tag was inserted above and never completed");
        let request = Request {
            operation,
            sector,
            buffers: host_request.buffers,
            completion,
        };
        Err(Refused {
            error: error.into(),
            request,
        })
    }
}

impl HostDisk {
    /// The completion thread's body.
    fn serve(&self, context: &Context<'_>) {
        loop {
            let device = self.device.clone();
            if context.block_on_host(move || device.wait()).is_err() {
                return;
            }
            while let Some(done) = self.device.take_completion() {
                self.complete(context, done);
            }
        }
    }

    fn complete(&self, context: &Context<'_>, done: BlockCompletion) {
        let completion = self.pending.lock(context).completions.remove(&done.tag);
        let Some(completion) = completion else {
            warn!("the host completed request {} it was never given", done.tag);
            return;
        };
        let result = done.result.map_err(BlockError::from);
        completion.complete(context, done.buffers, result);
    }
}

/// Attaches every disk the host offers, in its order.
pub(crate) fn attach_all(context: &Context<'_>, block: &Block) {
    let Some(devices) = context.kernel().hypercalls().block_devices() else {
        return;
    };
    for name in devices.block_names() {
        let attached = devices
            .block_open(&name)
            .map_err(BlockError::from)
            .and_then(|device| attach(context, block, &name, Arc::from(device)));
        if let Err(error) = attached {
            warn!("host disk {name}: {error}; not attached");
        }
    }
}

fn attach(
    context: &Context<'_>,
    block: &Block,
    name: &str,
    device: Arc<dyn BlockDevice>,
) -> Result<Arc<Disk>, BlockError> {
    let host = device.geometry();
    let geometry = Geometry {
        sector_size: host.block_size,
        sectors: host.size / u64::from(host.block_size.max(1)),
        read_only: host.read_only,
        flush: true,
    };
    let driver = Arc::new(HostDisk {
        device: device.clone(),
        geometry,
        pending: Mutex::new(Pending::default()),
    });
    let kernel = context.kernel().arc();
    let serving = driver.clone();
    let thread = kernel
        .spawn_with_stack("blkdone", COMPLETION_STACK, move |context| {
            serving.serve(context)
        })
        .map_err(|_| BlockError::NoMemory)?;
    keep_until_shutdown(context, device.clone(), thread);
    // A disk not attached is closed at once, which ends its thread.
    block
        .attach(context, format!("host {name}"), driver)
        .inspect_err(|_| device.close())
}

/// Closes `device` at shutdown and waits for its completion thread.
fn keep_until_shutdown(
    context: &Context<'_>,
    device: Arc<dyn BlockDevice>,
    thread: base::thread::JoinHandle,
) {
    let kernel = Arc::downgrade(&context.kernel().arc());
    context.kernel().on_shutdown(Box::new(move || {
        device.close();
        let Some(kernel) = kernel.upgrade() else {
            return;
        };
        if let Ok(context) = kernel.enter() {
            let _ = thread.join(&context);
        }
    }));
}
