//! Engine tests over a simulated network (see [`network`]).

mod network;

mod close;
mod handshake;
mod hostile;
mod listen;
mod timers;
mod transfer;
