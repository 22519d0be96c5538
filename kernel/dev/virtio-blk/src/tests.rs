//! The driver on the host: a hosted kernel with the block layer, the real
//! driver on a fake device thread (`fake_device.rs`), volumes on top.
//!
//! Requests cross the virtqueue exactly as in QEMU: descriptors in device
//! memory, buffers lent from the cache, interrupts raised by the device
//! and served in the disk's interrupt thread. Every wait has a deadline
//! (the block layer's own, and the fake's).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;

use base::interrupt::Interrupt;
use base::memory::pagedaemon::PAGEDAEMON;
use base::{BootConfig, Context, Kernel};
use block::{Block, BlockError, Volume};
use dev::DevError;
use dev::fake::FakeDeviceMemory;
use hypercall_posix::{Posix, PosixConfig};
use virtio::Started;
use virtio::fake::SoftInterrupt;

use crate::device;
use crate::disk::VirtioDisk;
use crate::fake_device::{self, FakeDevice, FakeTransport, Setup};

/// A hosted kernel with one virtio disk on a fake device, as `vblk0`.
struct Harness {
    device: FakeDevice,
    // Dropped after the kernel's shutdown, which writes back through it.
    _interrupt: Arc<Interrupt>,
    kernel: Arc<Kernel>,
}

impl Harness {
    fn new(setup: Setup) -> Self {
        let (kernel, device, transport, raise) = boot_with_device(setup);
        let context = kernel.enter().expect("enter");
        let (requests, shape) = device::start(transport).expect("the fake starts");
        let disk = Arc::new(VirtioDisk::new(String::from("fake"), requests, shape));
        let interrupt = raise.establish(&kernel, "vioblk fake", disk.clone());
        disk.attach(&context, "software interrupt")
            .expect("attached");
        drop(context);
        Self {
            device,
            _interrupt: interrupt,
            kernel,
        }
    }

    fn context(&self) -> Context<'_> {
        self.kernel.enter().expect("enter")
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.kernel.shutdown();
    }
}

/// A kernel with the block layer, and a fake device whose interrupt is
/// established once the driver has started.
fn boot_with_device(setup: Setup) -> (Arc<Kernel>, FakeDevice, FakeTransport, SoftInterrupt) {
    virtio::hal::install_for_tests(Arc::new(FakeDeviceMemory::default()));
    let host = Posix::new(PosixConfig::default());
    let components = [&PAGEDAEMON, &block::BLOCK];
    let kernel = Kernel::boot(
        host,
        BootConfig {
            components: &components,
        },
    )
    .expect("boot");
    let raise = SoftInterrupt::default();
    let (device, transport) = fake_device::start(&setup, raise.raiser());
    (kernel, device, transport, raise)
}

fn pattern(block: u64) -> vec::Vec<u8> {
    (0..1024)
        .map(|at| (block as usize * 7 + at) as u8)
        .collect()
}

#[test]
fn blocks_written_and_synced_reach_the_device_and_read_back() {
    let harness = Harness::new(Setup::default());
    let context = harness.context();
    let volume = Volume::open(&context, "vblk0", 1024).expect("vblk0");
    assert_eq!(volume.block_count(), 1024);
    // Odd blocks, then even ones: no two dirty blocks are neighbours, so
    // each sync sends 512 requests (consecutive ones would go as one).
    for parity in [1, 0] {
        for block in (0..1024).filter(|block| block % 2 == parity) {
            volume
                .write(&context, block, &pattern(block))
                .expect("write");
        }
        volume.sync(&context).expect("sync");
    }
    {
        let state = &harness.device.lock().device;
        assert!(state.bytes[300 * 1024..301 * 1024] == pattern(300)[..]);
        assert_eq!(state.flushes, 2, "each sync flushed once, after its writes");
        assert!(state.peak_batch > 1, "several requests were in flight");
    }
    let other = Volume::open(&context, "vblk0", 4096).expect("vblk0");
    let mut block = vec![0; 4096];
    other.read(&context, 75, &mut block).expect("read");
    assert!(block[..1024] == pattern(300)[..] && block[3072..] == pattern(303)[..]);
    let disk = Block::of(&context).expect("linked").disks(&context)[0].clone();
    assert!(disk.stats().peak_in_flight > 1, "{:?}", disk.stats());
}

