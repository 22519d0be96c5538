//! The appliance as a router in QEMU (root only): TCP from one network
//! namespace to another through it, in both families
//! (`qemu_tests::router`: two taps, forwarding on by boot parameters).
//!
//! Linux sends 64 MiB from the left to a sink on the right; the appliance
//! (q35, TCG) receives each segment on one virtio NIC and forwards it on
//! the other. Not run as root: the figures are left out, saying why.

use std::panic::{AssertUnwindSafe, catch_unwind};

use qemu_tests::Machine;
use qemu_tests::netns::missing_privilege;
use qemu_tests::router::{RIGHT, Routed};

use super::report::Series;

/// Bytes per transfer.
const BYTES: usize = 64 << 20;

/// The router's series over `runs` runs (none without root).
pub fn figures(image: &std::path::Path, runs: u32) -> Vec<Series> {
    if let Some(reason) = missing_privilege(&[]) {
        eprintln!("xtask: the router's figures are left out: {reason}");
        return Vec::new();
    }
    let mut series: Vec<Series> = ["IPv4", "IPv6"]
        .iter()
        .map(|family| Series {
            name: format!("q35 router, TCP namespace -> namespace ({family}, tap)"),
            unit: "MiB/s".into(),
            values: Vec::new(),
        })
        .collect();
    for run in 1..=runs {
        let image = image.to_path_buf();
        let measured = catch_unwind(AssertUnwindSafe(|| one_run(image)));
        match measured {
            Ok(Ok(values)) => {
                for (one, value) in series.iter_mut().zip(values) {
                    one.values.push(value);
                }
            }
            Ok(Err(error)) => eprintln!("xtask: router run {run} left out: {error}"),
            Err(_) => eprintln!("xtask: router run {run} left out: its setup failed"),
        }
    }
    series
}

/// One boot, one transfer per family.
fn one_run(image: std::path::PathBuf) -> Result<[f64; 2], String> {
    let routed = Routed::boot(image, Machine::Q35, "brt");
    let mut values = [0.0; 2];
    for (value, right) in values.iter_mut().zip(RIGHT) {
        let address = right.parse().map_err(|_| "an address")?;
        *value = routed.throughput(address, BYTES)?;
    }
    Ok(values)
}
