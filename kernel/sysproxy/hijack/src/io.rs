//! Data to and from remote sockets: what read, write, send, recv and
//! their vector and message forms come down to.
//!
//! One call carries at most [`MAX_DATA`] bytes. A write to a blocking
//! stream socket sends everything, as Linux's does, in as many calls as
//! it takes; on a non-blocking one it stops at the first call that takes
//! less than it was given. A read returns what one call brings (a short
//! read, as sockets have them). A send that finds the connection closed
//! raises SIGPIPE unless the program said MSG_NOSIGNAL, as Linux does.

use core::ffi::c_int;
use core::net::SocketAddr;

use anykernel_client::Stubs;
use anykernel_client::proto::MAX_DATA;
use anykernel_client::proto::types::{Bytes, MessageFlags, PollEntry, SocketKind, poll};

use crate::errno::{Errno, Result};
use crate::remote::{Remote, Timeout, client};

/// The send and recv flags a remote socket takes: MSG_DONTWAIT,
/// MSG_WAITALL and MSG_PEEK go to the kernel, MSG_NOSIGNAL, MSG_MORE,
/// MSG_EOR and MSG_CMSG_CLOEXEC change nothing here; MSG_OOB and the rest
/// are not supported.
pub fn flags(flags: c_int) -> Result<MessageFlags> {
    let ignored = libc::MSG_NOSIGNAL | libc::MSG_MORE | libc::MSG_EOR | libc::MSG_CMSG_CLOEXEC;
    let known = libc::MSG_DONTWAIT | libc::MSG_WAITALL | libc::MSG_PEEK | ignored;
    if flags & !known != 0 {
        return Err(Errno(libc::EOPNOTSUPP));
    }
    Ok(MessageFlags {
        dont_wait: flags & libc::MSG_DONTWAIT != 0,
        wait_all: flags & libc::MSG_WAITALL != 0,
        peek: flags & libc::MSG_PEEK != 0,
    })
}

/// Receives into `buffer`: at most one call's worth; 0 at end of stream.
///
/// # Errors
/// The kernel's errno (EAGAIN when non-blocking and nothing is there).
pub fn receive(remote: &Remote, buffer: &mut [u8], flags: MessageFlags) -> Result<usize> {
    if buffer.is_empty() && remote.kind == SocketKind::Stream {
        return Ok(0);
    }
    within_timeout(remote, Timeout::Receive, flags)?;
    let length = buffer.len().min(MAX_DATA) as u32;
    let data = client()?.receive(remote.descriptor, length, flags)?;
    let count = data.0.len().min(buffer.len());
    buffer[..count].copy_from_slice(&data.0[..count]);
    Ok(count)
}

/// Receives one datagram (or, on a stream, some bytes) and its sender.
///
/// # Errors
/// The kernel's errno.
pub fn receive_from(
    remote: &Remote,
    buffer: &mut [u8],
    flags: MessageFlags,
) -> Result<(usize, Option<SocketAddr>)> {
    if remote.kind == SocketKind::Stream {
        return Ok((receive(remote, buffer, flags)?, None));
    }
    within_timeout(remote, Timeout::Receive, flags)?;
    let length = buffer.len().min(MAX_DATA) as u32;
    let (data, from) = client()?.receive_from(remote.descriptor, length, flags)?;
    let count = data.0.len().min(buffer.len());
    buffer[..count].copy_from_slice(&data.0[..count]);
    Ok((count, Some(from)))
}

/// Whether `remote` has one of `events` (or an error or hang-up) within
/// `milliseconds`.
fn ready(remote: &Remote, events: u8, milliseconds: u64) -> Result<bool> {
    let entry = PollEntry {
        fd: remote.descriptor,
        events,
    };
    let bits = client()?.poll(vec![entry], Some(milliseconds))?;
    Ok(bits.first().is_some_and(|bits| *bits != 0))
}

/// Waits, for a blocking call on `remote` with the time limit `which`
/// set, until the call would not block: EAGAIN when the limit passes
/// first (SO_RCVTIMEO, SO_SNDTIMEO). Without a limit, or for a call
/// that does not wait, nothing.
///
/// # Errors
/// EAGAIN, or the kernel's errno.
pub fn within_timeout(remote: &Remote, which: Timeout, flags: MessageFlags) -> Result<()> {
    let Some(limit) = remote.timeout(which) else {
        return Ok(());
    };
    if flags.dont_wait || remote.is_nonblocking() {
        return Ok(());
    }
    let events = match which {
        Timeout::Receive => poll::READABLE,
        Timeout::Send => poll::WRITABLE,
    };
    let milliseconds = u64::try_from(limit.as_micros().div_ceil(1000)).unwrap_or(u64::MAX);
    match ready(remote, events, milliseconds)? {
        true => Ok(()),
        false => Err(Errno(libc::EAGAIN)),
    }
}

/// Sends `data` on a connected socket (or to `to`, a datagram).
///
/// # Errors
/// The kernel's errno; EPIPE (after SIGPIPE unless `no_signal`).
pub fn send(
    remote: &Remote,
    data: &[u8],
    to: Option<SocketAddr>,
    flags: MessageFlags,
    no_signal: bool,
) -> Result<usize> {
    within_timeout(remote, Timeout::Send, flags)?;
    let sent = match (remote.kind, to) {
        (SocketKind::Datagram, Some(address)) => send_to(remote, data, address),
        (SocketKind::Datagram, None) => send_once(remote, data, flags),
        (SocketKind::Stream, _) => send_stream(remote, data, flags),
    };
    if sent == Err(Errno(libc::EPIPE)) && !no_signal {
        // SAFETY: raise(3) with a valid signal number.
        unsafe { libc::raise(libc::SIGPIPE) };
    }
    sent
}

