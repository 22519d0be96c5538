//! The hosted appliance stops in order on SIGTERM: with an ext2 disk
//! mounted read-write (its upload directory made on it), the kernel shuts
//! down, the disk is unmounted, and the image is clean for e2fsck -fn with
//! its superblock marked clean (no `e2fsck -p` needed); the process exits
//! with 0. Needs e2fsprogs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// How long the appliance may take to say ready, or to stop.
const DEADLINE: Duration = Duration::from_secs(30);

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The appliance process, killed if the test ends before it does.
struct Appliance(Child);

impl Drop for Appliance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn program(name: &str) -> PathBuf {
    ["/usr/sbin", "/sbin", "/usr/bin"]
        .iter()
        .map(|directory| Path::new(directory).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} is missing: install e2fsprogs"))
}

fn output(program_name: &str, args: &[&str], image: &Path) -> (bool, String) {
    let output = Command::new(program(program_name))
        .args(args)
        .arg(image)
        .output()
        .expect("e2fsprogs run");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), text)
}

/// The superblock's state as dumpe2fs names it (`clean`, `not clean`).
fn state(image: &Path) -> String {
    let (_, text) = output("dumpe2fs", &["-h"], image);
    let line = text
        .lines()
        .find(|line| line.starts_with("Filesystem state:"));
    let line = line.unwrap_or_else(|| panic!("no state in {text}"));
    line["Filesystem state:".len()..].trim().to_owned()
}

/// The lines the appliance writes to standard error, as they come.
fn lines(child: &mut Child) -> Receiver<String> {
    let stderr = child.stderr.take().expect("piped");
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

/// Collects lines into `log` until one contains `text`; false at the deadline.
fn wait_for_line(lines: &Receiver<String>, log: &mut String, text: &str) -> bool {
    let deadline = Instant::now() + DEADLINE;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = lines.recv_timeout(left) else {
            return false;
        };
        log.push_str(&line);
        log.push('\n');
        if line.contains(text) {
            return true;
        }
    }
    false
}

#[test]
fn sigterm_stops_the_appliance_with_its_disk_unmounted_clean() {
    let scratch = Scratch(std::env::temp_dir().join(format!("app-stop-{}", std::process::id())));
    let source = scratch.0.join("site");
    std::fs::create_dir_all(&source).expect("a site");
    std::fs::write(source.join("index.html"), b"<h1>hello</h1>\n").expect("a file");
    let image = scratch.0.join("image");
    let made = Command::new(program("mke2fs"))
        .args(["-q", "-F", "-t", "ext2", "-d"])
        .arg(&source)
        .arg(&image)
        .arg("8M")
        .status()
        .expect("mke2fs runs");
    assert!(made.success());
    let child = Command::new(env!("CARGO_BIN_EXE_anykernel"))
        .arg("--disk")
        .arg(&image)
        .arg("http.writable=1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the appliance starts");
    let mut appliance = Appliance(child);
    let lines = lines(&mut appliance.0);
    let mut log = String::new();
    assert!(wait_for_line(&lines, &mut log, "anykernel: ready"), "{log}");
    assert_eq!(state(&image), "not clean", "mounted read-write: {log}");

    let pid = appliance.0.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(sent.expect("kill runs").success());
    assert!(
        wait_for_line(&lines, &mut log, "anykernel: stopped"),
        "{log}"
    );
    let status = appliance.0.wait().expect("the appliance ends");
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("vfs: ext2 unmounted from /www"), "{log}");
    let (clean, report) = output("e2fsck", &["-fn"], &image);
    assert!(clean, "e2fsck -fn: {report}");
    assert_eq!(state(&image), "clean");
    let (_, listing) = output("debugfs", &["-R", "ls /"], &image);
    assert!(listing.contains("tmp"), "the upload directory: {listing}");
}
