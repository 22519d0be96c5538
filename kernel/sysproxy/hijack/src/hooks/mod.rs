//! The functions this library puts in front of the C library's.
//!
//! Each has the C prototype of its namesake and is exported under that
//! name (not in this crate's unit tests, whose own C library calls must
//! stay the C library's). Each asks [`crate::table`] whether its
//! descriptor is remote: if not, it calls the real function with the
//! arguments as they came, and Linux answers exactly as without us; if
//! so, the kernel does, and the result comes back as the C function's
//! would (a value, or -1 with errno).
//!
//! | module | calls |
//! | --- | --- |
//! | [`sockets`] | socket, connect, bind, listen, accept, accept4, shutdown, getsockname, getpeername, setsockopt, getsockopt |
//! | [`data`] | read, write, readv, writev, send, recv, sendto, recvfrom, sendmsg, recvmsg |
//! | [`descriptors`] | close, close_range, dup, dup2, dup3, fcntl, fcntl64, ioctl |
//! | [`waiting`] | poll, ppoll, select, pselect |
//! | [`epoll`] | epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2 |

use core::ffi::c_int;

use crate::errno::{self, Result};

pub mod data;
pub mod descriptors;
pub mod epoll;
pub mod sockets;
pub mod waiting;

/// The `int` result of remote `call` on `fd`, traced.
fn done(call: &str, fd: c_int, result: Result<c_int>) -> c_int {
    let value = errno::int(result);
    crate::trace::call(call, fd, value as isize);
    value
}

/// The `ssize_t` result of remote `call` on `fd`, traced.
fn done_size(call: &str, fd: c_int, result: Result<usize>) -> libc::ssize_t {
    let value = errno::size(result);
    crate::trace::call(call, fd, value);
    value
}
