//! The net faction: interfaces, packet buffers, IPv4, IPv6, ARP, ICMP,
//! Neighbor Discovery, UDP, TCP and the socket API, as portable kernel
//! code.
//!
//! Layers, bottom up, each in its own module:
//!
//! | module | what |
//! | --- | --- |
//! | [`buffer`] | packet buffers from a pool, with headroom for headers |
//! | [`interface`] | ifnet: what drivers attach, per-interface state |
//! | [`ethernet`], [`arp`] | framing and neighbour resolution |
//! | [`ipv4`] | input checks, reassembly, routing, output, fragmentation |
//! | [`ipv6`] | the same for IPv6, with ICMPv6, ND, SLAAC, MLD, RDNSS |
//! | [`reassembly`] | fragment reassembly with bounds, for both families |
//! | [`path_mtu`] | path MTUs learned from ICMP and ICMPv6, both families |
//! | [`icmp`], [`udp`] | echo and errors; datagrams |
//! | [`forward`] | IP forwarding, both families, off by default |
//! | [`probe`] | echo requests of any size and hop limit (ping, traceroute) |
//! | `tcp` (crate `kernel/net/tcp`) | the TCP engine, sans-IO |
//! | [`dhcp`] | the DHCP client (crate `kernel/net/dhcp`) in the stack |
//! | [`stack`] | all of the above behind one lock: [`Stack`] |
//! | [`net`] | the kernel glue: lock, softint, timer, wakeups: [`Net`] |
//! | [`socket`] | the system-call API on [`Net`], errno-style errors, `resolve` |
//! | `dns` (crate `kernel/net/dns`) | the DNS stub resolver, sans-IO |
//! | [`ifconfig`] | interface and route configuration on [`Net`] |
//! | [`components`] | `net`, `lo0`, `ifconfig` at their init levels |
//! | [`memory`] | what each part charges to the kernel's limit; reclaim |
//!
//! The stack itself ([`Stack`]) is pure state and functions of it, so it
//! is tested and fuzzed on the host without a kernel; [`Net`] adds the
//! kernel: one mutex, deferred input, one callout, per-socket condition
//! variables. No per-packet heap allocation on the data path: buffers come
//! from the pool, and data is copied once into and once out of a socket
//! buffer.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod arp;
pub mod buffer;
pub mod components;
pub mod config;
pub mod dhcp;
pub mod ethernet;
pub mod forward;
pub mod icmp;
mod icmp_errors;
pub mod ifconfig;
mod input;
pub mod interface;
pub mod ipv4;
pub mod ipv6;
pub mod loopback;
pub mod memory;
pub mod net;
pub mod offload;
pub mod path_mtu;
mod ping;
pub mod ports;
pub mod probe;
pub mod reassembly;
pub mod route;
mod slab;
pub mod socket;
pub mod stack;
mod stats;
mod transmit;
pub mod udp;
pub mod virtio_header;

#[cfg(test)]
mod tests;

pub use buffer::{PacketBuffer, PacketPool};
/// The DNS resolver's sans-IO core (names, answers, the cache).
pub use dns;
/// The I/O traits [`TcpStream`] implements, for crates written against them.
pub use embedded_io;
pub use interface::{DeviceBusy, InterfaceIndex, InterfaceSpec, LinkKind, NetworkDevice};
pub use net::Net;
pub use offload::Offloads;
pub use probe::{Answer, Probe, ProbeReply};
pub use socket::{
    Errno, Fd, MessageFlags, OptionName, PollEvents, PollFd, Ready, ResolveError, ServerSource,
    Shutdown, Socket, SocketOption, SocketType, TcpStream, WatchSet,
};
pub use stack::Stack;
/// The wire formats, for drivers.
pub use wire;
pub use wire::MacAddress;
