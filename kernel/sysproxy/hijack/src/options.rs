//! setsockopt and getsockopt on remote sockets: the options the kernel
//! has, and those the library answers itself.
//!
//! The kernel's options (SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE,
//! SO_BROADCAST, SO_RCVBUF, SO_SNDBUF, SO_LINGER, SO_ERROR, TCP_NODELAY,
//! IPV6_V6ONLY) go to it; SO_TYPE, SO_DOMAIN, SO_PROTOCOL and
//! SO_ACCEPTCONN are what the program opened and did; SO_RCVTIMEO and
//! SO_SNDTIMEO are kept here and served by waiting before the call
//! ([`crate::io::within_timeout`]). Everything else (TCP_KEEPIDLE, IP_TOS,
//! …) fails with ENOPROTOOPT, which programs such as curl take as "not
//! here" and go on.

use core::ffi::{c_int, c_void};
use core::mem::size_of;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anykernel_client::Stubs;
use anykernel_client::proto::types::{OptionName, SocketKind, SocketOption};

use crate::errno::{Errno, Result};
use crate::remote::{Remote, Timeout, client};

/// What an option of the program's is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// One of the kernel's.
    Kernel(OptionName),
    /// SO_TYPE.
    Type,
    /// SO_DOMAIN.
    Domain,
    /// SO_PROTOCOL.
    Protocol,
    /// SO_ACCEPTCONN.
    AcceptConnections,
    /// SO_RCVTIMEO or SO_SNDTIMEO.
    Timeout(Timeout),
}

fn known(level: c_int, name: c_int) -> Option<Known> {
    use OptionName as O;
    Some(match (level, name) {
        (libc::SOL_SOCKET, libc::SO_REUSEADDR) => Known::Kernel(O::ReuseAddress),
        (libc::SOL_SOCKET, libc::SO_REUSEPORT) => Known::Kernel(O::ReusePort),
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE) => Known::Kernel(O::KeepAlive),
        (libc::SOL_SOCKET, libc::SO_BROADCAST) => Known::Kernel(O::Broadcast),
        (libc::SOL_SOCKET, libc::SO_RCVBUF) => Known::Kernel(O::ReceiveBuffer),
        (libc::SOL_SOCKET, libc::SO_SNDBUF) => Known::Kernel(O::SendBuffer),
        (libc::SOL_SOCKET, libc::SO_LINGER) => Known::Kernel(O::Linger),
        (libc::SOL_SOCKET, libc::SO_ERROR) => Known::Kernel(O::Error),
        (libc::IPPROTO_TCP, libc::TCP_NODELAY) => Known::Kernel(O::NoDelay),
        (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY) => Known::Kernel(O::V6Only),
        (libc::SOL_SOCKET, libc::SO_TYPE) => Known::Type,
        (libc::SOL_SOCKET, libc::SO_DOMAIN) => Known::Domain,
        (libc::SOL_SOCKET, libc::SO_PROTOCOL) => Known::Protocol,
        (libc::SOL_SOCKET, libc::SO_ACCEPTCONN) => Known::AcceptConnections,
        (libc::SOL_SOCKET, libc::SO_RCVTIMEO) => Known::Timeout(Timeout::Receive),
        (libc::SOL_SOCKET, libc::SO_SNDTIMEO) => Known::Timeout(Timeout::Send),
        _ => return None,
    })
}

/// The kernel's option `name` set from the program's `value` bytes.
fn decode(name: OptionName, value: &[u8]) -> Result<SocketOption> {
    use OptionName as O;
    if name == O::Linger {
        let linger: libc::linger = read_value(value)?;
        let seconds = u32::try_from(linger.l_linger).unwrap_or(0);
        return Ok(SocketOption::Linger(
            (linger.l_onoff != 0).then_some(seconds),
        ));
    }
    let number: c_int = read_value(value)?;
    let on = number != 0;
    let bytes = u32::try_from(number).unwrap_or(0);
    Ok(match name {
        O::ReuseAddress => SocketOption::ReuseAddress(on),
        O::ReusePort => SocketOption::ReusePort(on),
        O::KeepAlive => SocketOption::KeepAlive(on),
        O::Broadcast => SocketOption::Broadcast(on),
        O::NoDelay => SocketOption::NoDelay(on),
        O::V6Only => SocketOption::V6Only(on),
        O::ReceiveBuffer => SocketOption::ReceiveBuffer(bytes),
        O::SendBuffer => SocketOption::SendBuffer(bytes),
        O::NonBlocking | O::Error | O::Linger => return Err(Errno(libc::ENOPROTOOPT)),
    })
}

