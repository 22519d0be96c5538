//! Host tests of the whole stack without a kernel: two [`Stack`]s wired
//! back to back, frames moved by hand, time advanced by hand.

mod abuse;
mod advertise;
mod buffers;
mod chain;
mod coalesced;
mod ecn;
mod forwarding;
mod hostile;
mod ipv6;
mod ipv6_abuse;
pub(crate) mod link;
mod offloads;
mod path_mtu;
mod protocols;
mod redirect;
mod router;
mod transports6;
mod udp_delivery;
