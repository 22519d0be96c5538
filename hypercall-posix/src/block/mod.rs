//! Block device hypercalls: host files as the kernel's disks.
//!
//! The devices are the [`DiskSpec`]s of [`crate::PosixConfig::disks`]
//! (`--disk PATH[,ro]` on the command line, `ANYKERNEL_DISKS` in the
//! environment), named by their paths, in order. [`crate::Posix`] always
//! offers the group (`block_devices()` is `Some`, with no devices when no
//! spec is configured). Each open opens the file afresh; a failed open
//! writes the reason to the kernel's console and returns `Unavailable`.
//!
//! | module | what |
//! | --- | --- |
//! | `spec` | `PATH[,ro][,fail=FIRST-LAST]` parsing |
//! | `file` | the device: a request queue served by worker threads |
//! | `vectored` | `preadv`/`pwritev` of a request's segments |

mod file;
mod spec;
mod vectored;

use hypercall::{BlockDevice, BlockDevices, BlockError, Console};

use crate::Posix;

pub use file::{BLOCK_SIZE, FileDisk, MAX_SEGMENTS, QUEUE_DEPTH, WORKERS};
pub use spec::{DiskSpec, DiskSpecError, DiskSpecErrorKind};

impl BlockDevices for Posix {
    fn block_names(&self) -> Vec<String> {
        self.disks.iter().map(DiskSpec::name).collect()
    }

    fn block_open(&self, name: &str) -> Result<Box<dyn BlockDevice>, BlockError> {
        let spec = self
            .disks
            .iter()
            .find(|spec| spec.name() == name)
            .ok_or(BlockError::NoDevice)?;
        match FileDisk::open(spec) {
            Ok(disk) => Ok(Box::new(disk)),
            Err(error) => {
                let line = format!("hypercall-posix: disk {}: {error}\n", spec.path.display());
                self.console_write(line.as_bytes());
                Err(BlockError::Unavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests;
