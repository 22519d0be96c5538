//! The data calls: read, write, readv, writev, send, recv, sendto,
//! recvfrom, sendmsg, recvmsg; remote when their descriptor is (see
//! [`crate::io`] for what a call carries and when a write blocks).
//!
//! Control messages (ancillary data) are not carried: a sendmsg with
//! some fails with EOPNOTSUPP, and recvmsg returns none.

use core::ffi::{c_int, c_void};

use anykernel_client::proto::types::MessageFlags;
use libc::{iovec, msghdr, size_t, sockaddr, socklen_t, ssize_t};

use super::done_size;
use crate::errno::{Errno, Result};
use crate::io::{self, slice_of, slice_of_mut};
use crate::remote::Remote;
use crate::{address, real, table};

/// read(2).
///
/// # Safety
/// `buffer` is valid for writing `count` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn read(fd: c_int, buffer: *mut c_void, count: size_t) -> ssize_t {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::read(fd, buffer, count) };
    };
    // SAFETY: the caller's buffer.
    let buffer = unsafe { slice_of_mut(buffer.cast::<u8>(), count) };
    let result = buffer.and_then(|buffer| io::receive(&remote, buffer, MessageFlags::default()));
    done_size("read", fd, result)
}

/// write(2).
///
/// # Safety
/// `buffer` is valid for reading `count` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn write(fd: c_int, buffer: *const c_void, count: size_t) -> ssize_t {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::write(fd, buffer, count) };
    };
    // SAFETY: the caller's buffer.
    let data = unsafe { slice_of(buffer.cast::<u8>(), count) };
    let flags = MessageFlags::default();
    let result = data.and_then(|data| io::send(&remote, data, None, flags, false));
    done_size("write", fd, result)
}

/// readv(2).
///
/// # Safety
/// `vectors` is valid for `count` iovecs, each valid for writing.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn readv(fd: c_int, vectors: *const iovec, count: c_int) -> ssize_t {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::readv(fd, vectors, count) };
    };
    let count = usize::try_from(count).map_err(|_| Errno(libc::EINVAL));
    // SAFETY: the caller's vectors.
    let result = count.and_then(|count| unsafe { receive_into(&remote, vectors, count, 0) });
    done_size("readv", fd, result.map(|(count, _)| count))
}

/// writev(2).
///
/// # Safety
/// `vectors` is valid for `count` iovecs, each valid for reading.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn writev(fd: c_int, vectors: *const iovec, count: c_int) -> ssize_t {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::writev(fd, vectors, count) };
    };
    let count = usize::try_from(count).map_err(|_| Errno(libc::EINVAL));
    // SAFETY: the caller's vectors.
    let data = count.and_then(|count| unsafe { io::gather(vectors, count) });
    let flags = MessageFlags::default();
    let result = data.and_then(|data| io::send(&remote, &data, None, flags, false));
    done_size("writev", fd, result)
}

/// send(2).
///
/// # Safety
/// `buffer` is valid for reading `count` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn send(
    fd: c_int,
    buffer: *const c_void,
    count: size_t,
    flags: c_int,
) -> ssize_t {
    // SAFETY: the caller's arguments, as sendto takes them.
    unsafe { sendto(fd, buffer, count, flags, core::ptr::null(), 0) }
}

/// recv(2).
///
/// # Safety
/// `buffer` is valid for writing `count` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn recv(
    fd: c_int,
    buffer: *mut c_void,
    count: size_t,
    flags: c_int,
) -> ssize_t {
    let (address, length) = (core::ptr::null_mut(), core::ptr::null_mut());
    // SAFETY: the caller's arguments, as recvfrom takes them.
    unsafe { recvfrom(fd, buffer, count, flags, address, length) }
}

/// sendto(2); a stream socket ignores the address, as Linux's TCP does.
///
/// # Safety
/// `buffer` is valid for `count` bytes, `address` for `length` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn sendto(
    fd: c_int,
    buffer: *const c_void,
    count: size_t,
    flags: c_int,
    address: *const sockaddr,
    length: socklen_t,
) -> ssize_t {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::sendto(fd, buffer, count, flags, address, length) };
    };
    // SAFETY: the caller's buffer and address.
    let result = unsafe { send_from(&remote, buffer.cast(), count, flags, address, length) };
    done_size("sendto", fd, result)
}

/// # Safety
/// As [`sendto`].
unsafe fn send_from(
    remote: &Remote,
    buffer: *const u8,
    count: usize,
    flags: c_int,
    address: *const sockaddr,
    length: socklen_t,
) -> Result<usize> {
    let message_flags = io::flags(flags)?;
    let datagram = remote.kind == anykernel_client::proto::types::SocketKind::Datagram;
    let to = match address.is_null() || !datagram {
        true => None,
        // SAFETY: the caller's address.
        false => Some(unsafe { address::read(address, length, remote.family)? }),
    };
    // SAFETY: the caller's buffer.
    let data = unsafe { slice_of(buffer, count)? };
    let no_signal = flags & libc::MSG_NOSIGNAL != 0;
    io::send(remote, data, to, message_flags, no_signal)
}

