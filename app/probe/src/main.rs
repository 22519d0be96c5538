//! The configuration probe: boots a kernel with exactly the components this
//! build links, says which and that it is ready, shuts the kernel down and
//! ends with success (or says why the boot failed and ends with failure).
//!
//! It is the smallest application there is, on purpose: `cargo xtask test`
//! builds it once per configuration of its matrix and checks each boots
//! (and that a configuration without `net` holds no net code at all);
//! `cargo xtask bench` reports each configuration's image size.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use kernel::hypercall::{ExitStatus, Hypercalls};

/// Boots, reports, shuts down; the status to end with.
fn run(host: entry::Host) -> ExitStatus {
    let names: Vec<&str> = kernel::components().iter().map(|c| c.name).collect();
    let names = if names.is_empty() {
        String::from("(base only)")
    } else {
        names.join(" ")
    };
    say(&*host, &format!("anykernel: components {names}"));
    match kernel::boot(host.clone()) {
        Ok(kernel) => {
            let ready_us = host.clock_monotonic_ns() / 1_000;
            say(&*host, &format!("anykernel: ready in {ready_us} us"));
            kernel.shutdown();
            ExitStatus::Success
        }
        Err(error) => {
            say(&*host, &format!("anykernel: boot failed: {error}"));
            ExitStatus::Failure(1)
        }
    }
}

fn say(host: &dyn Hypercalls, line: &str) {
    host.console_write(format!("{line}\n").as_bytes());
}

entry::main!(run);
