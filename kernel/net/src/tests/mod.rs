//! Host tests of the whole stack without a kernel: two [`Stack`]s wired
//! back to back, frames moved by hand, time advanced by hand.

mod abuse;
mod ecn;
mod hostile;
mod ipv6;
mod ipv6_abuse;
pub(crate) mod link;
mod offloads;
mod protocols;
mod transports6;
mod udp_delivery;
