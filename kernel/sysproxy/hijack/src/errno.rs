//! Errors as the program sees them: Linux's errno values.
//!
//! The kernel's errno names ([`RemoteErrno`]) map one to one
//! onto Linux's numbers with an exhaustive match, so a new kernel errno is
//! a build error here until it is given one. Failures of the connection
//! itself (the server gone, a refused call) become the errno a program
//! would see of a network that went away or ran out of room.

use core::ffi::c_int;

use anykernel_client::Error as ClientError;
use anykernel_client::proto::{Errno as RemoteErrno, Refusal};

/// A Linux errno value: why a hook fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub c_int);

/// What a hook's body returns.
pub type Result<T> = core::result::Result<T, Errno>;

impl From<RemoteErrno> for Errno {
    fn from(errno: RemoteErrno) -> Self {
        use RemoteErrno as R;
        Errno(match errno {
            R::WouldBlock => libc::EAGAIN,
            R::BadDescriptor => libc::EBADF,
            R::InvalidArgument => libc::EINVAL,
            R::AddressInUse => libc::EADDRINUSE,
            R::AddressNotAvailable => libc::EADDRNOTAVAIL,
            R::ConnectionRefused => libc::ECONNREFUSED,
            R::ConnectionReset => libc::ECONNRESET,
            R::ConnectionAborted => libc::ECONNABORTED,
            R::TimedOut => libc::ETIMEDOUT,
            R::NotConnected => libc::ENOTCONN,
            R::AlreadyConnected => libc::EISCONN,
            R::InProgress => libc::EINPROGRESS,
            R::Already => libc::EALREADY,
            R::BrokenPipe => libc::EPIPE,
            R::NoBuffers => libc::ENOBUFS,
            R::MessageTooLong => libc::EMSGSIZE,
            R::NetworkUnreachable => libc::ENETUNREACH,
            R::NotSupported => libc::EOPNOTSUPP,
            R::NoSuchOption => libc::ENOPROTOOPT,
            R::ProtocolNotSupported => libc::EPROTONOSUPPORT,
            R::DestinationRequired => libc::EDESTADDRREQ,
            R::TooManySockets => libc::EMFILE,
            R::NoNetwork => libc::ENXIO,
            R::PermissionDenied => libc::EACCES,
            R::NotFound => libc::ENOENT,
            R::NotImplemented => libc::ENOSYS,
            R::Exists => libc::EEXIST,
            R::NotSocket => libc::ENOTSOCK,
            R::Io => libc::EIO,
            R::NotDirectory => libc::ENOTDIR,
            R::IsDirectory => libc::EISDIR,
            R::NoSpace => libc::ENOSPC,
            R::ReadOnly => libc::EROFS,
            R::NameTooLong => libc::ENAMETOOLONG,
            R::Loop => libc::ELOOP,
            R::FileTooLarge => libc::EFBIG,
            R::Busy => libc::EBUSY,
        })
    }
}

impl From<ClientError> for Errno {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Errno(errno) => errno.into(),
            ClientError::Refused(Refusal::TooManyCalls | Refusal::TooManyBytes) => {
                Errno(libc::ENOBUFS)
            }
            ClientError::Refused(_) | ClientError::Protocol(_) => Errno(libc::EPROTO),
            ClientError::Handshake(_) | ClientError::Address(_) | ClientError::Io(_) => {
                Errno(libc::ENETDOWN)
            }
        }
    }
}

/// Sets the calling thread's errno.
pub fn set(errno: Errno) {
    // SAFETY: __errno_location(3) returns this thread's errno, always valid.
    unsafe { *libc::__errno_location() = errno.0 };
}

/// The calling thread's errno (after a C library call failed).
pub fn last() -> Errno {
    // SAFETY: as in `set`.
    Errno(unsafe { *libc::__errno_location() })
}

/// A hook's `int` result: the value, or -1 with errno set.
pub fn int(result: Result<c_int>) -> c_int {
    result.unwrap_or_else(|errno| {
        set(errno);
        -1
    })
}

/// A hook's `ssize_t` result: the count, or -1 with errno set.
pub fn size(result: Result<usize>) -> libc::ssize_t {
    match result {
        Ok(count) => libc::ssize_t::try_from(count).unwrap_or(libc::ssize_t::MAX),
        Err(errno) => {
            set(errno);
            -1
        }
    }
}

/// A C library call's `int` result as a [`Result`]: -1 is its errno.
pub fn check(value: c_int) -> Result<c_int> {
    if value == -1 { Err(last()) } else { Ok(value) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_errnos_become_linux_numbers() {
        assert_eq!(Errno::from(RemoteErrno::WouldBlock), Errno(libc::EAGAIN));
        assert_eq!(Errno::from(RemoteErrno::InProgress), Errno(115));
        assert_eq!(Errno::from(RemoteErrno::ConnectionRefused), Errno(111));
        assert_eq!(Errno::from(RemoteErrno::NotSupported), Errno(95));
    }

    #[test]
    fn a_lost_server_is_a_network_that_went_down() {
        let gone = ClientError::Io(std::io::ErrorKind::BrokenPipe.into());
        assert_eq!(Errno::from(gone), Errno(libc::ENETDOWN));
        let busy = ClientError::Refused(Refusal::TooManyCalls);
        assert_eq!(Errno::from(busy), Errno(libc::ENOBUFS));
    }

    #[test]
    fn results_become_c_values_with_errno() {
        assert_eq!(int(Ok(7)), 7);
        assert_eq!(int(Err(Errno(libc::EBADF))), -1);
        assert_eq!(last(), Errno(libc::EBADF));
        assert_eq!(size(Err(Errno(libc::EAGAIN))), -1);
        assert_eq!(last(), Errno(libc::EAGAIN));
        assert_eq!(check(-1), Err(Errno(libc::EAGAIN)));
    }
}
