//! Disks: virtio-blk on q35 (PCI, MSI-X) and microvm (virtio-mmio) read
//! what the host put in the image, write what the host then finds in it,
//! honour flushes (a flush the device fails fails the guest's sync), give
//! EIO for failed reads and EROFS on read-only disks; the appliance logs
//! its disk and counts its I/O in `/stats`.

use std::path::PathBuf;
use std::time::Duration;

use blake2::{Blake2s256, Digest};
use qemu_tests::clients::{connect, free_port, http_get};
use qemu_tests::protocol::pass_line;
use qemu_tests::{
    Disk, Forward, Machine, Network, Nic, Outcome, QemuConfig, SELFTEST_DEADLINE, appliance_image,
    boot, selftest_config,
};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// The images' size: 512 blocks of 4 KiB.
const IMAGE_BYTES: usize = 2 * 1024 * 1024;
/// The seed the guest writes its pattern with.
const SEED: u64 = 42;

/// An image file of seeded bytes, removed when dropped.
struct Image {
    path: PathBuf,
    original: Vec<u8>,
}

impl Image {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("anykernel-{name}-{}.img", std::process::id()));
        let mut original = vec![0; IMAGE_BYTES];
        Xoshiro256PlusPlus::seed_from_u64(7).fill_bytes(&mut original);
        std::fs::write(&path, &original).expect("write the image");
        Self { path, original }
    }

    /// BLAKE2s-256 of the first half as the guest prints it.
    fn first_half_hash(&self) -> String {
        let digest = Blake2s256::digest(&self.original[..IMAGE_BYTES / 2]);
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// A file next to the image with `text` (blkdebug rules).
    fn rules(&self, text: &str) -> PathBuf {
        let path = self.path.with_extension("conf");
        std::fs::write(&path, text).expect("write the rules");
        path
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(self.path.with_extension("conf"));
    }
}

fn run_block_case(machine: Machine, disk: Disk, params: &[&str]) -> Outcome {
    let config = selftest_config("block", machine)
        .param(format!("blk.seed={SEED}"))
        .params(params.iter().copied())
        .disk(disk);
    boot(&config).wait_for_exit(SELFTEST_DEADLINE)
}

fn reads_writes_and_syncs(machine: Machine, name: &str) {
    let image = Image::new(name);
    let outcome = run_block_case(machine, Disk::new(&image.path), &[]);
    outcome.assert_passed();
    outcome.assert_contains("selftest block: vblk0: 4096 sectors of 512 bytes");
    let read = format!("read 1048576 bytes blake2s {}", image.first_half_hash());
    outcome.assert_contains(&read);
    outcome.assert_contains(&format!("wrote 1048576 bytes pattern {SEED}, synced"));
    outcome.assert_contains(&pass_line("block"));
    let counters = outcome.line_containing("flushes").expect("counters");
    assert!(counters.text.contains("flushes 1 errors 0"), "{outcome}");
    let written = std::fs::read(&image.path).expect("the image");
    assert!(written[..IMAGE_BYTES / 2] == image.original[..IMAGE_BYTES / 2]);
    let mut expected = vec![0; 4096];
    for block in 256..512u64 {
        app::selftest::block::pattern(block, SEED, &mut expected);
        let at = block as usize * 4096;
        assert!(
            written[at..at + 4096] == expected[..],
            "block {block} of the image"
        );
    }
}

#[test]
fn q35_reads_writes_and_syncs_a_virtio_pci_disk() {
    reads_writes_and_syncs(Machine::Q35, "block-q35");
}

#[test]
fn microvm_reads_writes_and_syncs_a_virtio_mmio_disk() {
    reads_writes_and_syncs(Machine::Microvm, "block-microvm");
}

#[test]
fn a_flush_the_device_fails_fails_the_sync() {
    let image = Image::new("block-flush");
    let rules = image.rules("[inject-error]\nevent = \"flush_to_disk\"\nerrno = \"5\"\n");
    let disk = Disk::new(&image.path).blkdebug(rules);
    let outcome = run_block_case(Machine::Q35, disk, &["blk.expect=flush-eio"]);
    outcome.assert_passed();
    outcome.assert_contains("the device failed a Flush");
    outcome.assert_contains("selftest block: sync: EIO, as expected");
}

#[test]
fn a_read_the_device_fails_is_eio() {
    let image = Image::new("block-read");
    let rules = "[inject-error]\nevent = \"read_aio\"\nerrno = \"5\"\nsector = \"1000\"\n";
    let disk = Disk::new(&image.path).blkdebug(image.rules(rules));
    let outcome = run_block_case(Machine::Microvm, disk, &["blk.expect=read-eio"]);
    outcome.assert_passed();
    // The first failed request is logged: reads go in runs of up to
    // 256 KiB (512 sectors), so it is the run that holds sector 1000.
    let line = &outcome
        .expect_line("the device failed a Read at sector ")
        .text;
    let sector: u64 = line
        .split("at sector ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .expect("a sector in the line");
    assert!(sector <= 1000 && 1000 - sector < 512, "{line}");
    outcome.assert_contains("selftest block: read: EIO, as expected");
}

#[test]
fn a_read_only_disk_refuses_writes_and_stays_unchanged() {
    let image = Image::new("block-readonly");
    let disk = Disk::new(&image.path).read_only();
    let outcome = run_block_case(Machine::Q35, disk, &["blk.expect=readonly"]);
    outcome.assert_passed();
    outcome.assert_contains("selftest block: vblk0: 4096 sectors of 512 bytes, read-only");
    outcome.assert_contains("selftest block: write: EROFS, as expected");
    assert!(std::fs::read(&image.path).expect("the image") == image.original);
}

#[test]
fn the_appliance_logs_its_disk_and_counts_its_io_in_stats() {
    let image = Image::new("block-appliance");
    let http = free_port();
    let forwards = vec![Forward {
        host_port: http,
        guest_port: 80,
    }];
    let config = QemuConfig::kernel(appliance_image())
        .machine(Machine::Microvm)
        .nic(Nic::new(Network::User { forwards }))
        .disk(Disk::new(&image.path));
    let mut qemu = boot(&config);
    let deadline = Duration::from_secs(60);
    qemu.expect_line(
        "vblk0: 4096 sectors of 512 bytes (2048 KiB), flush, mmio",
        deadline,
    );
    qemu.expect_line("vioif0 is 10.0.2.15/24 via 10.0.2.2", deadline);
    let mut stream = connect(http).expect("connect");
    let stats = http_get(&mut stream, "/stats").expect("GET /stats");
    let stats = String::from_utf8_lossy(&stats.body).into_owned();
    for line in [
        "block vblk0_sectors 4096",
        "block vblk0_read_only 0",
        "bcache limit ",
    ] {
        assert!(stats.contains(line), "no `{line}` in {stats}");
    }
}
