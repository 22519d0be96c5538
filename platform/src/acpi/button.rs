//! The ACPI power button and soft off, on the ports the FADT names.
//!
//! [`PowerButton::arm`] puts the machine in ACPI mode (writing
//! `ACPI_ENABLE` to `SMI_CMD` when `SCI_EN` is clear, then waiting a
//! bounded number of reads for it), disables every general-purpose event
//! and every PM1 event but the power button (nothing else may raise the
//! level-triggered SCI, which nobody else acknowledges), clears what is
//! pending, and sets `PWRBTN_EN`. Then each SCI is answered with
//! [`PowerButton::take_press`]. [`soft_off`] writes the `\_S5_` sleep
//! types and `SLP_EN` to PM1a (and PM1b) control.
//!
//! The ports come from the FADT, checked by [`super::fixed`]: PM1 and GPE
//! registers only set and clear event, enable and sleep bits. Nothing
//! but this module touches them.

use super::fixed::{self, Block, Controls, FixedHardware, NoButton, SCI_ENABLE};
use super::madt::IsaRoute;
use super::sleep::SleepTypes;
use crate::port::OwnedPort;

/// Reads of PM1 control while waiting for `SCI_EN` (about a microsecond
/// each on hardware; firmware takes far less, QEMU none).
const ACPI_MODE_READS: u32 = 1_000_000;

/// The port `number` of an ACPI register block the FADT names.
fn acpi_port<T: x86_64::structures::port::PortRead + x86_64::structures::port::PortWrite>(
    number: u16,
) -> OwnedPort<T> {
    // SAFETY: `number` lies in a PM1, GPE or SMI command block of the
    // FADT (see `fixed`), which only this module accesses; those
    // registers hold event, enable and sleep bits, and no access to them
    // makes a device write memory.
    unsafe { OwnedPort::new(number) }
}

/// An armed power button (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct PowerButton {
    hardware: FixedHardware,
    route: IsaRoute,
}

impl PowerButton {
    /// Arms the button in `hardware`, whose SCI arrives as `route`.
    ///
    /// # Errors
    /// [`NoButton::AcpiMode`] if the machine did not enter ACPI mode.
    pub fn arm(hardware: FixedHardware, route: IsaRoute) -> Result<Self, NoButton> {
        for block in hardware.general_events.into_iter().flatten() {
            fixed::gpe_enable_ports(block).for_each(|port| acpi_port::<u8>(port).write(0));
        }
        for block in hardware.events.into_iter().flatten() {
            acpi_port::<u16>(fixed::enable_port(block)).write(0);
            acpi_port::<u16>(fixed::status_port(block)).write(u16::MAX);
        }
        if !enter_acpi_mode(hardware.controls) {
            return Err(NoButton::AcpiMode);
        }
        for block in hardware.events.into_iter().flatten() {
            acpi_port::<u16>(fixed::enable_port(block)).write(fixed::POWER_BUTTON);
        }
        Ok(Self { hardware, route })
    }

    /// How the SCI reaches the interrupt controllers.
    pub fn route(&self) -> IsaRoute {
        self.route
    }

    /// Reads and clears the PM1 status: whether the button was pressed
    /// since the last call.
    pub fn take_press(&self) -> bool {
        let mut pressed = false;
        for block in self.hardware.events.into_iter().flatten() {
            let status = acpi_port::<u16>(fixed::status_port(block));
            let bits = status.read();
            status.write(bits);
            pressed |= fixed::power_button_pressed(bits);
        }
        pressed
    }
}

/// Puts the machine in ACPI mode if it is not: whether it is now.
fn enter_acpi_mode(controls: Controls) -> bool {
    let Some(Some(block)) = controls.blocks.first().copied() else {
        return false;
    };
    let control = acpi_port::<u16>(block.port);
    if control.read() & SCI_ENABLE != 0 {
        return true;
    }
    let Some((port, value)) = controls.acpi_enable.filter(|&(_, value)| value != 0) else {
        return false;
    };
    acpi_port::<u8>(port).write(value);
    (0..ACPI_MODE_READS).any(|_| control.read() & SCI_ENABLE != 0)
}

/// Enters soft off (S5) with `types` through `controls`; returns only if
/// the machine is still running afterwards.
pub fn soft_off(controls: Controls, types: SleepTypes) {
    let _ = enter_acpi_mode(controls);
    let [a, b] = controls.blocks;
    let writes = [(a, types.a), (b, types.b)];
    for enter in [false, true] {
        for (block, sleep_type) in writes {
            if let Some(Block { port, .. }) = block {
                let control = acpi_port::<u16>(port);
                control.write(fixed::sleep_control(control.read(), sleep_type, enter));
            }
        }
    }
}
