//! The socket calls: socket, connect, bind, listen, accept, accept4,
//! shutdown, getsockname, getpeername, setsockopt, getsockopt.
//!
//! `socket` decides: AF_INET and AF_INET6 stream (TCP) and datagram
//! (UDP) sockets are opened in the kernel and given a placeholder
//! descriptor ([`crate::table`]); every other kind stays Linux's. The
//! other calls go to the kernel when their descriptor is remote.

use core::ffi::{c_int, c_void};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use anykernel_client::Stubs;
use anykernel_client::proto::types::{Direction, MessageFlags, SocketKind};
use libc::{sockaddr, socklen_t};

use super::done;
use crate::errno::{self, Errno, Result};
use crate::remote::{Family, Remote, Timeout, client};
use crate::{address, options, real, table};

/// The flags `socket` and `accept4` take besides the type.
const DESCRIPTOR_FLAGS: c_int = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;

/// The kind of socket the kernel serves for these arguments, if it does.
fn served(domain: c_int, kind: c_int, protocol: c_int) -> Option<(Family, SocketKind)> {
    let family = Family::of_domain(domain)?;
    match (kind & !DESCRIPTOR_FLAGS, protocol) {
        (libc::SOCK_STREAM, 0 | libc::IPPROTO_TCP) => Some((family, SocketKind::Stream)),
        (libc::SOCK_DGRAM, 0 | libc::IPPROTO_UDP) => Some((family, SocketKind::Datagram)),
        _ => None,
    }
}

/// A local descriptor to stand for `remote`, with SOCK_NONBLOCK and
/// SOCK_CLOEXEC from `flags`; `remote` is closed if there is none.
fn stand_in(remote: Remote, flags: c_int) -> Result<c_int> {
    remote.set_nonblocking(flags & libc::SOCK_NONBLOCK != 0)?;
    let kind = libc::SOCK_DGRAM | (flags & DESCRIPTOR_FLAGS);
    // SAFETY: socket(2) with constant, valid arguments.
    let fd = errno::check(unsafe { real::socket(libc::AF_UNIX, kind, 0) })?;
    let previous = table::insert(fd, Arc::new(remote));
    drop(previous);
    Ok(fd)
}

/// socket(2): remote for TCP and UDP over IPv4 and IPv6.
///
/// # Safety
/// None beyond socket(2)'s.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn socket(domain: c_int, kind: c_int, protocol: c_int) -> c_int {
    let Some((family, served)) = served(domain, kind, protocol) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::socket(domain, kind, protocol) };
    };
    let result = Remote::open(served, family).and_then(|remote| stand_in(remote, kind));
    done("socket", -1, result)
}

/// connect(2).
///
/// # Safety
/// `address` is valid for `length` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn connect(fd: c_int, address: *const sockaddr, length: socklen_t) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::connect(fd, address, length) };
    };
    // SAFETY: the caller's address.
    let target = unsafe { address::read(address, length, remote.family) };
    let result = target.and_then(|target| Ok(client()?.connect(remote.descriptor, target)?));
    done("connect", fd, result.map(|()| 0))
}

/// bind(2).
///
/// # Safety
/// `address` is valid for `length` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn bind(fd: c_int, address: *const sockaddr, length: socklen_t) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::bind(fd, address, length) };
    };
    // SAFETY: the caller's address.
    let local = unsafe { address::read(address, length, remote.family) };
    let result = local.and_then(|local| Ok(client()?.bind(remote.descriptor, local)?));
    done("bind", fd, result.map(|()| 0))
}

/// listen(2); a negative backlog is the kernel's default, as Linux's.
///
/// # Safety
/// None beyond listen(2)'s.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn listen(fd: c_int, backlog: c_int) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::listen(fd, backlog) };
    };
    let backlog = u32::try_from(backlog).unwrap_or(libc::SOMAXCONN as u32);
    let result = client().and_then(|client| Ok(client.listen(remote.descriptor, backlog)?));
    if result.is_ok() {
        remote.listening.store(true, Relaxed);
    }
    done("listen", fd, result.map(|()| 0))
}