/// recvfrom(2); a stream socket reports no address (length 0).
///
/// # Safety
/// `buffer` is valid for `count` bytes; `address` is null or `length`
/// valid and `address` valid for `*length` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn recvfrom(
    fd: c_int,
    buffer: *mut c_void,
    count: size_t,
    flags: c_int,
    address: *mut sockaddr,
    length: *mut socklen_t,
) -> ssize_t {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::recvfrom(fd, buffer, count, flags, address, length) };
    };
    let vector = iovec {
        iov_base: buffer,
        iov_len: count,
    };
    // SAFETY: one vector over the caller's buffer.
    let received = unsafe { receive_into(&remote, &vector, 1, flags) };
    // SAFETY: the caller's address buffer and length.
    let result = received.and_then(|(count, from)| unsafe {
        report(&remote, from, address, length)?;
        Ok(count)
    });
    done_size("recvfrom", fd, result)
}

/// Receives into `count` vectors: the byte count and the sender.
///
/// # Safety
/// `vectors` is valid for `count` iovecs, each valid for writing.
unsafe fn receive_into(
    remote: &Remote,
    vectors: *const iovec,
    count: usize,
    flags: c_int,
) -> Result<(usize, Option<core::net::SocketAddr>)> {
    let message_flags = io::flags(flags)?;
    // SAFETY: the caller's vectors.
    let mut buffer = vec![0; unsafe { io::room(vectors, count)? }];
    let (received, from) = io::receive_from(remote, &mut buffer, message_flags)?;
    // SAFETY: as above.
    unsafe { io::scatter(&buffer[..received], vectors, count)? };
    Ok((received, from))
}

/// Writes the sender `from` for the program (none: length 0).
///
/// # Safety
/// `address` is null or `length` valid and `address` valid for `*length`.
unsafe fn report(
    remote: &Remote,
    from: Option<core::net::SocketAddr>,
    address: *mut sockaddr,
    length: *mut socklen_t,
) -> Result<()> {
    match from {
        // SAFETY: the caller's buffer and length.
        Some(from) => unsafe { address::write(from, remote.family, address, length) },
        None if !length.is_null() => {
            // SAFETY: the caller's length.
            unsafe { length.write(0) };
            Ok(())
        }
        None => Ok(()),
    }
}

/// sendmsg(2), without control messages.
///
/// # Safety
/// `message` is a valid msghdr whose name and vectors are valid.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn sendmsg(fd: c_int, message: *const msghdr, flags: c_int) -> ssize_t {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::sendmsg(fd, message, flags) };
    };
    // SAFETY: the caller's message.
    let result = unsafe { send_message(&remote, message, flags) };
    done_size("sendmsg", fd, result)
}

/// # Safety
/// As [`sendmsg`].
unsafe fn send_message(remote: &Remote, message: *const msghdr, flags: c_int) -> Result<usize> {
    // SAFETY: the caller's message header.
    let message = unsafe { message.as_ref() }.ok_or(Errno(libc::EFAULT))?;
    if message.msg_controllen != 0 {
        return Err(Errno(libc::EOPNOTSUPP));
    }
    // SAFETY: the caller's vectors.
    let data = unsafe { io::gather(message.msg_iov, message.msg_iovlen)? };
    let name = message.msg_name.cast::<sockaddr>().cast_const();
    // SAFETY: the caller's name of `msg_namelen` bytes.
    unsafe {
        send_from(
            remote,
            data.as_ptr(),
            data.len(),
            flags,
            name,
            message.msg_namelen,
        )
    }
}

/// recvmsg(2), without control messages.
///
/// # Safety
/// `message` is a valid msghdr whose name and vectors are valid.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn recvmsg(fd: c_int, message: *mut msghdr, flags: c_int) -> ssize_t {
    let Some(remote) = table::get(fd) else {
        // SAFETY: the program's arguments, passed on.
        return unsafe { real::recvmsg(fd, message, flags) };
    };
    // SAFETY: the caller's message.
    let result = unsafe { receive_message(&remote, message, flags) };
    done_size("recvmsg", fd, result)
}

/// # Safety
/// As [`recvmsg`].
unsafe fn receive_message(remote: &Remote, message: *mut msghdr, flags: c_int) -> Result<usize> {
    // SAFETY: the caller's message header.
    let message = unsafe { message.as_mut() }.ok_or(Errno(libc::EFAULT))?;
    // SAFETY: the caller's vectors.
    let (count, from) =
        unsafe { receive_into(remote, message.msg_iov, message.msg_iovlen, flags)? };
    if !message.msg_name.is_null() {
        let name = message.msg_name.cast::<sockaddr>();
        // SAFETY: the caller's name buffer of `msg_namelen` bytes.
        unsafe { report(remote, from, name, &mut message.msg_namelen)? };
    }
    message.msg_controllen = 0;
    message.msg_flags = 0;
    Ok(count)
}