#[test]
fn a_failed_request_is_eio_and_the_disk_goes_on() {
    let harness = Harness::new(Setup::default());
    let context = harness.context();
    harness.device.lock().device.failing = 10..12;
    let volume = Volume::open(&context, "vblk0", 1024).expect("vblk0");
    let mut block = vec![0; 1024];
    assert_eq!(volume.read(&context, 5, &mut block), Err(BlockError::Io));
    assert_eq!(volume.read(&context, 6, &mut block), Ok(()));
    volume.write(&context, 5, &pattern(5)).expect("cached");
    assert_eq!(volume.sync(&context), Err(BlockError::Io));
    harness.device.lock().device.failing = 0..0;
    volume.sync(&context).expect("repaired");
    assert!(harness.device.lock().device.bytes[5120..6144] == pattern(5)[..]);
}

#[test]
fn a_read_only_device_refuses_writes_and_one_without_a_cache_is_not_flushed() {
    let setup = Setup {
        read_only: true,
        flush: false,
        ..Setup::default()
    };
    let harness = Harness::new(setup);
    let context = harness.context();
    let volume = Volume::open(&context, "vblk0", 512).expect("vblk0");
    assert!(volume.is_read_only());
    assert_eq!(
        volume.write(&context, 0, &[0; 512]),
        Err(BlockError::ReadOnly)
    );
    let disk = volume.disk().clone();
    let write = disk.transfer(&context, block::Operation::Write, 0, vec![0; 512]);
    assert_eq!(write, Err(BlockError::ReadOnly));
    volume.sync(&context).expect("nothing to do");
    assert_eq!(harness.device.lock().device.flushes, 0);
}

#[test]
fn a_logical_block_size_is_the_disks_sector_size() {
    let setup = Setup {
        block_size: Some(4096),
        capacity: 64,
        ..Setup::default()
    };
    let harness = Harness::new(setup);
    let context = harness.context();
    let disk = Block::of(&context).expect("linked").disks(&context)[0].clone();
    assert_eq!(
        (disk.geometry().sector_size, disk.geometry().sectors),
        (4096, 8)
    );
    assert_eq!(
        Volume::open(&context, "vblk0", 1024).err(),
        Some(BlockError::Invalid)
    );
    let volume = Volume::open(&context, "vblk0", 4096).expect("vblk0");
    volume.write(&context, 3, &[3; 4096]).expect("cached");
    volume.sync(&context).expect("sync");
    assert!(harness.device.lock().device.bytes[3 * 4096..4 * 4096] == [3; 4096]);
}

/// `device::start` on a fake set up as `setup`: the error it gives.
fn start_error(setup: Setup) -> DevError {
    let (kernel, device, transport, _raise) = boot_with_device(setup);
    let error = device::start(transport).err().expect("refused");
    drop(device);
    kernel.shutdown();
    error
}

#[test]
fn odd_devices_are_refused_with_a_reason() {
    let cases = [
        (
            Setup {
                capacity: 0,
                ..Setup::default()
            },
            "the disk has no capacity",
        ),
        (
            Setup {
                refuse_features: true,
                ..Setup::default()
            },
            "the device refused the features",
        ),
        (
            Setup {
                block_size: Some(1000),
                ..Setup::default()
            },
            "a logical block size the driver cannot use",
        ),
        (
            Setup {
                block_size: Some(4096),
                capacity: 4,
                ..Setup::default()
            },
            "the disk has no capacity",
        ),
        (
            Setup {
                max_queue: 16,
                ..Setup::default()
            },
            "the queue is smaller than 128 descriptors",
        ),
    ];
    for (setup, reason) in cases {
        assert_eq!(
            start_error(setup.clone()),
            DevError::Unusable(reason),
            "{setup:?}"
        );
    }
}

mod segments;
