//! The descriptor calls: close, close_range, dup, dup2, dup3, fcntl
//! (and fcntl64), ioctl.
//!
//! Each does to the placeholder what the program asked (so descriptor
//! numbers, FD_CLOEXEC and the file status flags behave as Linux's) and
//! keeps the table in step: a dup stands for the same remote socket, a
//! close or a dup over a descriptor ends what it stood for, and the
//! kernel's socket is closed with the last descriptor that stands for
//! it. O_NONBLOCK set with fcntl(F_SETFL) or ioctl(FIONBIO) goes to the
//! kernel's socket as well; FIONREAD asks the kernel what is queued.
//!
//! fcntl and ioctl are variadic in C. They are defined here with their
//! one optional argument as a plain third parameter: on x86_64 (System V
//! ABI) a variadic caller passes it in the same register, and every
//! command of theirs takes an integer or a pointer or nothing.

use core::ffi::{c_int, c_uint, c_ulong};

use anykernel_client::Stubs;

use super::done;
use crate::errno::{Errno, Result};
use crate::remote::{Remote, client};
use crate::{real, table};

/// close(2).
///
/// # Safety
/// None beyond close(2)'s.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    let remote = table::remove(fd);
    let was_remote = remote.is_some();
    drop(remote);
    // SAFETY: the program's descriptor, passed on.
    let closed = unsafe { real::close(fd) };
    crate::epoll::forget(fd);
    if was_remote {
        crate::trace::call("close", fd, closed as isize);
    }
    closed
}

/// close_range(2): the table forgets the range unless the call only sets
/// close-on-exec.
///
/// # Safety
/// None beyond close_range(2)'s.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int {
    // SAFETY: the program's arguments, passed on as the system call.
    let closed = unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) };
    if closed == 0 && flags & libc::CLOSE_RANGE_CLOEXEC as c_int == 0 {
        let first = c_int::try_from(first).unwrap_or(c_int::MAX);
        let last = c_int::try_from(last).unwrap_or(c_int::MAX);
        drop(table::remove_range(first, last));
        crate::epoll::forget_range(first, last);
    }
    closed as c_int
}

/// Makes `new` stand for what `source` stood for (or nothing) after a
/// successful dup onto it.
fn follow(source: Option<std::sync::Arc<Remote>>, new: c_int) {
    crate::epoll::forget(new);
    let previous = match source {
        Some(remote) => table::insert(new, remote),
        None => table::remove(new),
    };
    drop(previous);
}

/// dup(2).
///
/// # Safety
/// None beyond dup(2)'s.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn dup(fd: c_int) -> c_int {
    let source = table::get(fd);
    // SAFETY: the program's descriptor, passed on.
    let new = unsafe { real::dup(fd) };
    if new >= 0 && source.is_some() {
        follow(source, new);
    }
    new
}

/// dup2(2).
///
/// # Safety
/// None beyond dup2(2)'s.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn dup2(fd: c_int, new: c_int) -> c_int {
    let source = table::get(fd);
    // SAFETY: the program's descriptors, passed on.
    let result = unsafe { real::dup2(fd, new) };
    if result >= 0 && fd != new {
        follow(source, new);
    }
    result
}

/// dup3(2).
///
/// # Safety
/// None beyond dup3(2)'s.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn dup3(fd: c_int, new: c_int, flags: c_int) -> c_int {
    let source = table::get(fd);
    // SAFETY: the program's arguments, passed on.
    let result = unsafe { real::dup3(fd, new, flags) };
    if result >= 0 {
        follow(source, new);
    }
    result
}

/// fcntl(2), with its optional argument (see the module's note).
///
/// # Safety
/// `argument` is what fcntl(2) requires for `command`.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn fcntl(fd: c_int, command: c_int, argument: c_ulong) -> c_int {
    // SAFETY: the caller's arguments.
    unsafe { file_control(fd, command, argument, real::fcntl) }
}

