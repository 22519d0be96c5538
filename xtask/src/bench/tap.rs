//! The appliance behind a tap in a network namespace of its own, for the
//! figures only a tap gives (new connections, idle crowds, scaling).
//!
//! Call the measuring clients from a thread inside the namespace
//! (`Namespace::run_inside`); the guest is at `TAP_GUEST`.

use std::path::Path;
use std::time::Duration;

use qemu_tests::netns::{Namespace, missing_privilege};
use qemu_tests::protocol::READY_MARKER;
use qemu_tests::{Machine, Network, Nic, Qemu, QemuConfig};

use super::target::TAP_GUEST;

/// How long the appliance may take to say it is ready.
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// The appliance behind a tap in a namespace of its own. QEMU goes
/// first when it is dropped, then the namespace.
pub(super) struct TapGuest {
    pub qemu: Qemu,
    pub namespace: Namespace,
}

/// Boots the appliance with `memory_mib` behind `tap0` in a new namespace
/// (tagged `tag`) and waits until it is ready.
///
/// # Errors
/// Why not: no privilege, QEMU, or no `ready` line.
pub(super) fn boot_on_tap(
    image: &Path,
    machine: Machine,
    memory_mib: u32,
    tag: &str,
) -> Result<TapGuest, String> {
    boot_on_tap_with(image, machine, memory_mib, tag, &[])
}

/// [`boot_on_tap`] with more boot parameters (`name=value` each).
///
/// # Errors
/// As [`boot_on_tap`].
pub(super) fn boot_on_tap_with(
    image: &Path,
    machine: Machine,
    memory_mib: u32,
    tag: &str,
    params: &[String],
) -> Result<TapGuest, String> {
    if let Some(reason) = missing_privilege(&[]) {
        return Err(reason);
    }
    let namespace = Namespace::new(&format!("{tag}{machine}"));
    let config = QemuConfig::kernel(image)
        .machine(machine)
        .memory_mib(memory_mib)
        .param(format!("ip={TAP_GUEST}/24"))
        .params(params.iter().cloned())
        .program("ip")
        .program_args(["netns", "exec", namespace.name.as_str()])
        .program_args([qemu_tests::QEMU_PROGRAM])
        .nic(Nic::new(Network::Tap {
            name: "tap0".into(),
        }));
    let mut qemu = Qemu::spawn(&config).map_err(|error| error.to_string())?;
    // The services listen once the appliance says it is ready.
    qemu.wait_for_line(READY_MARKER, READY_DEADLINE)
        .map_err(|error| format!("not ready: {error}"))?;
    Ok(TapGuest { qemu, namespace })
}
