//! Fuzz target for the ext2 driver: a small image made by Linux's mke2fs,
//! with bytes the fuzzer chooses written over its metadata, is mounted in
//! memory, walked and read in full, and then written to.
//!
//! Properties: whatever the bytes, mounting, walking, reading and writing
//! end with a result, never a panic or a hang (the test's time bounds
//! every input), and the heap never grows past a bound set by the image,
//! not by the sizes the image claims.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use bolero::{TypeGenerator, check};
use ext2::{Access, FileKind, Fs, InodeNumber, MemoryDevice, MountOptions};
use fuzz::{CountingAllocator, measure};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Bytes of the image (1 KiB blocks: metadata in the first 40 KiB).
const IMAGE_KIB: usize = 128;
/// The most heap one input may use: the image, copies of it, and slack.
const HEAP_BOUND: usize = 8 << 20;

/// The image, made once per process from a small tree.
fn image() -> &'static [u8] {
    static IMAGE: OnceLock<Vec<u8>> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let directory = std::env::temp_dir().join(format!("ext2-fuzz-{}", std::process::id()));
        let source = directory.join("tree");
        std::fs::create_dir_all(source.join("dir/sub")).expect("a scratch tree");
        std::fs::write(source.join("small"), b"hello\n").expect("a file");
        std::fs::write(source.join("dir/indirect"), vec![7u8; 20 * 1024]).expect("a file");
        std::fs::write(source.join("dir/sub/deep"), b"deep").expect("a file");
        std::os::unix::fs::symlink("dir/sub/deep", source.join("fast")).expect("a symlink");
        std::os::unix::fs::symlink("d/".repeat(40), source.join("slow")).expect("a symlink");
        let image = directory.join("image");
        let status = Command::new(mke2fs())
            .args(["-q", "-F", "-t", "ext2", "-b", "1024", "-N", "32", "-d"])
            .arg(&source)
            .arg(&image)
            .arg(format!("{IMAGE_KIB}k"))
            .status()
            .expect("mke2fs runs");
        assert!(status.success(), "mke2fs failed");
        let bytes = std::fs::read(&image).expect("the image");
        let _ = std::fs::remove_dir_all(&directory);
        bytes
    })
}

fn mke2fs() -> PathBuf {
    ["/usr/sbin/mke2fs", "/sbin/mke2fs"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .expect("mke2fs is missing: install the Debian package e2fsprogs")
}

/// One change to the image: `value` written at `offset` in the metadata
/// area, as one byte or as a little-endian word.
#[derive(Debug, TypeGenerator)]
struct Patch {
    offset: u16,
    value: u32,
    word: bool,
}

/// Visits every inode reachable from the root once, reading it all.
fn walk(fs: &Fs<MemoryDevice>) -> Vec<(InodeNumber, InodeNumber)> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![fs.root()];
    let mut directories = Vec::new();
    while let Some(inode) = stack.pop() {
        if !seen.insert(inode) || seen.len() > 256 {
            continue;
        }
        let Ok(attributes) = fs.getattr(inode) else {
            continue;
        };
        match attributes.kind {
            FileKind::Directory => {
                let _ = fs.readdir(inode, 0, |entry| {
                    if entry.name != b"." && entry.name != b".." {
                        stack.push(entry.inode);
                        directories.push((inode, entry.inode));
                    }
                    true
                });
            }
            FileKind::Symlink => drop(fs.readlink(inode)),
            _ => read_some(fs, inode, attributes.size),
        }
    }
    directories
}

/// Reads the start and the end of a file, at most 64 KiB each.
fn read_some(fs: &Fs<MemoryDevice>, inode: InodeNumber, size: u64) {
    let mut buf = vec![0u8; 64 * 1024];
    let _ = fs.read_at(inode, 0, &mut buf);
    let _ = fs.read_at(inode, size.saturating_sub(100), &mut buf[..4096]);
}

/// Writes to the damaged file system: every kind of change.
fn scribble(fs: &mut Fs<MemoryDevice>, pairs: &[(InodeNumber, InodeNumber)]) {
    let root = fs.root();
    let access = Access::default();
    if let Ok(file) = fs.create(root, b"new", access) {
        let _ = fs.write_at(file, 5000, &[1; 3000]);
        let _ = fs.truncate(file, 100);
    }
    let _ = fs.mkdir(root, b"newdir", access);
    let _ = fs.symlink(root, b"newlink", &[b'x'; 100], access);
    for (parent, child) in pairs.iter().take(4) {
        let _ = fs.write_at(*child, 0, &[2; 1500]);
        let _ = fs.truncate(*child, 10);
        let _ = fs.rename(root, b"new", *child, b"moved");
        let _ = fs.link(*child, root, b"hard");
        let _ = fs.unlink(*parent, b"indirect");
        let _ = fs.rmdir(*parent, b"sub");
        let _ = fs.rename(*parent, b"sub", root, b"newdir");
    }
    let _ = fs.unlink(root, b"small");
    let _ = fs.sync();
}

#[test]
fn any_damage_to_the_metadata_gives_errors_not_panics_or_hangs() {
    let clean = image();
    check!()
        .with_type::<Vec<Patch>>()
        .for_each(|patches: &Vec<Patch>| {
            let mut bytes = clean.to_vec();
            // The superblock, group descriptors, bitmaps, inode table and
            // the first directory blocks all lie in the first 40 KiB.
            for patch in patches.iter().take(16) {
                let at = usize::from(patch.offset) % (40 * 1024);
                if patch.word {
                    bytes[at..at + 4].copy_from_slice(&patch.value.to_le_bytes());
                } else {
                    bytes[at] = patch.value as u8;
                }
            }
            let (_, usage) = measure(|| {
                let device = MemoryDevice::new(bytes);
                let Ok(mut fs) = Fs::mount(device, MountOptions::default()) else {
                    return;
                };
                let pairs = walk(&fs);
                scribble(&mut fs, &pairs);
                walk(&fs);
                let _ = fs.unmount();
            });
            assert!(
                usage.peak_bytes < HEAP_BOUND,
                "{} bytes of heap",
                usage.peak_bytes
            );
        });
}
