//! Remote clients of an anykernel: a Linux program's sockets in a
//! running kernel (hosted, or later in QEMU), and the `anyctl` tool.
//!
//! [`Client::connect`]`("unix:PATH")` opens a connection to a kernel's
//! system-call server (`cargo xtask run --hosted --server unix:PATH`).
//! On it, [`TcpStream`], [`TcpListener`] and [`UdpSocket`] work like
//! their `std::net` namesakes, but the sockets live in that kernel, and
//! every call of the kernel's table is there as a method of
//! [`sysproxy_proto::Stubs`] (interfaces, routes, neighbours, statistics):
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use anykernel_client::{Client, TcpStream};
//!
//! let client = Client::connect("unix:/tmp/anykernel.sock")?;
//! let mut stream = TcpStream::connect(&client, "10.0.0.1:80")?;
//! stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
//! let mut page = Vec::new();
//! stream.read_to_end(&mut page)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! One connection serves any number of threads and sockets; a blocking
//! call (an `accept`, a `read`) of one thread holds up no other.

mod client;
mod error;
mod net;

pub use client::Client;
pub use error::{Error, kind_of};
pub use net::{TcpListener, TcpStream, UdpSocket};
pub use sysproxy_proto::{self as proto, Stubs};
