//! Idle connections held: the appliance in 64 MiB behind a tap (root), as
//! many echo clients from Linux as this process may open, and what each
//! costs the kernel by its own accounting (`/stats` before and after);
//! with that cost, how many would fit in the memory left.

use std::net::SocketAddr;
use std::time::Duration;

use qemu_tests::Machine;
use qemu_tests::crowd::{self, GuestFigures};

use super::report::{Series, add_run};
use super::tap::boot_on_tap;
use super::target::TAP_GUEST;

/// The guest's memory.
const MEMORY_MIB: u32 = 64;
/// Clients at most: fewer than the ephemeral ports of one address.
const MOST_CLIENTS: u64 = 19_000;
/// Descriptors kept for everything besides the clients.
const SPARE_DESCRIPTORS: u64 = 200;
/// How long the guest may take to accept every client.
const ACCEPT_DEADLINE: Duration = Duration::from_secs(60);

/// Held, bytes each, and how many would fit; no values when not root or
/// when the run fails.
pub fn figures(image: &std::path::Path, machine: Machine) -> Vec<Series> {
    let names = [
        ("idle connections held in 64 MiB (tap)", "connections"),
        ("kernel memory per idle connection (tap)", "bytes"),
        (
            "idle connections that fit in 64 MiB (estimate)",
            "connections",
        ),
    ];
    let mut series = Series::for_machine(machine, &names);
    let what = format!("{machine} idle connections");
    add_run(&mut series, measure(image, machine), &what);
    series
}

/// One boot: [held, bytes each, would fit].
fn measure(image: &std::path::Path, machine: Machine) -> Result<[f64; 3], String> {
    let limit = crowd::raise_open_file_limit()?;
    let clients = MOST_CLIENTS.min(limit.saturating_sub(SPARE_DESCRIPTORS)) as usize;
    let guest = boot_on_tap(image, machine, MEMORY_MIB, "idle")?;
    let held = guest.namespace.run_inside(move || hold(clients));
    let (before, idle) = held.map_err(|error| format!("{error}\n{}", guest.qemu.log()))?;
    let held = idle
        .connections_open
        .saturating_sub(before.connections_open);
    if held == 0 {
        return Err("no connection was accepted".into());
    }
    let each = idle.memory_in_use.saturating_sub(before.memory_in_use) / held;
    let free = before.memory_limit.saturating_sub(before.memory_in_use);
    Ok([held as f64, each as f64, (free / each.max(1)) as f64])
}

/// `/stats` before and with `clients` echo clients connected and idle;
/// inside the namespace.
fn hold(clients: usize) -> Result<(GuestFigures, GuestFigures), String> {
    let stats = SocketAddr::new(TAP_GUEST.into(), 80);
    let before = GuestFigures::read(stats)?;
    let streams = crowd::connect_all(SocketAddr::new(TAP_GUEST.into(), 7), clients)?;
    let open = before.connections_open + clients as u64;
    let idle = GuestFigures::wait_for_open(stats, open, ACCEPT_DEADLINE)?;
    drop(streams);
    Ok((before, idle))
}
