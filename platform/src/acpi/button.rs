//! The ACPI power button and soft off, on the registers the tables name.
//!
//! Fixed hardware (q35, pc): [`PowerButton::arm`] puts the machine in
//! ACPI mode (writing `ACPI_ENABLE` to `SMI_CMD` when `SCI_EN` is clear,
//! then waiting a bounded number of reads for it), disables every
//! general-purpose event and every PM1 event but the power button
//! (nothing else may raise the level-triggered SCI, which nobody else
//! acknowledges), clears what is pending, and sets `PWRBTN_EN`; each SCI
//! is answered with [`PowerButton::take_press`], which reads and clears
//! PM1 status. Hardware-reduced (microvm): [`PowerButton::arm_event_device`]
//! maps the Generic Event Device's selector; `take_press` reads it (which
//! clears it). [`soft_off`] writes the `\_S5_` sleep types and `SLP_EN`
//! to PM1a (and PM1b) control, or to the sleep control register.
//!
//! The ports and addresses come from the FADT and the DSDT, checked by
//! [`super::fixed`] and [`super::ged`]: these registers only set and clear
//! event, enable and sleep bits. Nothing but this module touches them.

use super::fixed::{self, Block, Controls, FixedHardware, NoButton, SCI_ENABLE, SleepControl};
use super::ged::{GenericEventDevice, POWER_DOWN_EVENT};
use super::madt::IsaRoute;
use super::sleep::SleepTypes;
use crate::mmio::Registers;
use crate::port::OwnedPort;

/// Reads of PM1 control while waiting for `SCI_EN` (about a microsecond
/// each on hardware; firmware takes far less, QEMU none).
const ACPI_MODE_READS: u32 = 1_000_000;

/// The port `number` of an ACPI register block the tables name.
fn acpi_port<T: x86_64::structures::port::PortRead + x86_64::structures::port::PortWrite>(
    number: u16,
) -> OwnedPort<T> {
    // SAFETY: `number` lies in a PM1, GPE, SMI command or sleep control
    // block of the FADT (see `fixed`), which only this module accesses;
    // those registers hold event, enable and sleep bits, and no access
    // to them makes a device write memory.
    unsafe { OwnedPort::new(number) }
}

/// Maps the `length` bytes of ACPI registers at `address`.
fn acpi_registers(address: u64, length: usize) -> Option<Registers> {
    // SAFETY: the tables name `address` as an ACPI register (the GED's
    // event selector, the sleep control register), device memory whose
    // reads and writes only report and clear events or enter a sleep
    // state, never making a device write memory.
    unsafe { Registers::map(address, length) }.ok()
}

/// An armed power button (see the module docs).
#[derive(Debug)]
pub struct PowerButton {
    kind: Kind,
    route: IsaRoute,
}

#[derive(Debug)]
enum Kind {
    /// PM1's `PWRBTN_STS`, behind the SCI.
    Fixed(FixedHardware),
    /// A Generic Event Device's selector, behind its interrupt.
    EventDevice(Registers),
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
        let kind = Kind::Fixed(hardware);
        Ok(Self { kind, route })
    }

    /// Arms the power-down event of the Generic Event Device `device`.
    ///
    /// # Errors
    /// [`NoButton::Registers`] if its selector cannot be mapped.
    pub fn arm_event_device(device: GenericEventDevice) -> Result<Self, NoButton> {
        let selector = acpi_registers(device.selector, 4).ok_or(NoButton::Registers)?;
        // Events before now are stale: reading the selector clears them.
        let _ = selector.read(0);
        let route = IsaRoute {
            gsi: device.gsi,
            level_triggered: Some(device.level_triggered),
            active_low: Some(device.active_low),
        };
        let kind = Kind::EventDevice(selector);
        Ok(Self { kind, route })
    }

    /// How the button's interrupt reaches the interrupt controllers.
    pub fn route(&self) -> IsaRoute {
        self.route
    }

    /// Reads and clears the button's status: whether it was pressed
    /// since the last call.
    pub fn take_press(&self) -> bool {
        match &self.kind {
            Kind::Fixed(hardware) => take_fixed_press(hardware),
            Kind::EventDevice(selector) => selector.read(0) & POWER_DOWN_EVENT != 0,
        }
    }
}

/// Reads and clears PM1 status: whether `PWRBTN_STS` was set.
fn take_fixed_press(hardware: &FixedHardware) -> bool {
    let mut pressed = false;
    for block in hardware.events.into_iter().flatten() {
        let status = acpi_port::<u16>(fixed::status_port(block));
        let bits = status.read();
        status.write(bits);
        pressed |= fixed::power_button_pressed(bits);
    }
    pressed
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

/// Enters soft off (S5) with `types` through PM1 `controls`; returns
/// only if the machine is still running afterwards.
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

/// Enters soft off with `types` through a hardware-reduced machine's
/// sleep control `register`; returns only if the machine still runs.
pub fn soft_off_reduced(register: SleepControl, types: SleepTypes) {
    let value = fixed::sleep_control_value(types.a);
    match register {
        SleepControl::Io(port) => acpi_port::<u8>(port).write(value),
        SleepControl::Memory(address) => {
            let base = address & !3;
            let offset = (address - base) as usize;
            if let Some(registers) = acpi_registers(base, 4) {
                registers.write_byte(offset, value);
            }
        }
    }
}
