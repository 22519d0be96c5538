//! The image file as the ext2 driver's block device (512-byte sectors).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use ext2::{BlockDevice, IoError};

/// Sector size of the image device.
const SECTOR: u64 = 512;

/// An image file, read with `pread` and written with `pwrite`.
#[derive(Debug)]
pub struct ImageFile {
    file: File,
    sectors: u64,
}

impl ImageFile {
    /// Opens `path` for reading, and for writing if `write`.
    pub fn open(path: &Path, write: bool) -> std::io::Result<Self> {
        let file = OpenOptions::new().read(true).write(write).open(path)?;
        let sectors = file.metadata()?.len() / SECTOR;
        Ok(Self { file, sectors })
    }
}

impl BlockDevice for ImageFile {
    fn block_size(&self) -> usize {
        SECTOR as usize
    }

    fn block_count(&self) -> u64 {
        self.sectors
    }

    fn read(&self, block: u64, buf: &mut [u8]) -> Result<(), IoError> {
        self.file
            .read_exact_at(buf, block * SECTOR)
            .map_err(|_| IoError)
    }

    fn write(&self, block: u64, buf: &[u8]) -> Result<(), IoError> {
        self.file
            .write_all_at(buf, block * SECTOR)
            .map_err(|_| IoError)
    }

    fn flush(&self) -> Result<(), IoError> {
        self.file.sync_data().map_err(|_| IoError)
    }
}