/// The kernel's `option` as the program's value bytes.
fn encode(option: SocketOption) -> Vec<u8> {
    let flag = |on: bool| c_int::from(on).to_ne_bytes().to_vec();
    let number = |value: u32| {
        c_int::try_from(value)
            .unwrap_or(c_int::MAX)
            .to_ne_bytes()
            .to_vec()
    };
    match option {
        SocketOption::NonBlocking(on)
        | SocketOption::ReuseAddress(on)
        | SocketOption::KeepAlive(on)
        | SocketOption::NoDelay(on)
        | SocketOption::Broadcast(on)
        | SocketOption::ReusePort(on)
        | SocketOption::V6Only(on) => flag(on),
        SocketOption::ReceiveBuffer(bytes) | SocketOption::SendBuffer(bytes) => number(bytes),
        SocketOption::Error(errno) => {
            let value = errno.map_or(0, |errno| Errno::from(errno).0);
            value.to_ne_bytes().to_vec()
        }
        SocketOption::Linger(linger) => {
            let seconds =
                linger.map_or(0, |seconds| c_int::try_from(seconds).unwrap_or(c_int::MAX));
            let value = [c_int::from(linger.is_some()), seconds];
            value.iter().flat_map(|part| part.to_ne_bytes()).collect()
        }
    }
}

fn read_value<T: Copy>(value: &[u8]) -> Result<T> {
    if value.len() < size_of::<T>() {
        return Err(Errno(libc::EINVAL));
    }
    // SAFETY: `value` holds at least size_of::<T>() bytes, and `T` here
    // is c_int, libc::linger or libc::timeval, for which any bytes are a value.
    Ok(unsafe { value.as_ptr().cast::<T>().read_unaligned() })
}

/// setsockopt(2) on `remote`.
///
/// # Safety
/// `value` is valid for reading `length` bytes.
pub unsafe fn set(
    remote: &Remote,
    level: c_int,
    name: c_int,
    value: *const c_void,
    length: u32,
) -> Result<()> {
    let known = known(level, name).ok_or(Errno(libc::ENOPROTOOPT))?;
    if value.is_null() {
        return Err(Errno(libc::EFAULT));
    }
    // SAFETY: the caller's buffer of `length` bytes.
    let value = unsafe { core::slice::from_raw_parts(value.cast::<u8>(), length as usize) };
    match known {
        Known::Kernel(name) => Ok(client()?.set_option(remote.descriptor, decode(name, value)?)?),
        Known::Timeout(which) => {
            remote.set_timeout(which, time_limit(read_value(value)?)?);
            Ok(())
        }
        _ => Err(Errno(libc::ENOPROTOOPT)),
    }
}

/// A `timeval` as a time limit, as Linux reads SO_RCVTIMEO: zero is none,
/// a negative one ends waits at once, microseconds past a second EDOM.
fn time_limit(value: libc::timeval) -> Result<Option<Duration>> {
    if !(0..1_000_000).contains(&value.tv_usec) {
        return Err(Errno(libc::EDOM));
    }
    if value.tv_sec < 0 {
        return Ok(Some(Duration::from_micros(1)));
    }
    let limit = Duration::new(value.tv_sec as u64, value.tv_usec as u32 * 1_000);
    Ok((!limit.is_zero()).then_some(limit))
}

/// A time limit as the program's `timeval` bytes.
fn timeval_bytes(limit: Option<Duration>) -> Vec<u8> {
    let limit = limit.unwrap_or_default();
    let seconds = libc::time_t::try_from(limit.as_secs()).unwrap_or(libc::time_t::MAX);
    let value = [seconds, libc::suseconds_t::from(limit.subsec_micros())];
    value.iter().flat_map(|part| part.to_ne_bytes()).collect()
}

