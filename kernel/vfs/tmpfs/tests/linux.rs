//! The file calls against Linux's own: one table of cases, run on our
//! tmpfs and on the host (in /dev/shm, a tmpfs, where there is one) in
//! the same test, with errno numbers and results compared step by step.
//!
//! Paths in the table are relative and symbolic links point at relative
//! targets, so one sequence means the same under our root and under the
//! host's scratch directory.

mod common;

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base::Context;
use vfs::{NodeKind, OpenFlags, Vfs};

const RDONLY: u32 = OpenFlags::READ_ONLY.0;
const WRONLY: u32 = OpenFlags::WRITE_ONLY.0;
const RDWR: u32 = OpenFlags::READ_WRITE.0;
const CREAT: u32 = OpenFlags::CREATE.0;
const EXCL: u32 = OpenFlags::EXCLUSIVE.0;
const TRUNC: u32 = OpenFlags::TRUNCATE.0;
const APPEND: u32 = OpenFlags::APPEND.0;
const DIRECTORY: u32 = OpenFlags::DIRECTORY.0;
const NOFOLLOW: u32 = OpenFlags::NO_FOLLOW.0;

/// One call.
#[derive(Debug, Clone)]
enum Op {
    Mkdir(String),
    Rmdir(String),
    Unlink(String),
    Rename(String, String),
    Link(String, String),
    Symlink(String, String),
    Readlink(String),
    /// open with flags, then close.
    Open(String, u32),
    /// open with flags, write, close: bytes written.
    Write(String, u32, Vec<u8>),
    /// open read-only, read to the end.
    Read(String),
    /// open with flags, seek-free write at an offset (pwrite).
    WriteAt(String, u64, Vec<u8>),
    Truncate(String, u64),
    /// stat: kind, size of a file, links of a file.
    Stat(String),
    Lstat(String),
}

/// What a call gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Done,
    Count(usize),
    Bytes(Vec<u8>),
    Node {
        kind: &'static str,
        size: u64,
        links: u64,
    },
}

type Answer = Result<Outcome, i32>;

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::File => "file",
        NodeKind::Directory => "directory",
        NodeKind::Symlink => "symlink",
    }
}

/// A node outcome; sizes and links only for files (directories differ
/// between file systems).
fn node(kind: &'static str, size: u64, links: u64) -> Outcome {
    if kind == "file" {
        Outcome::Node { kind, size, links }
    } else {
        Outcome::Node {
            kind,
            size: 0,
            links: 0,
        }
    }
}

/// Runs `op` on our kernel.
fn ours(vfs: &Vfs, context: &Context<'_>, op: &Op) -> Answer {
    let path = |p: &String| format!("/{p}");
    let result = match op {
        Op::Mkdir(p) => vfs.mkdir(context, &path(p), 0o755).map(|()| Outcome::Done),
        Op::Rmdir(p) => vfs.rmdir(context, &path(p)).map(|()| Outcome::Done),
        Op::Unlink(p) => vfs.unlink(context, &path(p)).map(|()| Outcome::Done),
        Op::Rename(a, b) => vfs
            .rename(context, &path(a), &path(b))
            .map(|()| Outcome::Done),
        Op::Link(a, b) => vfs
            .link(context, &path(a), &path(b))
            .map(|()| Outcome::Done),
        Op::Symlink(target, p) => vfs
            .symlink(context, target, &path(p))
            .map(|()| Outcome::Done),
        Op::Readlink(p) => vfs.readlink(context, &path(p)).map(Outcome::Bytes),
        Op::Open(p, flags) => vfs
            .open(context, &path(p), OpenFlags(*flags), 0o644)
            .and_then(|fd| vfs.close(context, fd))
            .map(|()| Outcome::Done),
        Op::Write(p, flags, data) => vfs
            .open(context, &path(p), OpenFlags(*flags), 0o644)
            .and_then(|fd| {
                let written = vfs.write(context, fd, data);
                vfs.close(context, fd)?;
                written.map(Outcome::Count)
            }),
        Op::WriteAt(p, offset, data) => {
            vfs.open(context, &path(p), OpenFlags(WRONLY), 0)
                .and_then(|fd| {
                    let written = vfs.pwrite(context, fd, data, *offset);
                    vfs.close(context, fd)?;
                    written.map(Outcome::Count)
                })
        }
        Op::Read(p) => vfs
            .open(context, &path(p), OpenFlags(RDONLY), 0)
            .and_then(|fd| {
                let mut all = Vec::new();
                let mut buffer = [0u8; 1000];
                let result = loop {
                    match vfs.read(context, fd, &mut buffer) {
                        Ok(0) => break Ok(Outcome::Bytes(all)),
                        Ok(count) => all.extend_from_slice(&buffer[..count]),
                        Err(error) => break Err(error),
                    }
                };
                vfs.close(context, fd)?;
                result
            }),
        Op::Truncate(p, size) => vfs
            .truncate(context, &path(p), *size)
            .map(|()| Outcome::Done),
        Op::Stat(p) | Op::Lstat(p) => {
            let stat = if matches!(op, Op::Stat(_)) {
                vfs.stat(context, &path(p))
            } else {
                vfs.lstat(context, &path(p))
            };
            stat.map(|stat| {
                let a = stat.attributes;
                node(kind_name(a.kind), a.size, u64::from(a.links))
            })
        }
    };
    result.map_err(|errno| errno.number())
}