fn send_to(remote: &Remote, data: &[u8], address: SocketAddr) -> Result<usize> {
    let data = Bytes(data.to_vec());
    Ok(client()?.send_to(remote.descriptor, data, address)? as usize)
}

fn send_once(remote: &Remote, data: &[u8], flags: MessageFlags) -> Result<usize> {
    let data = Bytes(data.to_vec());
    Ok(client()?.send(remote.descriptor, data, flags)? as usize)
}

/// A stream's send, call by call: all of it unless non-blocking.
fn send_stream(remote: &Remote, data: &[u8], flags: MessageFlags) -> Result<usize> {
    let mut sent = 0;
    for chunk in data.chunks(MAX_DATA) {
        match send_once(remote, chunk, flags) {
            Ok(count) if count == chunk.len() => sent += count,
            Ok(count) => return Ok(sent + count),
            Err(_) if sent > 0 => return Ok(sent),
            Err(errno) => return Err(errno),
        }
    }
    Ok(sent)
}

/// The bytes of `count` I/O vectors at `vectors`, gathered.
///
/// # Safety
/// `vectors` is valid for `count` iovecs, each valid for its length.
pub unsafe fn gather(vectors: *const libc::iovec, count: usize) -> Result<Vec<u8>> {
    // SAFETY: the caller's array.
    let vectors = unsafe { slice_of(vectors, count)? };
    let mut data = Vec::new();
    for vector in vectors {
        // SAFETY: the caller's buffer of `iov_len` bytes.
        let part = unsafe { slice_of(vector.iov_base.cast::<u8>(), vector.iov_len)? };
        data.extend_from_slice(part);
    }
    Ok(data)
}

/// Copies `data` into `count` I/O vectors at `vectors`, in order.
///
/// # Safety
/// `vectors` is valid for `count` iovecs, each valid for writing.
pub unsafe fn scatter(data: &[u8], vectors: *const libc::iovec, count: usize) -> Result<()> {
    // SAFETY: the caller's array.
    let vectors = unsafe { slice_of(vectors, count)? };
    let mut rest = data;
    for vector in vectors {
        let take = rest.len().min(vector.iov_len);
        // SAFETY: the caller's buffer has room for `iov_len` >= `take`.
        unsafe { core::ptr::copy_nonoverlapping(rest.as_ptr(), vector.iov_base.cast(), take) };
        rest = &rest[take..];
    }
    Ok(())
}

/// The room of `count` I/O vectors, capped at what one call carries.
///
/// # Safety
/// `vectors` is valid for `count` iovecs.
pub unsafe fn room(vectors: *const libc::iovec, count: usize) -> Result<usize> {
    // SAFETY: the caller's array.
    let vectors = unsafe { slice_of(vectors, count)? };
    Ok(vectors
        .iter()
        .map(|vector| vector.iov_len)
        .sum::<usize>()
        .min(MAX_DATA))
}

/// `count` values at `pointer` as a slice (empty for a count of 0).
///
/// # Safety
/// `pointer` is null or valid for `count` values.
pub unsafe fn slice_of<'a, T>(pointer: *const T, count: usize) -> Result<&'a [T]> {
    match (pointer.is_null(), count) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(Errno(libc::EFAULT)),
        // SAFETY: the caller's pointer, valid for `count` values.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts(pointer, count) }),
    }
}

/// `count` values at `pointer` as a mutable slice.
///
/// # Safety
/// `pointer` is null or valid for writing `count` values, and not aliased.
pub unsafe fn slice_of_mut<'a, T>(pointer: *mut T, count: usize) -> Result<&'a mut [T]> {
    match (pointer.is_null(), count) {
        (_, 0) => Ok(&mut []),
        (true, _) => Err(Errno(libc::EFAULT)),
        // SAFETY: the caller's pointer, valid for `count` values.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts_mut(pointer, count) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_the_kernel_has_pass_and_others_are_refused() {
        let both = flags(libc::MSG_DONTWAIT | libc::MSG_WAITALL | libc::MSG_NOSIGNAL).unwrap();
        assert!(both.dont_wait && both.wait_all && !both.peek);
        assert!(flags(libc::MSG_PEEK).unwrap().peek);
        assert_eq!(flags(libc::MSG_OOB), Err(Errno(libc::EOPNOTSUPP)));
        assert_eq!(flags(0).unwrap(), MessageFlags::default());
    }

    #[test]
    fn vectors_gather_and_scatter_in_order() {
        let mut first = *b"abc";
        let mut second = *b"defgh";
        let vectors = [
            libc::iovec {
                iov_base: first.as_mut_ptr().cast(),
                iov_len: 3,
            },
            libc::iovec {
                iov_base: second.as_mut_ptr().cast(),
                iov_len: 5,
            },
        ];
        // SAFETY: the vectors describe the two arrays.
        assert_eq!(unsafe { gather(vectors.as_ptr(), 2) }.unwrap(), b"abcdefgh");
        // SAFETY: as above.
        assert_eq!(unsafe { room(vectors.as_ptr(), 2) }.unwrap(), 8);
        // SAFETY: as above.
        unsafe { scatter(b"1234", vectors.as_ptr(), 2) }.unwrap();
        assert_eq!((&first, &second), (b"123", b"4efgh"));
        // SAFETY: a null array with a count is refused before use.
        let null = unsafe { gather(core::ptr::null(), 1) };
        assert_eq!(null, Err(Errno(libc::EFAULT)));
    }
}
