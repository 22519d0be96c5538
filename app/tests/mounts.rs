//! What the appliance mounts at boot, hosted: the entries of `mount=`
//! (and why the bad ones are left out), and without `mount=` an ext2 disk
//! found as vblk0 served at /www (read-only unless uploads are on, then
//! with its `tmp/` for uploads), else the files baked into the image.
//! Images come from Linux's mke2fs; e2fsck -fn judges what was written.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use app::files::{Site, mount, upload_directory};
use hypercall_posix::{ConsoleCapture, ConsoleSink, ExitMode, Posix, PosixConfig};
use kernel::Kernel;
use kernel::vfs::{OpenFlags, Vfs};

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!("app-mounts-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a scratch directory");
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An e2fsprogs program (they live in /sbin on Debian).
fn program(name: &str) -> PathBuf {
    ["/usr/sbin", "/sbin", "/usr/bin"]
        .iter()
        .map(|directory| Path::new(directory).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} is missing: install e2fsprogs"))
}

/// An 8 MiB ext2 image holding `hello.txt` with `text`.
fn ext2_image(scratch: &Scratch, name: &str, text: &str) -> PathBuf {
    let source = scratch.0.join(format!("{name}-source"));
    std::fs::create_dir_all(&source).expect("a source directory");
    std::fs::write(source.join("hello.txt"), text).expect("a file");
    let image = scratch.0.join(name);
    let output = Command::new(program("mke2fs"))
        .args(["-q", "-F", "-t", "ext2", "-b", "1024", "-d"])
        .arg(&source)
        .arg(&image)
        .arg("8M")
        .output()
        .expect("mke2fs runs");
    assert!(
        output.status.success(),
        "mke2fs: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    image
}

fn assert_clean(image: &Path) {
    let output = Command::new(program("e2fsck"))
        .arg("-fn")
        .arg(image)
        .output()
        .expect("e2fsck runs");
    assert!(
        output.status.success(),
        "e2fsck -fn: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// The appliance's kernel, hosted, with `params` and `disks`.
fn boot(params: &str, disks: &[&Path]) -> (Arc<Kernel>, ConsoleCapture) {
    let console = ConsoleCapture::new();
    let host = Posix::new(PosixConfig {
        boot_parameters: params.to_owned(),
        console: ConsoleSink::Capture(console.clone()),
        exit: ExitMode::Unwind,
        disks: disks
            .iter()
            .map(|disk| disk.display().to_string().parse().expect("a disk spec"))
            .collect(),
        ..PosixConfig::default()
    });
    (kernel::boot(host).expect("the kernel boots"), console)
}

fn read(context: &kernel::Context<'_>, vfs: &Vfs, path: &str) -> Vec<u8> {
    let fd = vfs
        .open(context, path, OpenFlags::READ_ONLY, 0)
        .expect(path);
    let mut buffer = vec![0; 4096];
    let count = vfs.read(context, fd, &mut buffer).expect("read");
    vfs.close(context, fd).expect("close");
    buffer.truncate(count);
    buffer
}

#[test]
fn mount_entries_are_mounted_and_bad_ones_left_out_with_the_reason() {
    let scratch = Scratch::new("entries");
    let first = ext2_image(&scratch, "first", "first disk\n");
    let second = ext2_image(&scratch, "second", "second disk\n");
    let params =
        "mount=vblk1:/data/disk:ext2:ro,vblk9:/x:ext2,bad,none:/scratch:tmpfs,vblk0:/y:nofs";
    let (kernel, console) = boot(params, &[&first, &second]);
    {
        let context = kernel.enter().expect("enter");
        let vfs = Vfs::of(&context).expect("the vfs");
        assert_eq!(
            read(&context, &vfs, "/data/disk/hello.txt"),
            b"second disk\n"
        );
        let disk = vfs.statvfs(&context, "/data/disk").expect("statvfs");
        assert!(disk.read_only, "mounted with ro");
        let scratch_fs = vfs.statvfs(&context, "/scratch").expect("statvfs");
        assert!(!scratch_fs.read_only);
        // mount= given: vblk0 is left alone, the archive serves /www.
        assert!(matches!(mount(&context), Ok(Site::Archive(_))));
    }
    let log = console.text();
    for line in [
        "mount=vblk1:/data/disk:ext2:ro: mounted",
        "mount=none:/scratch:tmpfs: mounted",
        "mount: disk: no such disk (ENODEV); not mounted",
        "mount: `bad`: three or four fields separated by `:`",
        "mount: no file system of type `nofs` in this build (types: ext2, tmpfs); not mounted",
    ] {
        assert!(log.contains(line), "no `{line}` in:\n{log}");
    }
    kernel.shutdown();
}

#[test]
fn an_ext2_disk_found_as_vblk0_is_the_site_read_only_unless_uploads_are_on() {
    let scratch = Scratch::new("site");
    let image = ext2_image(&scratch, "site", "served from the disk\n");
    let before = std::fs::read(&image).expect("the image");
    let (kernel, _console) = boot("", &[&image]);
    {
        let context = kernel.enter().expect("enter");
        let vfs = Vfs::of(&context).expect("the vfs");
        let site = mount(&context).expect("mounted");
        let read_only = Site::Mounted {
            kind: "ext2",
            read_only: true,
        };
        assert_eq!(site, read_only);
        assert_eq!(
            read(&context, &vfs, "/www/hello.txt"),
            b"served from the disk\n"
        );
        assert_eq!(upload_directory(&context, &vfs), "/tmp");
    }
    kernel.shutdown();
    assert!(
        std::fs::read(&image).expect("the image") == before,
        "never written"
    );

    let (kernel, _console) = boot("http.writable=1", &[&image]);
    {
        let context = kernel.enter().expect("enter");
        let vfs = Vfs::of(&context).expect("the vfs");
        let site = mount(&context).expect("mounted");
        assert!(matches!(
            site,
            Site::Mounted {
                read_only: false,
                ..
            }
        ));
        assert_eq!(upload_directory(&context, &vfs), "/www/tmp");
        let flags = OpenFlags::CREATE | OpenFlags::WRITE_ONLY;
        let fd = vfs
            .open(&context, "/www/tmp/up.txt", flags, 0o644)
            .expect("create");
        assert_eq!(vfs.write(&context, fd, b"uploaded\n"), Ok(9));
        vfs.fsync(&context, fd).expect("fsync");
        vfs.close(&context, fd).expect("close");
        vfs.unmount(&context, "/www").expect("unmount");
    }
    kernel.shutdown();
    assert_clean(&image);
}

#[test]
fn a_vblk0_without_ext2_leaves_the_archive_at_the_site() {
    let scratch = Scratch::new("blank");
    let blank = scratch.0.join("blank");
    std::fs::write(&blank, vec![0; 1 << 20]).expect("a blank disk");
    let (kernel, console) = boot("", &[&blank]);
    {
        let context = kernel.enter().expect("enter");
        assert!(matches!(mount(&context), Ok(Site::Archive(_))));
    }
    assert!(
        console
            .text()
            .contains("files: vblk0 holds no ext2 file system")
    );
    kernel.shutdown();
}
