//! Shared parts of the ext2 tests: images from Linux's mke2fs, a device
//! over the image file, and Linux's e2fsck and debugfs as the judges.
//!
//! These tests need e2fsprogs. Without it they fail, naming the package
//! (`cargo xtask test` installs it through its set-up checks).

#![allow(dead_code, reason = "each test file uses part of this module")]

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ext2::{Access, BlockDevice, Fs, IoError, MountOptions};

/// A directory removed when dropped.
#[derive(Debug)]
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("ext2-test-{tag}-{}-{unique}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a scratch directory");
        Self { path }
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// An e2fsprogs program, found on PATH or in the sbin directories.
pub fn program(name: &str) -> PathBuf {
    for directory in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let path = Path::new(directory).join(name);
        if path.exists() {
            return path;
        }
    }
    panic!(
        "{name} is missing: install the Debian package e2fsprogs \
         (`apt-get install e2fsprogs`; `cargo xtask test` does it as root)"
    );
}

fn run(command: &mut Command) -> Output {
    command.output().expect("an e2fsprogs program runs")
}

/// Makes an ext2 image of `size_kib` KiB with `block_size`-byte blocks,
/// filled from `source` when given; `extra` goes to mke2fs as is.
pub fn make_image(
    image: &Path,
    block_size: u32,
    size_kib: u64,
    source: Option<&Path>,
    extra: &[&str],
) {
    let mut command = Command::new(program("mke2fs"));
    command.args(["-q", "-F", "-t", "ext2", "-b", &block_size.to_string()]);
    command.args(extra);
    if let Some(source) = source {
        command.arg("-d").arg(source);
    }
    command.arg(image).arg(format!("{size_kib}k"));
    let output = run(&mut command);
    assert!(
        output.status.success(),
        "mke2fs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Asserts that `e2fsck -fn` finds nothing wrong with `image`.
pub fn assert_clean(image: &Path) {
    let output = run(Command::new(program("e2fsck")).arg("-fn").arg(image));
    assert!(
        output.status.code() == Some(0),
        "e2fsck -fn found problems (exit {:?}):\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What Linux's debugfs reads at `path` of `image`.
pub fn debugfs_cat(image: &Path, path: &str) -> Vec<u8> {
    let request = format!("cat {path}");
    let output = run(Command::new(program("debugfs"))
        .args(["-R", &request])
        .arg(image));
    assert!(output.status.success(), "debugfs failed on {path}");
    output.stdout
}

/// The output of `debugfs -R request image`.
pub fn debugfs(image: &Path, request: &str) -> String {
    let output = run(Command::new(program("debugfs"))
        .args(["-R", request])
        .arg(image));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A device over an image file, in 512-byte sectors.
#[derive(Debug)]
pub struct FileDevice {
    file: File,
    sectors: u64,
}

impl FileDevice {
    pub fn open(path: &Path) -> Self {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .expect("the image opens");
        let sectors = file.metadata().expect("image metadata").len() / 512;
        Self { file, sectors }
    }
}

impl BlockDevice for FileDevice {
    fn block_size(&self) -> usize {
        512
    }

    fn block_count(&self) -> u64 {
        self.sectors
    }

    fn read(&self, block: u64, buf: &mut [u8]) -> Result<(), IoError> {
        self.file
            .read_exact_at(buf, block * 512)
            .map_err(|_| IoError)
    }

    fn write(&self, block: u64, buf: &[u8]) -> Result<(), IoError> {
        self.file
            .write_all_at(buf, block * 512)
            .map_err(|_| IoError)
    }

    fn flush(&self) -> Result<(), IoError> {
        self.file.sync_data().map_err(|_| IoError)
    }
}

/// The host's wall clock.
pub fn clock() -> ext2::Clock {
    Box::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
    })
}

/// Mounts `image` read-write with the host clock.
pub fn mount(image: &Path) -> Fs<FileDevice> {
    let options = MountOptions {
        read_only: false,
        clock: Some(clock()),
    };
    Fs::mount(FileDevice::open(image), options).expect("the image mounts")
}

/// Rights for new files in the tests.
pub fn access(mode: u16) -> Access {
    Access {
        mode,
        uid: 1000,
        gid: 1000,
    }
}

/// Resolves an absolute `path` (no symlinks followed) from the root.
pub fn resolve<D: BlockDevice>(fs: &Fs<D>, path: &str) -> ext2::Result<ext2::InodeNumber> {
    let mut inode = fs.root();
    for part in path.split('/').filter(|part| !part.is_empty()) {
        inode = fs.lookup(inode, part.as_bytes())?;
    }
    Ok(inode)
}

/// The whole contents of regular file `inode`.
pub fn read_all<D: BlockDevice>(fs: &Fs<D>, inode: ext2::InodeNumber) -> Vec<u8> {
    let size = fs.getattr(inode).expect("attributes").size as usize;
    let mut data = vec![0; size];
    let read = fs.read_at(inode, 0, &mut data).expect("the file reads");
    assert_eq!(read, size);
    data
}

/// The names in directory `inode`, sorted, without `.` and `..`.
pub fn names<D: BlockDevice>(fs: &Fs<D>, inode: ext2::InodeNumber) -> Vec<String> {
    let mut names = Vec::new();
    fs.readdir(inode, 0, |entry| {
        let name = String::from_utf8_lossy(entry.name).into_owned();
        if name != "." && name != ".." {
            names.push(name);
        }
        true
    })
    .expect("the directory lists");
    names.sort();
    names
}

/// Deterministic bytes for test files: `length` bytes from `seed`.
pub fn pattern(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A fresh empty image of `size_kib` KiB in `scratch`, mke2fs defaults
/// for ext2 plus the given block size.
pub fn empty_image(scratch: &Scratch, block_size: u32, size_kib: u64) -> PathBuf {
    let image = scratch.join("image");
    make_image(&image, block_size, size_kib, None, &[]);
    image
}

/// Fills `root` with what the read tests compare: files of sizes around
/// block boundaries and every level of indirection (a sparse one past the
/// triple-indirect boundary of 1 KiB blocks), nested and empty
/// directories, a directory of many blocks, fast and slow symlinks, a
/// hard link and a named pipe.
pub fn populate(root: &Path) {
    use std::os::unix::fs::symlink;
    let write = |name: &str, data: &[u8]| std::fs::write(root.join(name), data).expect("a file");
    write("hello.txt", b"hello, ext2\n");
    write("empty", b"");
    for (index, size) in [
        1023,
        1024,
        1025,
        4096,
        4097,
        12 * 1024 + 1,
        300 * 1024,
        5 << 20,
    ]
    .into_iter()
    .enumerate()
    {
        write(&format!("size-{size}"), &pattern(index as u64, size));
    }
    let sparse = File::create(root.join("sparse")).expect("a sparse file");
    sparse.set_len(70 << 20).expect("a length");
    for (offset, seed) in [(0u64, 1u64), (1 << 20, 2), ((70 << 20) - 5000, 3)] {
        sparse
            .write_all_at(&pattern(seed, 3000), offset)
            .expect("sparse data");
    }
    std::fs::create_dir_all(root.join("a/b/c")).expect("nested directories");
    write("a/b/c/deep.txt", b"deep\n");
    std::fs::create_dir(root.join("emptydir")).expect("an empty directory");
    std::fs::create_dir(root.join("many")).expect("a large directory");
    for index in 0..300 {
        let name = format!("many/file-{index:04}-{}", "x".repeat(index % 40));
        write(&name, format!("{index}\n").as_bytes());
    }
    symlink("hello.txt", root.join("short-link")).expect("a fast symlink");
    let long = format!("a/b/c/{}/target", "long".repeat(30));
    symlink(long, root.join("long-link")).expect("a slow symlink");
    std::fs::hard_link(root.join("hello.txt"), root.join("a/hello-link")).expect("a hard link");
    let status = Command::new("mkfifo")
        .arg(root.join("pipe"))
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

/// Asserts that directory `inode` of `fs` holds exactly what `host`
/// holds: names, kinds, sizes, contents, targets, modes, link counts.
pub fn assert_same_tree<D: BlockDevice>(fs: &Fs<D>, inode: ext2::InodeNumber, host: &Path) {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut host_names: Vec<String> = std::fs::read_dir(host)
        .expect("the host directory lists")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .into_string()
                .expect("UTF-8")
        })
        .collect();
    host_names.sort();
    let mut image_names = names(fs, inode);
    if inode == fs.root() {
        image_names.retain(|name| name != "lost+found");
    }
    assert_eq!(image_names, host_names, "names in {}", host.display());
    for name in host_names {
        let path = host.join(&name);
        let meta = std::fs::symlink_metadata(&path).expect("host metadata");
        let child = fs
            .lookup(inode, name.as_bytes())
            .expect("the name is found");
        let attributes = fs.getattr(child).expect("attributes");
        let what = path.display();
        assert_eq!(
            u32::from(attributes.mode),
            meta.mode() & 0o7777,
            "mode of {what}"
        );
        assert_eq!(u64::from(attributes.links), meta.nlink(), "links of {what}");
        assert_eq!(i64::from(attributes.mtime), meta.mtime(), "mtime of {what}");
        let kind = meta.file_type();
        if kind.is_dir() {
            assert_eq!(attributes.kind, ext2::FileKind::Directory, "{what}");
            assert_same_tree(fs, child, &path);
        } else if kind.is_symlink() {
            assert_eq!(attributes.kind, ext2::FileKind::Symlink, "{what}");
            let target = std::fs::read_link(&path).expect("a target");
            let target = target.into_os_string().into_string().expect("UTF-8");
            assert_eq!(
                fs.readlink(child).expect("readlink"),
                target.as_bytes(),
                "{what}"
            );
        } else if kind.is_fifo() {
            assert_eq!(attributes.kind, ext2::FileKind::Fifo, "{what}");
        } else {
            assert_eq!(attributes.kind, ext2::FileKind::Regular, "{what}");
            assert_eq!(attributes.size, meta.len(), "size of {what}");
            let data = std::fs::read(&path).expect("host contents");
            assert!(read_all(fs, child) == data, "contents of {what}");
        }
    }
}
