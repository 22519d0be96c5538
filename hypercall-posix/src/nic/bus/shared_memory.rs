//! The bus's only unsafe code: a MAP_SHARED file mapping seen as atomics.
//!
//! [`SharedMapping`] maps a file read-write and shared, and hands the
//! mapping out only as two slices of atomics that never overlap: the first
//! [`HEADER_BYTES`] as `AtomicU32` words (the futex and lock words need 32
//! bits), everything after as `AtomicU64` words. Other processes may write
//! any value at any time; with every access atomic that is a question of
//! values the caller validates, never of undefined behaviour (a data race).
//! Not guarded against: a process that truncates the file under a mapping
//! makes the next access raise SIGBUS (like shmif, the bus does not
//! protect against hostile nodes).
//!
//! The futex calls are shared (no FUTEX_PRIVATE_FLAG): the kernel keys them
//! by the file page, so waiters and wakers in different processes meet.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Duration;

/// The bytes seen as `AtomicU32` words at the start of a mapping.
pub(crate) const HEADER_BYTES: usize = 32;

/// A file mapped MAP_SHARED, read-write, unmapped on drop.
#[derive(Debug)]
pub(crate) struct SharedMapping {
    /// The start of the mapping (page-aligned, so aligned for `AtomicU64`).
    base: NonNull<u8>,
    /// Bytes mapped: at least [`HEADER_BYTES`], a multiple of 8, and no
    /// more than the file held when mapped.
    length: usize,
}

// SAFETY: the mapping is plain shared memory reached only through atomics
// (`header` and `body`), which any thread may use concurrently; the
// pointer is not tied to the thread that created it.
unsafe impl Send for SharedMapping {}
// SAFETY: as for `Send`: `&SharedMapping` gives out only `&[Atomic*]`.
unsafe impl Sync for SharedMapping {}

impl SharedMapping {
    /// Maps the first `length` bytes of `file` (opened read-write).
    ///
    /// # Errors
    /// `InvalidInput` if `length` is below [`HEADER_BYTES`], not a multiple
    /// of 8 or past the end of the file; the error of mmap(2) otherwise.
    pub(crate) fn map(file: &File, length: usize) -> io::Result<Self> {
        let file_length = file.metadata()?.len();
        let fits = u64::try_from(length).is_ok_and(|length| length <= file_length);
        if length < HEADER_BYTES || !length.is_multiple_of(8) || !fits {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let protection = libc::PROT_READ | libc::PROT_WRITE;
        // SAFETY: a fresh mapping at an address the kernel picks (null hint),
        // so no existing Rust object is affected; `file` is an open
        // descriptor for the duration of the call and `length` is non-zero
        // and within the file, so every mapped page is backed.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                length,
                protection,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if address == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(address.cast::<u8>()).ok_or(io::ErrorKind::OutOfMemory)?;
        Ok(Self { base, length })
    }

    /// The first [`HEADER_BYTES`] as 32-bit atomics.
    pub(crate) fn header(&self) -> &[AtomicU32] {
        // SAFETY: `base` is page-aligned and the mapping holds at least
        // HEADER_BYTES bytes (checked in `map`), live until `self` drops,
        // which outlives the returned borrow. The bytes are only ever
        // accessed through atomics of this size (see the module comment;
        // `body` starts after them), so concurrent access is not a data
        // race, and any bit pattern is a valid `AtomicU32`.
        unsafe {
            std::slice::from_raw_parts(self.base.as_ptr().cast::<AtomicU32>(), HEADER_BYTES / 4)
        }
    }

    /// Everything after the header as 64-bit atomics.
    pub(crate) fn body(&self) -> &[AtomicU64] {
        let words = (self.length - HEADER_BYTES) / 8;
        // SAFETY: HEADER_BYTES is a multiple of 8, so `base + HEADER_BYTES`
        // is 8-aligned; `words` 8-byte words fit in the `length` mapped
        // bytes after the header (`length` is a multiple of 8); the mapping
        // lives as long as `self`. Access is atomic only and never overlaps
        // `header`; any bit pattern is a valid `AtomicU64`.
        unsafe {
            let start = self.base.as_ptr().add(HEADER_BYTES).cast::<AtomicU64>();
            std::slice::from_raw_parts(start, words)
        }
    }
}

impl Drop for SharedMapping {
    fn drop(&mut self) {
        // SAFETY: `base`/`length` describe exactly the mapping made in
        // `map`; every borrow handed out by `header`/`body` borrowed `self`
        // and has ended, so nothing refers to the pages any more.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.length);
        }
    }
}