/// accept(2).
///
/// # Safety
/// `address` is null or `length` valid and `address` valid for `*length` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn accept(
    fd: c_int,
    address: *mut sockaddr,
    length: *mut socklen_t,
) -> c_int {
    // SAFETY: the caller's arguments, as accept4 takes them.
    unsafe { accept4(fd, address, length, 0) }
}

/// accept4(2): the new socket is remote too, with `flags`.
///
/// # Safety
/// As [`accept`].
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn accept4(
    fd: c_int,
    address: *mut sockaddr,
    length: *mut socklen_t,
    flags: c_int,
) -> c_int {
    let Some(listener) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::accept4(fd, address, length, flags) };
    };
    if flags & !DESCRIPTOR_FLAGS != 0 {
        return done("accept4", fd, Err(Errno(libc::EINVAL)));
    }
    let limited = crate::io::within_timeout(&listener, Timeout::Receive, MessageFlags::default());
    let accepted = limited.and_then(|()| Ok(client()?.accept(listener.descriptor)?));
    let result = accepted.and_then(|(descriptor, peer)| {
        let remote = Remote::adopt(descriptor, SocketKind::Stream, listener.family);
        let new = stand_in(remote, flags)?;
        // SAFETY: the caller's buffer and length.
        unsafe { address::write(peer, listener.family, address, length)? };
        Ok(new)
    });
    done("accept", fd, result)
}

/// shutdown(2).
///
/// # Safety
/// None beyond shutdown(2)'s.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn shutdown(fd: c_int, how: c_int) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::shutdown(fd, how) };
    };
    let direction = match how {
        libc::SHUT_RD => Ok(Direction::Read),
        libc::SHUT_WR => Ok(Direction::Write),
        libc::SHUT_RDWR => Ok(Direction::Both),
        _ => Err(Errno(libc::EINVAL)),
    };
    let result = direction.and_then(|how| Ok(client()?.shutdown(remote.descriptor, how)?));
    done("shutdown", fd, result.map(|()| 0))
}

/// getsockname(2).
///
/// # Safety
/// `length` is valid and `address` valid for `*length` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn getsockname(
    fd: c_int,
    address: *mut sockaddr,
    length: *mut socklen_t,
) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::getsockname(fd, address, length) };
    };
    let found = client().and_then(|client| Ok(client.local_address(remote.descriptor)?));
    // SAFETY: the caller's buffer and length.
    let result = found.and_then(|found| unsafe { written(found, &remote, address, length) });
    done("getsockname", fd, result)
}

/// getpeername(2).
///
/// # Safety
/// As [`getsockname`].
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn getpeername(
    fd: c_int,
    address: *mut sockaddr,
    length: *mut socklen_t,
) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::getpeername(fd, address, length) };
    };
    let found = client().and_then(|client| Ok(client.peer_address(remote.descriptor)?));
    // SAFETY: the caller's buffer and length.
    let result = found.and_then(|found| unsafe { written(found, &remote, address, length) });
    done("getpeername", fd, result)
}

/// Writes `found` for the program; EFAULT without a buffer.
///
/// # Safety
/// As [`address::write`].
unsafe fn written(
    found: core::net::SocketAddr,
    remote: &Remote,
    address: *mut sockaddr,
    length: *mut socklen_t,
) -> Result<c_int> {
    if address.is_null() || length.is_null() {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: the caller's buffer and length.
    unsafe { address::write(found, remote.family, address, length) }.map(|()| 0)
}

/// setsockopt(2).
///
/// # Safety
/// `value` is valid for `length` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn setsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *const c_void,
    length: socklen_t,
) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::setsockopt(fd, level, name, value, length) };
    };
    // SAFETY: the caller's value.
    let result = unsafe { options::set(&remote, level, name, value, length) };
    done("setsockopt", fd, result.map(|()| 0))
}

/// getsockopt(2).
///
/// # Safety
/// `length` is valid and `value` valid for `*length` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn getsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *mut c_void,
    length: *mut socklen_t,
) -> c_int {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::getsockopt(fd, level, name, value, length) };
    };
    // SAFETY: the caller's buffer and length.
    let result = unsafe { options::get(&remote, level, name, value, length) };
    done("getsockopt", fd, result.map(|()| 0))
}
