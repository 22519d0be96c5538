//! Disks for a QEMU guest: an image file behind a virtio-blk device.
//!
//! One [`Disk`] becomes a `-drive` (raw format, no interface of its own)
//! and a virtio-blk device on it: `virtio-blk-pci` on q35 and pc (modern
//! only, as the guest's driver is), `virtio-blk-device` on microvm's
//! virtio-mmio. The guest names them `vblk0`, `vblk1`, … in the order
//! its buses list them. A disk can be read-only, and can sit behind
//! QEMU's `blkdebug` driver, whose rules inject I/O errors (e.g. on every
//! flush) so that tests see the guest handle them.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::machine::Machine;

/// An image file the guest sees as a virtio disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disk {
    /// The image (raw bytes; its length is the disk's).
    pub path: PathBuf,
    /// The guest may not write it (the device offers RO).
    pub read_only: bool,
    /// A `blkdebug` rules file in front of the image.
    pub blkdebug: Option<PathBuf>,
}

impl Disk {
    /// A writable disk on `path`.
    pub fn new(path: impl Into<PathBuf>) -> Disk {
        Disk {
            path: path.into(),
            read_only: false,
            blkdebug: None,
        }
    }

    /// The same disk, read-only.
    pub fn read_only(mut self) -> Disk {
        self.read_only = true;
        self
    }

    /// The same disk behind `blkdebug` with the rules in `config`.
    pub fn blkdebug(mut self, config: impl Into<PathBuf>) -> Disk {
        self.blkdebug = Some(config.into());
        self
    }

    /// The `-drive` and `-device` arguments of disk `index` on `machine`.
    pub(crate) fn arguments(&self, index: usize, machine: Machine) -> Vec<OsString> {
        let id = format!("d{index}");
        let mut drive = OsString::from("file=");
        if let Some(config) = &self.blkdebug {
            drive.push("blkdebug:");
            drive.push(escaped(config));
            drive.push(":");
        }
        drive.push(escaped(&self.path));
        // Errors go to the guest as failed requests (not a paused VM).
        drive.push(format!(
            ",if=none,id={id},format=raw,werror=report,rerror=report"
        ));
        if self.read_only {
            drive.push(",readonly=on");
        }
        let device = match machine {
            Machine::Microvm => format!("virtio-blk-device,drive={id}"),
            Machine::Q35 | Machine::Pc => format!("virtio-blk-pci,drive={id},disable-legacy=on"),
        };
        vec!["-drive".into(), drive, "-device".into(), device.into()]
    }
}

/// `path` with its commas doubled, as QEMU's option syntax wants.
pub(crate) fn escaped(path: &std::path::Path) -> OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let mut bytes = Vec::new();
    for &byte in path.as_os_str().as_bytes() {
        bytes.push(byte);
        if byte == b',' {
            bytes.push(b',');
        }
    }
    OsString::from_vec(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(disk: &Disk, machine: Machine) -> Vec<String> {
        let arguments = disk.arguments(1, machine);
        arguments
            .iter()
            .map(|word| word.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn a_disk_is_a_drive_and_a_virtio_device_of_the_machine() {
        let disk = Disk::new("/tmp/a,b.img");
        assert_eq!(
            words(&disk, Machine::Q35),
            [
                "-drive",
                "file=/tmp/a,,b.img,if=none,id=d1,format=raw,werror=report,rerror=report",
                "-device",
                "virtio-blk-pci,drive=d1,disable-legacy=on"
            ]
        );
        let microvm = words(&disk.clone().read_only(), Machine::Microvm);
        assert_eq!(
            microvm[1],
            "file=/tmp/a,,b.img,if=none,id=d1,format=raw,werror=report,rerror=report,readonly=on"
        );
        assert_eq!(microvm[3], "virtio-blk-device,drive=d1");
    }

    #[test]
    fn blkdebug_goes_in_front_of_the_image() {
        let disk = Disk::new("/tmp/d.img").blkdebug("/tmp/rules.conf");
        let line = words(&disk, Machine::Q35);
        assert!(
            line[1]
                .starts_with("file=blkdebug:/tmp/rules.conf:/tmp/d.img,if=none,id=d1,format=raw"),
            "{line:?}"
        );
    }
}