/// Runs `op` on the host under `base`.
fn linux(base: &Path, op: &Op) -> Answer {
    let path = |p: &String| base.join(p);
    let done = |result: std::io::Result<()>| result.map(|()| Outcome::Done);
    let result = match op {
        Op::Mkdir(p) => done(fs::DirBuilder::new().mode(0o755).create(path(p))),
        Op::Rmdir(p) => done(fs::remove_dir(path(p))),
        Op::Unlink(p) => done(fs::remove_file(path(p))),
        Op::Rename(a, b) => done(fs::rename(path(a), path(b))),
        Op::Link(a, b) => done(fs::hard_link(path(a), path(b))),
        Op::Symlink(target, p) => done(std::os::unix::fs::symlink(target, path(p))),
        Op::Readlink(p) => fs::read_link(path(p))
            .map(|target| Outcome::Bytes(target.into_os_string().into_encoded_bytes())),
        Op::Open(p, flags) => open_linux(&path(p), *flags).map(|_| Outcome::Done),
        Op::Write(p, flags, data) => {
            open_linux(&path(p), *flags).and_then(|mut file| file.write(data).map(Outcome::Count))
        }
        Op::WriteAt(p, offset, data) => open_linux(&path(p), WRONLY).and_then(|file| {
            std::os::unix::fs::FileExt::write_at(&file, data, *offset).map(Outcome::Count)
        }),
        Op::Read(p) => open_linux(&path(p), RDONLY).and_then(|mut file| {
            let mut all = Vec::new();
            file.read_to_end(&mut all).map(|_| Outcome::Bytes(all))
        }),
        Op::Truncate(p, size) => open_linux(&path(p), WRONLY)
            .and_then(|file| file.set_len(*size).map(|()| Outcome::Done)),
        Op::Stat(p) | Op::Lstat(p) => {
            let metadata = if matches!(op, Op::Stat(_)) {
                fs::metadata(path(p))
            } else {
                fs::symlink_metadata(path(p))
            };
            metadata.map(|m| {
                let kind = if m.is_dir() {
                    "directory"
                } else if m.file_type().is_symlink() {
                    "symlink"
                } else {
                    "file"
                };
                node(kind, m.len(), m.nlink())
            })
        }
    };
    result.map_err(|error| error.raw_os_error().expect("an errno from Linux"))
}

fn open_linux(path: &Path, flags: u32) -> std::io::Result<fs::File> {
    let access = flags & 3;
    let mut options = OpenOptions::new();
    options
        .read(access != WRONLY)
        .write(access != RDONLY)
        .custom_flags(i32::try_from(flags & !3).expect("small flags"))
        .mode(0o644);
    options.open(path)
}

