//! Random hypercall: getrandom(2), falling back to `/dev/urandom`.
//!
//! getrandom may fill less than asked (large requests, signals) and may be
//! interrupted (EINTR); both just continue the loop. A kernel without the
//! system call (ENOSYS, before Linux 3.17) falls back to reading
//! `/dev/urandom`; if that cannot be opened either, the host has no source
//! at all. The loop is written against a source function so that tests can
//! play each of these cases.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use hypercall::{Random, RandomError};

use crate::Posix;

/// The device read when the system call is missing.
const FALLBACK_DEVICE: &str = "/dev/urandom";

/// What one call of a source did: filled this many bytes, or failed with
/// this errno.
type SourceResult = Result<usize, i32>;

/// Fills `buffer` by calling `source` on its unfilled tail until full.
/// `Ok(false)` says the source does not exist (ENOSYS).
fn fill_from(
    buffer: &mut [u8],
    mut source: impl FnMut(&mut [u8]) -> SourceResult,
) -> Result<bool, RandomError> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source(&mut buffer[filled..]) {
            Ok(0) => return Err(RandomError::SourceFailed),
            Ok(count) => filled += count,
            Err(libc::EINTR) => {}
            Err(libc::ENOSYS) => return Ok(false),
            Err(_) => return Err(RandomError::SourceFailed),
        }
    }
    Ok(true)
}

/// One getrandom(2) call into `tail`.
fn getrandom(tail: &mut [u8]) -> SourceResult {
    // SAFETY: the pointer and length describe `tail`, a live, exclusively
    // borrowed byte buffer that getrandom may write entirely; flags 0 asks
    // for the blocking urandom pool.
    let result = unsafe { libc::getrandom(tail.as_mut_ptr().cast(), tail.len(), 0) };
    usize::try_from(result).map_err(|_| std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

/// Fills `buffer` from the character device at `path`.
fn fill_from_device(path: &Path, buffer: &mut [u8]) -> Result<(), RandomError> {
    let mut device = File::open(path).map_err(|_| RandomError::Unavailable)?;
    device
        .read_exact(buffer)
        .map_err(|_| RandomError::SourceFailed)
}

/// Fills `buffer` from the best source there is (also for host-side uses
/// such as random MAC addresses).
pub(crate) fn fill(buffer: &mut [u8]) -> Result<(), RandomError> {
    if fill_from(buffer, getrandom)? {
        return Ok(());
    }
    fill_from_device(Path::new(FALLBACK_DEVICE), buffer)
}

impl Random for Posix {
    fn random_fill(&self, buffer: &mut [u8]) -> Result<(), RandomError> {
        fill(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PosixConfig;

    #[test]
    fn fills_differ_and_are_not_all_zero() {
        let posix = Posix::new(PosixConfig::default());
        let (mut first, mut second) = ([0u8; 64], [0u8; 64]);
        posix
            .random_fill(&mut first)
            .expect("getrandom works on Linux");
        posix
            .random_fill(&mut second)
            .expect("getrandom works on Linux");
        assert_ne!(first, second);
        assert!(first.iter().any(|&byte| byte != 0));
        posix
            .random_fill(&mut [])
            .expect("an empty fill is trivially done");
    }

    #[test]
    fn a_large_fill_covers_the_whole_buffer() {
        let posix = Posix::new(PosixConfig::default());
        let mut buffer = vec![0u8; 4 << 20];
        posix.random_fill(&mut buffer).expect("filled");
        // Any 64 KiB window being all zero has probability 2^-524288.
        assert!(
            buffer
                .chunks(64 * 1024)
                .all(|window| window.iter().any(|&byte| byte != 0))
        );
    }

    #[test]
    fn partial_fills_and_interruptions_continue() {
        let mut calls = 0;
        let mut buffer = [0u8; 10];
        let source = |tail: &mut [u8]| {
            calls += 1;
            if calls % 2 == 0 {
                return Err(libc::EINTR);
            }
            let count = tail.len().min(3);
            tail[..count].fill(calls as u8);
            Ok(count)
        };
        assert_eq!(fill_from(&mut buffer, source), Ok(true));
        assert_eq!(buffer, [1, 1, 1, 3, 3, 3, 5, 5, 5, 7]);
    }

    #[test]
    fn errors_fail_and_a_missing_syscall_asks_for_the_fallback() {
        let mut buffer = [0u8; 4];
        assert_eq!(
            fill_from(&mut buffer, |_| Err(libc::EFAULT)),
            Err(RandomError::SourceFailed)
        );
        assert_eq!(
            fill_from(&mut buffer, |_| Ok(0)),
            Err(RandomError::SourceFailed)
        );
        assert_eq!(fill_from(&mut buffer, |_| Err(libc::ENOSYS)), Ok(false));
    }

    #[test]
    fn the_fallback_device_reads_or_is_unavailable() {
        let mut buffer = [0u8; 32];
        fill_from_device(Path::new(FALLBACK_DEVICE), &mut buffer).expect("urandom exists");
        assert!(buffer.iter().any(|&byte| byte != 0));
        let missing = Path::new("/nonexistent/urandom");
        assert_eq!(
            fill_from_device(missing, &mut buffer),
            Err(RandomError::Unavailable)
        );
        let empty = Path::new("/dev/null");
        assert_eq!(
            fill_from_device(empty, &mut buffer),
            Err(RandomError::SourceFailed)
        );
    }
}
