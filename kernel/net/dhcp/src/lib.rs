//! The DHCPv4 client of the net faction (sans-IO, RFC 2131).

#![no_std]
#![forbid(unsafe_code)]
