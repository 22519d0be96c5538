//! The system-call table: every call a remote client can make, once.
//!
//! Numbers are the wire's and never change meaning; a new call takes a
//! new number. `quick` calls never wait for the network (the server runs
//! them at once); `blocking` ones may (a worker thread of the client runs
//! them, so that one waiting call holds up neither the client's other
//! calls nor other clients). Socket calls are 1–31, interface, route and
//! stack calls 32–63; the file calls of the vfs faction will take 64–127.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::table::system_calls;
use crate::types::{
    Bytes, Descriptor, Direction, DirectoryEntry, FileStatus, ForkToken, Interface,
    InterfaceAddress, MessageFlags, Neighbor, OptionName, PollEntry, Route, SocketKind,
    SocketOption, SocketSummary,
};

system_calls! {
    /// Does nothing: the round trip of a call and no more.
    0 quick Null / null {} -> ();
    /// socket(2): opens a socket of `kind`.
    1 quick Socket / socket { kind: SocketKind } -> Descriptor;
    /// bind(2): gives `fd` the local `address` (port 0: an ephemeral one).
    2 quick Bind / bind { fd: Descriptor, address: SocketAddr } -> ();
    /// listen(2): makes `fd` a listener with room for `backlog`.
    3 quick Listen / listen { fd: Descriptor, backlog: u32 } -> ();
    /// accept(2): the next connection of listener `fd`, and its peer.
    4 blocking Accept / accept { fd: Descriptor } -> (Descriptor, SocketAddr);
    /// connect(2): connects `fd` to `address`.
    5 blocking Connect / connect { fd: Descriptor, address: SocketAddr } -> ();
    /// send(2): sends `data` on connected `fd`; how many bytes went.
    6 blocking Send / send { fd: Descriptor, data: Bytes, flags: MessageFlags } -> u32;
    /// recv(2): at most `length` bytes from `fd` (none: end of stream).
    7 blocking Receive / receive { fd: Descriptor, length: u32, flags: MessageFlags } -> Bytes;
    /// sendto(2): one datagram of `data` to `address`.
    8 blocking SendTo / send_to { fd: Descriptor, data: Bytes, address: SocketAddr } -> u32;
    /// recvfrom(2): one datagram (at most `length` bytes) and its sender.
    9 blocking ReceiveFrom / receive_from { fd: Descriptor, length: u32, flags: MessageFlags } -> (Bytes, SocketAddr);
    /// shutdown(2): ends reading, writing or both on `fd`.
    10 quick Shutdown / shutdown { fd: Descriptor, how: Direction } -> ();
    /// close(2): closes `fd`.
    11 quick Close / close { fd: Descriptor } -> ();
    /// setsockopt(2).
    12 quick SetOption / set_option { fd: Descriptor, option: SocketOption } -> ();
    /// getsockopt(2).
    13 quick GetOption / option { fd: Descriptor, name: OptionName } -> SocketOption;
    /// getsockname(2).
    14 quick LocalAddress / local_address { fd: Descriptor } -> SocketAddr;
    /// getpeername(2).
    15 quick PeerAddress / peer_address { fd: Descriptor } -> SocketAddr;
    /// poll(2): waits up to `timeout_ms` (none: no limit) until one of
    /// `entries` is ready; what is true of each, as `types::poll` bits.
    16 blocking Poll / poll { entries: Vec<PollEntry>, timeout_ms: Option<u64> } -> Vec<u8>;
    /// fork(2)'s part in the kernel (the seeds' prefork): a copy of the
    /// client's descriptors, the same sockets at the same numbers, kept
    /// for the child that connects with the token (`Hello::forked`)
    /// within `handshake::FORK_CLAIM_SECONDS`.
    17 quick Fork / fork {} -> ForkToken;
    /// Every interface (`ifconfig -a`).
    32 quick Interfaces / interfaces {} -> Vec<Interface>;
    /// `ifconfig NAME up|down`.
    33 quick SetInterfaceUp / set_interface_up { name: String, up: bool } -> ();
    /// `ifconfig NAME inet ADDRESS/N` (none: remove the address).
    34 quick SetInterfaceAddress / set_interface_address {
        name: String,
        address: Option<InterfaceAddress>,
    } -> ();
    /// `ifconfig NAME inet6 ADDRESS/N`.
    35 quick AddInterfaceAddress6 / add_interface_address6 {
        name: String,
        address: Ipv6Addr,
        prefix_length: u8,
    } -> ();
    /// `ifconfig NAME inet6 ADDRESS -alias`.
    36 quick RemoveInterfaceAddress6 / remove_interface_address6 {
        name: String,
        address: Ipv6Addr,
    } -> ();
    /// The IPv4 routing table (`netstat -r`).
    37 quick Routes / routes {} -> Vec<Route>;
    /// `route add DESTINATION/N GATEWAY` out of `interface`.
    38 quick AddRoute / add_route {
        destination: Ipv4Addr,
        prefix_length: u8,
        gateway: Option<Ipv4Addr>,
        interface: String,
    } -> ();
    /// `route delete DESTINATION/N`.
    39 quick RemoveRoute / remove_route { destination: Ipv4Addr, prefix_length: u8 } -> ();
    /// `route add default GATEWAY` (none: `route delete default`).
    40 quick SetDefaultGateway / set_default_gateway { gateway: Option<Ipv4Addr> } -> ();
    /// The ARP table and the IPv6 neighbour cache (`arp -a`, `ndp -a`).
    41 quick Neighbors / neighbors {} -> Vec<Neighbor>;
    /// Every open socket of the kernel (`netstat`).
    42 quick Sockets / sockets {} -> Vec<SocketSummary>;
    /// The stack's and the memory's counters as text (`/stats`).
    43 quick Statistics / statistics {} -> String;
    /// One ICMP echo to `destination`: the round trip in nanoseconds.
    44 blocking Ping / ping { destination: Ipv4Addr, sequence: u16, timeout_ms: u32 } -> u64;
    /// open(2) of `path` in the kernel's file systems, `flags` with
    /// Linux's `O_` values; close it with `close`.
    64 blocking Open / open { path: String, flags: u32, permissions: u16 } -> Descriptor;
    /// read(2): at most `length` bytes of file `fd` (none: its end).
    65 blocking Read / read { fd: Descriptor, length: u32 } -> Bytes;
    /// write(2): `data` into file `fd`; how many bytes went.
    66 blocking Write / write { fd: Descriptor, data: Bytes } -> u32;
    /// stat(2) of `path` (symbolic links followed).
    67 blocking Stat / stat { path: String } -> FileStatus;
    /// The next entries of directory `fd`, at most `most` (none: the end).
    68 blocking ReadDirectory / read_directory { fd: Descriptor, most: u32 } -> Vec<DirectoryEntry>;
}
