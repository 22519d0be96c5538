//! Hosted kernels with the pagedaemon, for the memory tests: the image's
//! components (the pagedaemon among them), on a shared-memory bus.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hypercall_posix::{ConsoleSink, ExitMode, Posix, PosixConfig};
use kernel::net::Net;
use kernel::{BootConfig, Kernel};

use crate::common::{Bus, Node, address};

/// Boots nodes `10.0.0.1`, `10.0.0.2`, … on `bus`, one per entry of
/// `params` (its boot parameters), each with the pagedaemon.
pub fn nodes_with_pagedaemon(bus: &Bus, params: &[&str]) -> Vec<Arc<Node>> {
    (1..)
        .zip(params)
        .map(|(host, params)| {
            let params = format!("ip={}/24 {params}", address(host));
            Arc::new(boot(&format!("node{host}"), &params, &bus.spec("")))
        })
        .collect()
}

/// One hosted kernel with the pagedaemon and one NIC.
pub fn boot(name: &str, params: &str, nic: &str) -> Node {
    let config = PosixConfig {
        name: name.to_string(),
        boot_parameters: params.to_string(),
        nics: vec![nic.parse().expect("a NIC spec")],
        console: ConsoleSink::Stderr,
        exit: ExitMode::Unwind,
        ..PosixConfig::default()
    };
    let host = Posix::new(config);
    // `kernel::components()` always lists the pagedaemon.
    let components = kernel::components();
    let kernel = Kernel::boot(
        host.clone(),
        BootConfig {
            components: &components,
        },
    )
    .unwrap_or_else(|error| panic!("{name}: boot: {error}"));
    let net = {
        let context = kernel.enter().expect("enter");
        Net::of(&context).expect("the net faction is linked")
    };
    Node {
        name: name.to_string(),
        host,
        kernel,
        net,
    }
}

/// The bytes charged to `account` on `node`.
pub fn account(node: &Node, name: &str) -> usize {
    let accounts = node.kernel.memory().accounts();
    let found = accounts.iter().find(|account| account.name == name);
    found.map_or(0, |account| account.bytes)
}

/// Waits (polling, with a deadline of a minute) until `done` holds.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
