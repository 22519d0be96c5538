//! ext2 disk images for guests: made by Linux's `mke2fs -d`, judged after
//! the guest by `e2fsck` and read back by `debugfs`.
//!
//! Needs e2fsprogs (`cargo xtask test` installs it); without it these
//! panic, naming the package.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An ext2 image file, removed (with its scratch directory) when dropped.
#[derive(Debug)]
pub struct Ext2Image {
    directory: PathBuf,
    /// The image.
    pub path: PathBuf,
}

impl Ext2Image {
    /// An image of `size_mib` MiB in 4 KiB blocks holding a copy of the
    /// tree `source` (or nothing), named after `tag`.
    ///
    /// # Panics
    /// Without e2fsprogs, or if mke2fs fails.
    pub fn new(tag: &str, size_mib: u64, source: Option<&Path>) -> Ext2Image {
        let directory =
            std::env::temp_dir().join(format!("anykernel-ext2-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        std::fs::create_dir_all(&directory).expect("a scratch directory");
        let path = directory.join("disk.img");
        let mut command = Command::new(program("mke2fs"));
        command.args(["-q", "-F", "-t", "ext2", "-b", "4096"]);
        if let Some(source) = source {
            command.arg("-d").arg(source);
        }
        command.arg(&path).arg(format!("{size_mib}M"));
        let output = run(&mut command);
        assert!(output.status.success(), "mke2fs: {}", text(&output));
        Ext2Image { directory, path }
    }

    /// `e2fsck -fn`: whether it found nothing wrong, and what it said.
    pub fn check(&self) -> (bool, String) {
        let output = run(Command::new(program("e2fsck")).arg("-fn").arg(&self.path));
        (output.status.code() == Some(0), text(&output))
    }

    /// `e2fsck -fp` (preen: repair what is safe to repair): whether the
    /// file system is sound afterwards (exit 0 or 1), and what it said.
    pub fn repair(&self) -> (bool, String) {
        let output = run(Command::new(program("e2fsck")).arg("-fp").arg(&self.path));
        (matches!(output.status.code(), Some(0 | 1)), text(&output))
    }

    /// The superblock's state as `dumpe2fs -h` names it: "clean" after
    /// an unmount, "not clean" while (or if killed while) mounted
    /// read-write.
    pub fn state(&self) -> String {
        let output = run(Command::new(program("dumpe2fs")).arg("-h").arg(&self.path));
        assert!(output.status.success(), "dumpe2fs -h: {}", text(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let state = stdout
            .lines()
            .find_map(|line| line.strip_prefix("Filesystem state:"));
        state.map(str::trim).unwrap_or("(no state)").to_string()
    }

    /// The contents of `path` in the image, as `debugfs -R 'cat PATH'`
    /// reads them.
    pub fn cat(&self, path: &str) -> Vec<u8> {
        let request = format!("cat \"{path}\"");
        let output = run(Command::new(program("debugfs"))
            .args(["-R", &request])
            .arg(&self.path));
        assert!(
            output.status.success(),
            "debugfs cat {path}: {}",
            text(&output)
        );
        output.stdout
    }
}

impl Drop for Ext2Image {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// An e2fsprogs program: Debian keeps them in /sbin.
fn program(name: &str) -> PathBuf {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|directory| Path::new(directory).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!("{name} is missing: install e2fsprogs (`apt-get install e2fsprogs`)")
        })
}

fn run(command: &mut Command) -> Output {
    command.output().expect("an e2fsprogs program runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
