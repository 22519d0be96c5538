//! The kv appliance image: a memcached-protocol cache on TCP port 11211,
//! on bare metal through `hypercall-bm` and hosted through
//! `hypercall-posix` (see `appliance/`).

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

extern crate alloc;

mod appliance;

entry::main!(appliance::run);
