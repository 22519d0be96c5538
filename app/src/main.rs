//! The appliance image: on bare metal through `hypercall-bm`, hosted on
//! Linux through `hypercall-posix`. The same application runs on both.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

entry::main!(app::appliance::run);
