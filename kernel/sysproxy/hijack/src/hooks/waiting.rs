//! The waiting calls: poll, ppoll, select, pselect. With no remote
//! descriptor among theirs they are Linux's, unchanged; otherwise
//! [`crate::poll`] answers them. epoll's are in [`super::epoll`].
//!
//! ppoll and pselect set the program's signal mask for the wait and put
//! the old one back after it; unlike the system calls they do not do
//! both at once, so a signal that arrives just before the wait is taken
//! only when it ends.

use core::ffi::c_int;
use std::time::Duration;

use libc::{fd_set, nfds_t, pollfd, sigset_t, timespec, timeval};

use super::done;
use crate::errno::{Errno, Result};
use crate::io::slice_of_mut;
use crate::poll::{self, Limit};
use crate::real;
use crate::select::Sets;

/// poll(2).
///
/// # Safety
/// `fds` is valid for `count` pollfds.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn poll(fds: *mut pollfd, count: nfds_t, timeout: c_int) -> c_int {
    // SAFETY: the caller's array.
    let slice = unsafe { slice_of_mut(fds, count as usize) };
    match slice {
        Ok(slice) if poll::any_remote(slice) => {
            let ready = poll::poll(slice, Limit::of_milliseconds(timeout));
            done("poll", -1, ready.map(|ready| ready as c_int))
        }
        // SAFETY: the program's arguments, passed on.
        _ => unsafe { real::poll(fds, count, timeout) },
    }
}

/// The limit of a `timespec` (null: none).
///
/// # Safety
/// `timeout` is null or valid.
pub(super) unsafe fn limit_of(timeout: *const timespec) -> Result<Limit> {
    // SAFETY: the caller's timespec.
    let Some(timeout) = (unsafe { timeout.as_ref() }) else {
        return Ok(Limit(None));
    };
    let seconds = u64::try_from(timeout.tv_sec).map_err(|_| Errno(libc::EINVAL));
    let nanoseconds = u32::try_from(timeout.tv_nsec).map_err(|_| Errno(libc::EINVAL))?;
    Ok(Limit::of(Some(Duration::new(seconds?, nanoseconds))))
}

/// Runs `wait` with the signal mask `mask` (if any) in force.
///
/// # Safety
/// `mask` is null or a valid signal set.
pub(super) unsafe fn masked<T>(mask: *const sigset_t, wait: impl FnOnce() -> T) -> T {
    if mask.is_null() {
        return wait();
    }
    // SAFETY: sigset_t is plain data; pthread_sigmask fills it.
    let mut old: sigset_t = unsafe { core::mem::zeroed() };
    // SAFETY: the caller's mask and our `old`.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, mask, &mut old) };
    let result = wait();
    // SAFETY: the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, core::ptr::null_mut()) };
    result
}

/// ppoll(2).
///
/// # Safety
/// `fds` is valid for `count` pollfds; `timeout` and `mask` are null or valid.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn ppoll(
    fds: *mut pollfd,
    count: nfds_t,
    timeout: *const timespec,
    mask: *const sigset_t,
) -> c_int {
    // SAFETY: the caller's array.
    let slice = unsafe { slice_of_mut(fds, count as usize) };
    match slice {
        Ok(slice) if poll::any_remote(slice) => {
            // SAFETY: the caller's timeout and mask.
            let ready = unsafe { limit_of(timeout) }
                .and_then(|limit| unsafe { masked(mask, || poll::poll(slice, limit)) });
            done("ppoll", -1, ready.map(|ready| ready as c_int))
        }
        // SAFETY: the program's arguments, passed on.
        _ => unsafe { real::ppoll(fds, count, timeout, mask) },
    }
}

/// select(2); the timeout is left holding the time that was left.
///
/// # Safety
/// The sets are null or valid; `timeout` is null or valid.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn select(
    count: c_int,
    read: *mut fd_set,
    write: *mut fd_set,
    except: *mut fd_set,
    timeout: *mut timeval,
) -> c_int {
    let sets = Sets {
        count,
        read,
        write,
        except,
    };
    // SAFETY: the caller's sets.
    let mut fds = unsafe { sets.pollfds() };
    if !poll::any_remote(&fds) {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::select(count, read, write, except, timeout) };
    }
    // SAFETY: the caller's timeval.
    let limit = match unsafe { timeout.as_ref() } {
        None => Ok(Limit(None)),
        Some(timeout) => microseconds(timeout).map(|us| Limit::of(Some(Duration::from_micros(us)))),
    };
    let ready = limit.and_then(|limit| {
        let ready = poll::poll(&mut fds, limit);
        // SAFETY: the caller's timeval.
        if let Some(timeout) = unsafe { timeout.as_mut() } {
            let left = limit.left_ms().unwrap_or(0) * 1000;
            timeout.tv_sec = (left / 1_000_000) as libc::time_t;
            timeout.tv_usec = (left % 1_000_000) as libc::suseconds_t;
        }
        ready
    });
    // SAFETY: the caller's sets.
    let result = ready.and_then(|_| unsafe { sets.answer(&fds) });
    done("select", -1, result)
}

fn microseconds(timeout: &timeval) -> Result<u64> {
    let seconds = u64::try_from(timeout.tv_sec).map_err(|_| Errno(libc::EINVAL))?;
    let micros = u64::try_from(timeout.tv_usec).map_err(|_| Errno(libc::EINVAL))?;
    Ok(seconds.saturating_mul(1_000_000).saturating_add(micros))
}

/// pselect(2).
///
/// # Safety
/// The sets are null or valid; `timeout` and `mask` are null or valid.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn pselect(
    count: c_int,
    read: *mut fd_set,
    write: *mut fd_set,
    except: *mut fd_set,
    timeout: *const timespec,
    mask: *const sigset_t,
) -> c_int {
    let sets = Sets {
        count,
        read,
        write,
        except,
    };
    // SAFETY: the caller's sets.
    let mut fds = unsafe { sets.pollfds() };
    if !poll::any_remote(&fds) {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::pselect(count, read, write, except, timeout, mask) };
    }
    // SAFETY: the caller's timeout and mask.
    let ready = unsafe { limit_of(timeout) }
        .and_then(|limit| unsafe { masked(mask, || poll::poll(&mut fds, limit)) });
    // SAFETY: the caller's sets.
    let result = ready.and_then(|_| unsafe { sets.answer(&fds) });
    done("pselect", -1, result)
}
