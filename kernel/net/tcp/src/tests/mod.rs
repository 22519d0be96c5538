//! Engine tests over a simulated network (see [`network`]).

#[allow(unsafe_code, reason = "a counting global allocator for the tests")]
mod heap;
mod impairment;
mod ledger;
mod network;
mod sockets;

mod close;
mod cookies;
mod ecn;
mod forward;
mod handshake;
mod hostile;
mod ipv6;
mod listen;
mod memory;
mod offload;
mod recovery;
mod time_wait;
mod timers;
mod transfer;
mod urgent;