/// The value bytes of option `known` on `remote`.
fn value_of(remote: &Remote, known: Known) -> Result<Vec<u8>> {
    let int = |value: c_int| Ok(value.to_ne_bytes().to_vec());
    match known {
        Known::Kernel(name) => Ok(encode(client()?.option(remote.descriptor, name)?)),
        Known::Type => int(match remote.kind {
            SocketKind::Stream => libc::SOCK_STREAM,
            SocketKind::Datagram => libc::SOCK_DGRAM,
        }),
        Known::Domain => int(remote.family.domain()),
        Known::Protocol => int(match remote.kind {
            SocketKind::Stream => libc::IPPROTO_TCP,
            SocketKind::Datagram => libc::IPPROTO_UDP,
        }),
        Known::AcceptConnections => int(c_int::from(remote.listening.load(Relaxed))),
        Known::Timeout(which) => Ok(timeval_bytes(remote.timeout(which))),
    }
}

/// getsockopt(2) on `remote`: at most `*length` bytes of the value, and
/// their count in `*length`.
///
/// # Safety
/// `length` is valid, and `value` valid for writing `*length` bytes.
pub unsafe fn get(
    remote: &Remote,
    level: c_int,
    name: c_int,
    value: *mut c_void,
    length: *mut u32,
) -> Result<()> {
    let known = known(level, name).ok_or(Errno(libc::ENOPROTOOPT))?;
    if value.is_null() || length.is_null() {
        return Err(Errno(libc::EFAULT));
    }
    let bytes = value_of(remote, known)?;
    // SAFETY: the caller's `length`.
    let room = unsafe { length.read() } as usize;
    let count = bytes.len().min(room);
    // SAFETY: `value` has room for `room` >= `count` bytes.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), value.cast::<u8>(), count) };
    // SAFETY: as above.
    unsafe { length.write(count as u32) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anykernel_client::proto::Errno as RemoteErrno;

    #[test]
    fn the_kernels_options_are_known_and_others_are_not() {
        let nodelay = known(libc::IPPROTO_TCP, libc::TCP_NODELAY);
        assert_eq!(nodelay, Some(Known::Kernel(OptionName::NoDelay)));
        assert_eq!(known(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), None);
        assert_eq!(known(libc::SOL_SOCKET, libc::SO_TYPE), Some(Known::Type));
    }

    #[test]
    fn values_decode_from_and_encode_to_c_layouts() {
        let one = 1 as c_int;
        let nodelay = decode(OptionName::NoDelay, &one.to_ne_bytes()).unwrap();
        assert_eq!(nodelay, SocketOption::NoDelay(true));
        assert_eq!(encode(nodelay), one.to_ne_bytes());
        let linger = [1 as c_int, 5]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect::<Vec<_>>();
        let decoded = decode(OptionName::Linger, &linger).unwrap();
        assert_eq!(decoded, SocketOption::Linger(Some(5)));
        assert_eq!(encode(decoded), linger);
        let refused = encode(SocketOption::Error(Some(RemoteErrno::ConnectionRefused)));
        assert_eq!(refused, libc::ECONNREFUSED.to_ne_bytes());
        assert_eq!(decode(OptionName::NoDelay, &[1]), Err(Errno(libc::EINVAL)));
    }

    #[test]
    fn time_limits_read_and_write_as_linux_has_them() {
        let value = |tv_sec, tv_usec| libc::timeval { tv_sec, tv_usec };
        let limit = Some(Duration::from_millis(1_500));
        assert_eq!(time_limit(value(1, 500_000)), Ok(limit));
        assert_eq!(time_limit(value(0, 0)), Ok(None));
        assert_eq!(time_limit(value(-3, 0)), Ok(Some(Duration::from_micros(1))));
        assert_eq!(time_limit(value(0, 1_000_000)), Err(Errno(libc::EDOM)));
        let bytes = timeval_bytes(limit);
        assert_eq!(
            read_value::<libc::timeval>(&bytes).map(|v| (v.tv_sec, v.tv_usec)),
            Ok((1, 500_000))
        );
        assert_eq!(timeval_bytes(None), vec![0; size_of::<libc::timeval>()]);
    }
}
