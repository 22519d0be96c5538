//! anykernel-fs on an image made by Linux's mke2fs: every command, then
//! Linux's e2fsck must find the image clean (its superblock marked clean,
//! no repair needed) and debugfs must read what the tool wrote. Needs
//! e2fsprogs (it fails naming the package without).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn e2fsprogs(name: &str) -> PathBuf {
    ["/usr/sbin", "/sbin"]
        .iter()
        .map(|directory| Path::new(directory).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} is missing: install the Debian package e2fsprogs"))
}

fn tool(image: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anykernel-fs"))
        .arg(image)
        .args(args)
        .output()
        .expect("anykernel-fs runs")
}

/// Runs the tool and returns its standard output, asserting success.
fn ok(image: &Path, args: &[&str]) -> String {
    let output = tool(image, args);
    assert!(
        output.status.success(),
        "anykernel-fs {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn assert_clean(image: &Path) {
    let output = Command::new(e2fsprogs("e2fsck"))
        .arg("-fn")
        .arg(image)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// The superblock's state as dumpe2fs names it (`clean`, `not clean`).
fn state(image: &Path) -> String {
    let output = Command::new(e2fsprogs("dumpe2fs"))
        .arg("-h")
        .arg(image)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let line = text
        .lines()
        .find(|line| line.starts_with("Filesystem state:"));
    let line = line.unwrap_or_else(|| panic!("no state in {text}"));
    line["Filesystem state:".len()..].trim().to_string()
}

fn debugfs_cat(image: &Path, path: &str) -> Vec<u8> {
    let request = format!("cat {path}");
    let mut command = Command::new(e2fsprogs("debugfs"));
    command.args(["-R", &request]).arg(image);
    command.output().unwrap().stdout
}

#[test]
fn every_command_works_on_a_mke2fs_image_and_leaves_it_clean() {
    let scratch =
        Scratch(std::env::temp_dir().join(format!("anykernel-fs-{}", std::process::id())));
    let source = scratch.0.join("source");
    std::fs::create_dir_all(source.join("www/img")).unwrap();
    std::fs::write(source.join("www/index.html"), b"<h1>hello</h1>\n").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(source.join("www/img/big.bin"), &big).unwrap();
    let image = scratch.0.join("image");
    let made = Command::new(e2fsprogs("mke2fs"))
        .args(["-q", "-F", "-t", "ext2", "-d"])
        .arg(&source)
        .arg(&image)
        .arg("8M")
        .status()
        .unwrap();
    assert!(made.success());
    let before = std::fs::read(&image).unwrap();

    let listing = ok(&image, &["ls", "/www"]);
    assert!(
        listing.contains("index.html") && listing.contains("img"),
        "{listing}"
    );
    assert_eq!(ok(&image, &["cat", "www/index.html"]), "<h1>hello</h1>\n");
    assert!(ok(&image, &["stat", "/www/img/big.bin"]).contains("Size: 300000"));
    assert!(ok(&image, &["df"]).contains("1K-blocks"));
    assert_eq!(
        std::fs::read(&image).unwrap(),
        before,
        "reading changed the image"
    );

    let copied = scratch.0.join("copied");
    ok(&image, &["get", "/www", copied.to_str().unwrap()]);
    assert_eq!(std::fs::read(copied.join("img/big.bin")).unwrap(), big);

    ok(&image, &["mkdir", "-p", "/site/assets"]);
    ok(
        &image,
        &["put", source.join("www").to_str().unwrap(), "/site"],
    );
    ok(&image, &["mv", "/site/www/index.html", "/site/home.html"]);
    ok(&image, &["rm", "-r", "/site/www/img"]);
    ok(&image, &["rm", "/www/index.html"]);
    let missing = tool(&image, &["cat", "/www/index.html"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ENOENT"));
    let not_empty = tool(&image, &["rm", "/site"]);
    assert!(String::from_utf8_lossy(&not_empty.stderr).contains("ENOTEMPTY"));
    assert_eq!(tool(&image, &["frobnicate"]).status.code(), Some(2));

    assert_clean(&image);
    assert_eq!(state(&image), "clean");
    assert_eq!(debugfs_cat(&image, "/site/home.html"), b"<h1>hello</h1>\n");
    assert_eq!(debugfs_cat(&image, "/www/img/big.bin"), big);
    let listing = ok(&image, &["ls", "/site/www"]);
    assert!(listing.trim().is_empty(), "{listing}");

    let garbage = scratch.0.join("garbage");
    std::fs::write(&garbage, vec![0x5a; 1 << 20]).unwrap();
    let refused = tool(&garbage, &["put", source.to_str().unwrap(), "/"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("no ext2 magic number"), "{message}");
    assert!(std::fs::read(&garbage).unwrap() == vec![0x5a; 1 << 20]);
}
