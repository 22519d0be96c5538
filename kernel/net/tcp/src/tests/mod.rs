//! Engine tests over a simulated network (see [`network`]).

mod impairment;
mod ledger;
mod network;
mod sockets;

mod close;
mod handshake;
mod hostile;
mod listen;
mod memory;
mod recovery;
mod time_wait;
mod timers;
mod transfer;
