//! anykernel-hijack: an unmodified Linux program's sockets in an anykernel.
//!
//! The rump papers' rumphijack. Loaded with `LD_PRELOAD` into a
//! dynamically linked program (`cargo xtask hijack --server unix:PATH --
//! curl http://…` does it), this library stands in front of the C
//! library's socket calls: the program's TCP and UDP sockets, over IPv4
//! and IPv6, are opened in the kernel that serves remote clients at
//! `ANYKERNEL_SERVER` (`unix:PATH`, see `cargo xtask run --hosted
//! --server`), so its connections are made by that kernel's TCP/IP
//! stack. Everything else (files, pipes, Unix sockets, name lookups with
//! getaddrinfo, raw sockets) stays Linux's.
//!
//! A remote socket has a real local descriptor number, a placeholder, so
//! the program's own bookkeeping (select's sets, descriptor limits,
//! FD_CLOEXEC, dup) works; [`table`] maps it to the kernel's socket.
//! poll and select may mix local and remote descriptors ([`wait`]).
//! Errors come back as Linux errno values ([`errno`]).
//!
//! | module | what |
//! | --- | --- |
//! | [`hooks`] | the exported functions, by group |
//! | [`connection`] | the connection to the kernel, one per process; fork |
//! | [`remote`] | one remote socket |
//! | [`table`] | local descriptor -> remote socket |
//! | [`io`], [`address`], [`options`] | data, `sockaddr`s and socket options between C and the wire |
//! | [`poll`], [`wait`], [`select`], [`epoll`] | waiting on local and remote descriptors |
//! | [`real`] | the C library's own functions (dlsym `RTLD_NEXT`) |
//! | [`errno`], [`trace`] | errors as errno; `ANYKERNEL_HIJACK_TRACE=1` |
//!
//! Not (yet) done: edge-triggered epoll (served level-triggered, see
//! [`epoll`]), sendmmsg/recvmmsg, MSG_OOB, control
//! messages, and blocking calls that a signal interrupts (a remote read
//! waits on until data comes). SO_RCVTIMEO and SO_SNDTIMEO are kept here
//! ([`options`], [`io::within_timeout`]).

pub mod address;
pub mod connection;
pub mod epoll;
pub mod errno;
pub mod hooks;
pub mod io;
pub mod options;
pub mod poll;
pub mod real;
pub mod remote;
pub mod select;
pub mod table;
pub mod trace;
pub mod wait;
