//! Engine tests over a simulated network (see [`network`]).

mod ledger;
mod network;

mod close;
mod handshake;
mod hostile;
mod listen;
mod recovery;
mod timers;
mod transfer;