/// Sleeps while `word` holds `expected`, at most `timeout` (`None`:
/// without limit). Returns early on a wake, a signal, a changed value or
/// spuriously: callers re-check their condition.
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let limit = timeout.map(|timeout| libc::timespec {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(timeout.subsec_nanos()),
    });
    let limit_pointer = limit
        .as_ref()
        .map_or(std::ptr::null(), |limit| limit as *const libc::timespec);
    // SAFETY: FUTEX_WAIT only reads the aligned 32-bit word behind `word`
    // (a live atomic, so a concurrent change is fine) and the optional
    // timespec, which lives on this stack frame across the call.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            limit_pointer,
        );
    }
}

/// Wakes every thread of every process sleeping in [`futex_wait`] on `word`.
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE does not access memory; it only looks up waiters
    // keyed by the address of the live atomic `word`.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, i32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::run_with_deadline;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    fn scratch_file(length: u64) -> File {
        let path =
            std::env::temp_dir().join(format!("anykernel-mapping-{}-{length}", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .expect("temp file");
        std::fs::remove_file(&path).expect("unlinked, still open");
        file.set_len(length).expect("sized");
        file
    }

    #[test]
    fn two_mappings_of_one_file_see_each_others_writes() {
        let file = scratch_file(4096);
        let first = SharedMapping::map(&file, 4096).expect("mapped");
        let second = SharedMapping::map(&file, 4096).expect("mapped");
        assert_eq!(first.header().len(), 8);
        assert_eq!(first.body().len(), (4096 - 32) / 8);
        first.header()[3].store(7, Ordering::SeqCst);
        first.body()[10].store(u64::MAX, Ordering::SeqCst);
        assert_eq!(second.header()[3].load(Ordering::SeqCst), 7);
        assert_eq!(second.body()[10].load(Ordering::SeqCst), u64::MAX);
    }

    #[test]
    fn bad_lengths_are_refused() {
        let file = scratch_file(100);
        for length in [0, 31, 36, 104] {
            let error = SharedMapping::map(&file, length).expect_err("refused");
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{length}");
        }
    }

    #[test]
    fn futex_wait_returns_at_once_when_the_value_differs() {
        let word = AtomicU32::new(1);
        let waited = run_with_deadline(|| {
            let started = Instant::now();
            futex_wait(&word, 0, None);
            started.elapsed()
        });
        assert!(waited < Duration::from_secs(1), "waited {waited:?}");
    }

    #[test]
    fn futex_wait_ends_at_its_timeout() {
        let word = AtomicU32::new(1);
        let waited = run_with_deadline(|| {
            let started = Instant::now();
            futex_wait(&word, 1, Some(Duration::from_millis(20)));
            started.elapsed()
        });
        assert!(waited >= Duration::from_millis(20), "waited {waited:?}");
    }

    #[test]
    fn futex_wake_all_ends_a_wait_without_a_timeout() {
        let word = AtomicU32::new(0);
        let woken = AtomicBool::new(false);
        run_with_deadline(|| {
            std::thread::scope(|scope| {
                let waiter = scope.spawn(|| {
                    // A wake may come before the wait starts; the word
                    // then differs and the wait returns at once.
                    while word.load(Ordering::SeqCst) == 0 {
                        futex_wait(&word, 0, None);
                    }
                    woken.store(true, Ordering::SeqCst);
                });
                word.store(1, Ordering::SeqCst);
                futex_wake_all(&word);
                waiter.join().expect("the waiter does not panic");
            });
        });
        assert!(woken.load(Ordering::SeqCst));
    }
}
