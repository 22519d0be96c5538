//! Positioned vectored I/O: a request's segments in one `preadv`/`pwritev`.
//!
//! std has no positioned vectored calls on stable, so these call libc's
//! on slices of std's `IoSlice`/`IoSliceMut` (ABI-compatible with
//! `iovec` on Unix, std's documented guarantee). A short transfer goes on
//! from where it stopped (`advance_slices`), as `read_exact_at` does; an
//! end of file before the last byte is an error, and so is any other.

#![allow(unsafe_code, reason = "preadv and pwritev on std's iovec slices")]

use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::AsRawFd;

/// The most iovecs one call takes (Linux's `IOV_MAX`).
const IOV_MAX: usize = 1024;

/// Fills `segments` in order from `offset` of `file`.
///
/// # Errors
/// The host's error, or `UnexpectedEof` when the file ends first.
pub(super) fn read_at(file: &File, segments: &mut [Vec<u8>], mut offset: u64) -> io::Result<()> {
    let mut slices: Vec<IoSliceMut<'_>> = segments.iter_mut().map(|s| IoSliceMut::new(s)).collect();
    let mut left = &mut slices[..];
    IoSliceMut::advance_slices(&mut left, 0);
    while !left.is_empty() {
        let count = left.len().min(IOV_MAX) as libc::c_int;
        let at = libc::off_t::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: `left` is `count` or more live iovecs (IoSliceMut's
        // guarantee) over segments borrowed exclusively for this call.
        let done = unsafe { libc::preadv(file.as_raw_fd(), left.as_ptr().cast(), count, at) };
        let done = transferred(done)?;
        offset += done as u64;
        IoSliceMut::advance_slices(&mut left, done);
    }
    Ok(())
}

/// Writes `segments` in order from `offset` of `file`.
///
/// # Errors
/// The host's error, or `WriteZero` when nothing more could be written.
pub(super) fn write_at(file: &File, segments: &[Vec<u8>], mut offset: u64) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = segments.iter().map(|s| IoSlice::new(s)).collect();
    let mut left = &mut slices[..];
    IoSlice::advance_slices(&mut left, 0);
    while !left.is_empty() {
        let count = left.len().min(IOV_MAX) as libc::c_int;
        let at = libc::off_t::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: `left` is `count` or more live iovecs (IoSlice's
        // guarantee) over segments borrowed for this call.
        let done = unsafe { libc::pwritev(file.as_raw_fd(), left.as_ptr().cast(), count, at) };
        let done = match transferred(done) {
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(io::ErrorKind::WriteZero.into());
            }
            other => other?,
        };
        offset += done as u64;
        IoSlice::advance_slices(&mut left, done);
    }
    Ok(())
}

/// The bytes a call moved: an error for -1 (retried by the caller's loop
/// when interrupted: 0 bytes then) or for 0 (the end of the file).
fn transferred(result: isize) -> io::Result<usize> {
    match result {
        -1 => match io::Error::last_os_error() {
            error if error.kind() == io::ErrorKind::Interrupted => Ok(0),
            error => Err(error),
        },
        0 => Err(io::ErrorKind::UnexpectedEof.into()),
        done => Ok(done as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(name: &str, bytes: &[u8]) -> (File, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        std::fs::write(&path, bytes).expect("written");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path);
        (file.expect("opened"), path)
    }

    #[test]
    fn segments_of_odd_sizes_read_and_write_in_order() {
        let bytes: Vec<u8> = (0..=255).cycle().take(4096).collect();
        let (file, path) = file_with("anykernel-vectored", &bytes);
        let mut segments = vec![vec![0; 3], Vec::new(), vec![0; 1000], vec![0; 1]];
        read_at(&file, &mut segments, 7).expect("read");
        assert_eq!(segments.concat(), bytes[7..1011]);
        write_at(&file, &[vec![1; 5], vec![2; 2]], 4090).expect("write");
        let mut tail = vec![vec![0; 8]];
        read_at(&file, &mut tail, 4089).expect("read");
        assert_eq!(tail[0], [bytes[4089], 1, 1, 1, 1, 1, 2, 2]);
        let mut past = vec![vec![0; 8], vec![0; 8]];
        let error = read_at(&file, &mut past, 4090).expect_err("past the end");
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        let _ = std::fs::remove_file(path);
    }
}