/// fcntl64: what fcntl is called in programs built with 64-bit file
/// offsets (Python, for one) since glibc 2.28; the same on x86_64.
///
/// # Safety
/// As [`fcntl`].
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn fcntl64(fd: c_int, command: c_int, argument: c_ulong) -> c_int {
    // SAFETY: the caller's arguments.
    unsafe { file_control(fd, command, argument, real::fcntl64) }
}

/// fcntl with `pass` as the C library's function.
///
/// # Safety
/// As [`fcntl`].
unsafe fn file_control(
    fd: c_int,
    command: c_int,
    argument: c_ulong,
    pass: unsafe fn(c_int, c_int, c_ulong) -> c_int,
) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { pass(fd, command, argument) };
    };
    if command == libc::F_SETFL {
        let on = argument as c_int & libc::O_NONBLOCK != 0;
        if let Err(errno) = remote.set_nonblocking(on) {
            return done("fcntl", fd, Err(errno));
        }
    }
    // SAFETY: the program's arguments, on the placeholder.
    let result = unsafe { pass(fd, command, argument) };
    if result >= 0 && matches!(command, libc::F_DUPFD | libc::F_DUPFD_CLOEXEC) {
        follow(Some(remote), result);
    }
    result
}

/// ioctl(2), with its optional argument (see the module's note).
///
/// # Safety
/// `argument` is what ioctl(2) requires for `request`.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn ioctl(fd: c_int, request: c_ulong, argument: c_ulong) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::ioctl(fd, request, argument) };
    };
    match request {
        libc::FIONBIO => {
            // SAFETY: FIONBIO's argument points to an int.
            let on = unsafe { read_int(argument) };
            if let Err(errno) = on.and_then(|on| remote.set_nonblocking(on != 0)) {
                return done("ioctl", fd, Err(errno));
            }
            // SAFETY: as above; the placeholder's flags are F_GETFL's.
            unsafe { real::ioctl(fd, request, argument) }
        }
        libc::FIONREAD => {
            let count = queued(&remote);
            // SAFETY: FIONREAD's argument points to an int.
            let result = count.and_then(|count| unsafe { write_int(argument, count) });
            done("ioctl", fd, result.map(|()| 0))
        }
        // SAFETY: the program's arguments, on the placeholder.
        _ => unsafe { real::ioctl(fd, request, argument) },
    }
}

/// # Safety
/// `argument` is null or points to an int.
unsafe fn read_int(argument: c_ulong) -> Result<c_int> {
    let pointer = argument as *const c_int;
    if pointer.is_null() {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: the caller's int.
    Ok(unsafe { pointer.read_unaligned() })
}

/// # Safety
/// `argument` is null or points to an int.
unsafe fn write_int(argument: c_ulong, value: c_int) -> Result<()> {
    let pointer = argument as *mut c_int;
    if pointer.is_null() {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: the caller's int.
    unsafe { pointer.write_unaligned(value) };
    Ok(())
}

/// Bytes waiting to be read on `remote` (FIONREAD), from the kernel's
/// socket listing: the entry with this socket's kind and addresses.
fn queued(remote: &Remote) -> Result<c_int> {
    let client = client()?;
    let local = canonical(client.local_address(remote.descriptor)?);
    let peer = client.peer_address(remote.descriptor).ok().map(canonical);
    let sockets = client.sockets()?;
    let found = sockets.iter().find(|socket| {
        socket.kind == remote.kind
            && canonical(socket.local) == local
            && socket.peer.map(canonical) == peer
    });
    let count = found.map_or(0, |socket| socket.receive_queue);
    c_int::try_from(count).map_err(|_| Errno(libc::EOVERFLOW))
}

/// An address with IPv4-mapped IPv6 written as IPv4.
fn canonical(address: core::net::SocketAddr) -> core::net::SocketAddr {
    crate::address::outward(address, crate::remote::Family::Inet)
}
