//! Which of the program's descriptors stand for remote sockets.
//!
//! A remote socket gets a real local descriptor, a *placeholder* (an
//! unbound AF_UNIX datagram socket of Linux's, so `fstat` says socket and
//! a call we do not intercept fails rather than succeeds on the wrong
//! thing), and this table maps that number to the [`Remote`]. Every hook
//! asks it about every descriptor, the program's files and the library's
//! own connection included, so the common answer, "not remote", takes no
//! lock: a bit per descriptor below 65,536, set while the number may
//! be in the map. That also keeps the hooks for local descriptors free of
//! locks a signal handler could find held.
//!
//! The map is only locked to look up, insert or remove; a [`Remote`]
//! taken out is dropped (closing the kernel's socket, which writes to the
//! connection through the `write` hook) after the lock is released.

use core::ffi::c_int;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::remote::Remote;

/// Descriptors below this have a mark bit; above it the map is asked.
const MARKED: usize = 64 * 1024;

static MARKS: [AtomicU64; MARKED / 64] = [const { AtomicU64::new(0) }; MARKED / 64];

static MAP: RwLock<BTreeMap<c_int, Arc<Remote>>> = RwLock::new(BTreeMap::new());

/// The word and bit of `fd`'s mark, if it has one.
fn mark_of(fd: c_int) -> Option<(&'static AtomicU64, u64)> {
    let index = usize::try_from(fd).ok().filter(|&index| index < MARKED)?;
    Some((&MARKS[index / 64], 1 << (index % 64)))
}

/// The remote socket `fd` stands for, if any.
pub fn get(fd: c_int) -> Option<Arc<Remote>> {
    if fd < 0 {
        return None;
    }
    if let Some((word, bit)) = mark_of(fd)
        && word.load(Ordering::Acquire) & bit == 0
    {
        return None;
    }
    let map = MAP.read().unwrap_or_else(PoisonError::into_inner);
    map.get(&fd).cloned()
}

/// Whether no descriptor stands for a remote socket.
pub fn is_empty() -> bool {
    MAP.read()
        .unwrap_or_else(PoisonError::into_inner)
        .is_empty()
}

/// Whether `fd` stands for a remote socket.
pub fn is_remote(fd: c_int) -> bool {
    get(fd).is_some()
}

/// Makes `fd` stand for `remote`; returns what it stood for before.
pub fn insert(fd: c_int, remote: Arc<Remote>) -> Option<Arc<Remote>> {
    if let Some((word, bit)) = mark_of(fd) {
        word.fetch_or(bit, Ordering::AcqRel);
    }
    let mut map = MAP.write().unwrap_or_else(PoisonError::into_inner);
    map.insert(fd, remote)
}

/// Makes `fd` local again; returns what it stood for.
pub fn remove(fd: c_int) -> Option<Arc<Remote>> {
    if fd < 0 {
        return None;
    }
    let mut map = MAP.write().unwrap_or_else(PoisonError::into_inner);
    let removed = map.remove(&fd);
    if let Some((word, bit)) = mark_of(fd) {
        word.fetch_and(!bit, Ordering::AcqRel);
    }
    removed
}

/// Makes `first..=last` local again; returns what they stood for.
pub fn remove_range(first: c_int, last: c_int) -> Vec<Arc<Remote>> {
    if first > last {
        return Vec::new();
    }
    let mut map = MAP.write().unwrap_or_else(PoisonError::into_inner);
    let fds: Vec<c_int> = map.range(first..=last).map(|(fd, _)| *fd).collect();
    let removed = fds.iter().filter_map(|fd| map.remove(fd)).collect();
    for fd in fds {
        if let Some((word, bit)) = mark_of(fd) {
            word.fetch_and(!bit, Ordering::AcqRel);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::Family;
    use anykernel_client::proto::types::{Descriptor, SocketKind};

    /// A remote that was never opened; leaked, since dropping one would
    /// ask the (absent) kernel to close it.
    fn unopened(number: u32) -> Arc<Remote> {
        let remote = Arc::new(Remote::adopt(
            Descriptor(number),
            SocketKind::Stream,
            Family::Inet,
        ));
        std::mem::forget(remote.clone());
        remote
    }

    #[test]
    fn descriptors_are_local_until_inserted_and_after_removal() {
        for fd in [7, 70_000] {
            assert!(!is_remote(fd));
            assert!(insert(fd, unopened(1)).is_none());
            assert_eq!(get(fd).map(|remote| remote.descriptor), Some(Descriptor(1)));
            let replaced = insert(fd, unopened(2)).expect("the first one");
            assert_eq!(replaced.descriptor, Descriptor(1));
            std::mem::forget(replaced);
            let removed = remove(fd).expect("the second one");
            assert_eq!(removed.descriptor, Descriptor(2));
            std::mem::forget(removed);
            assert!(!is_remote(fd));
        }
        assert!(!is_remote(-1));
        assert!(remove(-1).is_none());
    }
}
