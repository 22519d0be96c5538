//! `test=block`: the first disk read, written, synced and read back, with
//! figures the host checks against the image file.
//!
//! On `vblk0` in 4 KiB blocks: the first half is read and its BLAKE2s-256
//! reported (`read N bytes blake2s HEX`: the host hashes the image it made);
//! the second half is written with [`pattern`] of seed `blk.seed=` (default
//! 1), synced (write-back, then a flush), and read back through a volume
//! of another block size, which forgets the cached blocks so that the
//! bytes come from the device; then the disk's counters are reported.
//! After QEMU exits the host finds the pattern in the image.
//!
//! `blk.expect=` says what the disk should do instead of succeeding, and
//! the case passes when it does: `readonly` (writes are refused),
//! `read-eio` (a read fails with EIO), `flush-eio` (the sync fails with
//! EIO: the host made the device fail every flush).

use alloc::format;
use alloc::string::String;
use alloc::vec;

use blake2::{Blake2s256, Digest};
use kernel::Context;
use kernel::block::{Block, BlockError, Volume};

use super::{Case, Outcome};

/// The block size the case works in.
const BLOCK: usize = 4096;

/// Fills `out` with block `block`'s bytes of the pattern seeded `seed`.
pub fn pattern(block: u64, seed: u64, out: &mut [u8]) {
    for (at, byte) in out.iter_mut().enumerate() {
        let mixed = block.wrapping_mul(131) ^ (at as u64).wrapping_mul(7) ^ seed.wrapping_mul(29);
        *byte = (mixed ^ (mixed >> 8)) as u8;
    }
}

/// What the disk is expected to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Success,
    ReadOnly,
    ReadFails,
    FlushFails,
}

pub(super) fn run(case: &Case<'_>) -> Outcome {
    let params = case.kernel.params();
    let expect = match params.get("blk.expect").unwrap_or("ok") {
        "ok" => Expect::Success,
        "readonly" => Expect::ReadOnly,
        "read-eio" => Expect::ReadFails,
        "flush-eio" => Expect::FlushFails,
        other => {
            return Err(format!(
                "blk.expect={other}: want ok, readonly, read-eio or flush-eio"
            ));
        }
    };
    let seed = params.get_u64("blk.seed").ok().flatten().unwrap_or(1);
    let volume = open(case)?;
    let half = volume.block_count() / 2;
    match read_first_half(case, &volume, half) {
        Err(BlockError::Io) if expect == Expect::ReadFails => {
            case.report.line(format_args!("read: EIO, as expected"));
            return Ok(());
        }
        Err(error) => return Err(format!("reading: {error}")),
        Ok(()) if expect == Expect::ReadFails => return Err("every read succeeded".into()),
        Ok(()) => {}
    }
    write_second_half(case, &volume, half, seed, expect)?;
    report_counters(case, &volume);
    Ok(())
}

fn open(case: &Case<'_>) -> Result<Volume, String> {
    let context = case.context;
    let block = Block::of(context).ok_or("the block layer is not linked")?;
    let disk = block
        .disk(context, "vblk0")
        .ok_or("no disk vblk0 (boot with one: cargo xtask run --disk FILE)")?;
    let geometry = disk.geometry();
    case.report.line(format_args!(
        "vblk0: {} sectors of {} bytes{}, {}",
        geometry.sectors,
        geometry.sector_size,
        if geometry.read_only {
            ", read-only"
        } else {
            ""
        },
        disk.location()
    ));
    let volume = Volume::open(context, "vblk0", BLOCK).map_err(|error| format!("{error}"))?;
    if volume.block_count() < 2 {
        return Err("the disk holds less than two 4 KiB blocks".into());
    }
    Ok(volume)
}

fn read_first_half(case: &Case<'_>, volume: &Volume, half: u64) -> Result<(), BlockError> {
    let mut hash = Blake2s256::new();
    let mut buffer = vec![0; BLOCK];
    for block in 0..half {
        volume.read(case.context, block, &mut buffer)?;
        hash.update(&buffer);
    }
    let digest = hash.finalize();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    let bytes = half * BLOCK as u64;
    case.report
        .line(format_args!("read {bytes} bytes blake2s {hex}"));
    Ok(())
}

fn write_second_half(
    case: &Case<'_>,
    volume: &Volume,
    half: u64,
    seed: u64,
    expect: Expect,
) -> Outcome {
    let context = case.context;
    let mut buffer = vec![0; BLOCK];
    for block in half..volume.block_count() {
        pattern(block, seed, &mut buffer);
        match volume.write(context, block, &buffer) {
            Err(BlockError::ReadOnly) if expect == Expect::ReadOnly => {
                case.report.line(format_args!("write: EROFS, as expected"));
                return Ok(());
            }
            Err(error) => return Err(format!("writing block {block}: {error}")),
            Ok(()) => {}
        }
    }
    match (volume.sync(context), expect) {
        (Ok(()), Expect::Success) => {}
        (Err(BlockError::Io), Expect::FlushFails) => {
            case.report.line(format_args!("sync: EIO, as expected"));
            return Ok(());
        }
        (outcome, _) => return Err(format!("sync gave {outcome:?}, {expect:?} expected")),
    }
    read_back(context, volume, half, seed)?;
    let bytes = (volume.block_count() - half) * BLOCK as u64;
    case.report.line(format_args!(
        "wrote {bytes} bytes pattern {seed}, synced, read back"
    ));
    Ok(())
}

/// Reads the second half again in 1 KiB blocks (opening them forgets the
/// 4 KiB buffers) and compares it with the pattern.
fn read_back(context: &Context<'_>, volume: &Volume, half: u64, seed: u64) -> Outcome {
    let small = Volume::open(context, volume.name(), 1024).map_err(|error| format!("{error}"))?;
    let (mut expected, mut read) = (vec![0; BLOCK], vec![0; 1024]);
    for block in half..volume.block_count() {
        pattern(block, seed, &mut expected);
        for quarter in 0..4u64 {
            small
                .read(context, block * 4 + quarter, &mut read)
                .map_err(|error| format!("reading back: {error}"))?;
            let at = quarter as usize * 1024;
            if read[..] != expected[at..at + 1024] {
                return Err(format!("block {block} read back differs"));
            }
        }
    }
    Ok(())
}

fn report_counters(case: &Case<'_>, volume: &Volume) {
    let stats = volume.disk().stats();
    case.report.line(format_args!(
        "vblk0: reads {} writes {} flushes {} errors {} peak_in_flight {}",
        stats.reads, stats.writes, stats.flushes, stats.errors, stats.peak_in_flight
    ));
}
