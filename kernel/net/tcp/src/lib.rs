//! The TCP protocol engine of the net faction (sans-IO, RFC 9293).

#![no_std]
#![forbid(unsafe_code)]