/// A scratch directory on the host, on tmpfs where there is one.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let shm = Path::new("/dev/shm");
        let parent = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let path = parent.join(format!("anykernel-vfs-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).expect("a scratch directory");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("its mode");
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

/// Runs `ops` on both and fails at the first step whose answers differ.
fn compare(name: &str, ops: &[Op]) {
    let booted = common::boot("");
    let context = booted.kernel.enter().expect("context");
    let vfs = Vfs::of(&context).expect("vfs");
    let scratch = Scratch::new(name);
    let mut succeeded = 0;
    for (step, op) in ops.iter().enumerate() {
        let (we, they) = (ours(&vfs, &context, op), linux(&scratch.0, op));
        assert_eq!(we, they, "{name}, step {step}: {op:?}: ours, then Linux's");
        succeeded += usize::from(we.is_ok());
    }
    // A table where everything fails the same way would prove nothing.
    assert!(
        succeeded * 4 >= ops.len(),
        "{name}: only {succeeded} calls succeeded"
    );
}

#[test]
fn open_flags_answer_as_on_linux() {
    use Op::*;
    compare(
        "open",
        &[
            Open(s("f"), RDONLY),
            Open(s("f"), RDONLY | CREAT),
            Open(s("f"), RDONLY | CREAT | EXCL),
            Write(s("f"), WRONLY, b"hello".to_vec()),
            Write(s("f"), WRONLY | APPEND, b" world".to_vec()),
            Read(s("f")),
            Write(s("f"), RDWR, b"J".to_vec()),
            Read(s("f")),
            Write(s("f"), WRONLY | TRUNC, b"new".to_vec()),
            Read(s("f")),
            Write(s("f"), RDONLY, b"x".to_vec()),
            Mkdir(s("d")),
            Open(s("d"), RDONLY),
            Open(s("d"), RDONLY | DIRECTORY),
            Open(s("d"), WRONLY),
            Open(s("d"), RDWR),
            Open(s("f"), RDONLY | DIRECTORY),
            Open(s("d"), RDONLY | CREAT),
            Open(s("d/new/"), RDONLY | CREAT),
            Open(s("f/"), RDONLY),
            Open(s("f/x"), RDONLY | CREAT),
            Open(s("nothere/x"), RDONLY | CREAT),
            Symlink(s("f"), s("l")),
            Open(s("l"), RDONLY | NOFOLLOW),
            Read(s("l")),
            Symlink(s("missing"), s("dangling")),
            Open(s("dangling"), RDONLY),
            Open(s(""), RDONLY),
            Read(s("d/../f")),
            Read(s("d/./../d/../f")),
            Read(s("d//..//f")),
            Read(s("f/..")),
        ],
    );
}

#[test]
fn namespace_calls_answer_as_on_linux() {
    use Op::*;
    compare(
        "names",
        &[
            Mkdir(s("a")),
            Mkdir(s("a")),
            Mkdir(s("a/b/c")),
            Mkdir(s("a/b/")),
            Stat(s("a/b")),
            Rmdir(s("a")),
            Rmdir(s("a/b/.")),
            Rmdir(s("a/b/..")),
            Write(s("a/f"), WRONLY | CREAT, b"12345".to_vec()),
            Rmdir(s("a/f")),
            Unlink(s("a/b")),
            Unlink(s("a/f/")),
            Mkdir(s("a/f/g")),
            Link(s("a/f"), s("a/hard")),
            Stat(s("a/hard")),
            Link(s("a/b"), s("a/dirlink")),
            Link(s("a/f"), s("a/hard")),
            Unlink(s("a/f")),
            Read(s("a/hard")),
            Stat(s("a/hard")),
            Symlink(s("hard"), s("a/soft")),
            Readlink(s("a/soft")),
            Readlink(s("a/hard")),
            Stat(s("a/soft")),
            Lstat(s("a/soft")),
            Symlink(s("x"), s("a/soft")),
            Unlink(s("a/soft")),
            Lstat(s("a/soft")),
            Truncate(s("a/hard"), 2),
            Read(s("a/hard")),
            Truncate(s("a/hard"), 9000),
            Stat(s("a/hard")),
            Truncate(s("a/b"), 0),
            Unlink(s("nothing")),
            Rmdir(s("a/nothing")),
            Rmdir(s("a/b")),
            Rmdir(s("a/b")),
        ],
    );
}

#[test]
fn renames_answer_as_on_linux() {
    use Op::*;
    compare(
        "rename",
        &[
            Mkdir(s("d")),
            Mkdir(s("d/sub")),
            Mkdir(s("e")),
            Mkdir(s("full")),
            Write(s("full/x"), WRONLY | CREAT, b"x".to_vec()),
            Write(s("f"), WRONLY | CREAT, b"ff".to_vec()),
            Write(s("g"), WRONLY | CREAT, b"ggg".to_vec()),
            Rename(s("f"), s("g")),
            Read(s("g")),
            Stat(s("f")),
            Rename(s("g"), s("d")),
            Rename(s("d"), s("g")),
            Rename(s("d"), s("e")),
            Stat(s("e/sub")),
            Rename(s("e"), s("full")),
            Rename(s("e"), s("e/sub")),
            Rename(s("e"), s("e/sub/deeper")),
            Rename(s("e"), s("e")),
            Rename(s("e/sub"), s("moved")),
            Stat(s("moved")),
            Rename(s("missing"), s("x")),
            Rename(s("g"), s("nodir/x")),
            Rename(s("g/"), s("h")),
            Rename(s("g"), s("h/")),
            Link(s("g"), s("g2")),
            Rename(s("g"), s("g2")),
            Stat(s("g")),
            Stat(s("g2")),
            Rename(s("moved/"), s("moved2/")),
            Stat(s("moved2")),
        ],
    );
}

#[test]
fn sparse_files_and_long_names_answer_as_on_linux() {
    use Op::*;
    let long = "n".repeat(256);
    let path = "d/".repeat(2100);
    compare(
        "sparse",
        &[
            Write(s("sparse"), WRONLY | CREAT, b"start".to_vec()),
            WriteAt(s("sparse"), 10_000, b"end".to_vec()),
            Stat(s("sparse")),
            Read(s("sparse")),
            Truncate(s("sparse"), 3),
            Truncate(s("sparse"), 5000),
            Read(s("sparse")),
            Mkdir(long.clone()),
            Open(long.clone(), WRONLY | CREAT),
            Mkdir("n".repeat(255)),
            Stat("n".repeat(255)),
            Open(path.clone(), RDONLY),
            Mkdir(path),
        ],
    );
}

#[test]
fn symbolic_links_loop_and_chain_as_on_linux() {
    use Op::*;
    let mut ops = vec![
        Symlink(s("loop2"), s("loop1")),
        Symlink(s("loop1"), s("loop2")),
        Read(s("loop1")),
        Open(s("loop1/x"), RDONLY | CREAT),
        Stat(s("loop1")),
        Lstat(s("loop1")),
        Symlink(s("self"), s("self")),
        Mkdir(s("self/x")),
        Write(s("target"), WRONLY | CREAT, b"t".to_vec()),
        Symlink(s("target"), s("chain0")),
    ];
    // A chain of 40 links resolves, one of 41 does not (ELOOP).
    for index in 1..=41 {
        ops.push(Symlink(
            format!("chain{}", index - 1),
            format!("chain{index}"),
        ));
    }
    ops.push(Read(s("chain39")));
    ops.push(Read(s("chain40")));
    ops.push(Mkdir(s("dir")));
    ops.push(Symlink(s("dir"), s("dirlink")));
    ops.push(Write(s("dirlink/inside"), WRONLY | CREAT, b"in".to_vec()));
    ops.push(Read(s("dir/inside")));
    ops.push(Stat(s("dirlink/")));
    ops.push(Rmdir(s("dirlink")));
    ops.push(Unlink(s("dirlink/")));
    ops.push(Unlink(s("dirlink")));
    ops.push(Stat(s("dir")));
    compare("symlinks", &ops);
}
