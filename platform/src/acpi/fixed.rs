//! The FADT's fixed power hardware: PM1 event and control blocks, the SCI.
//!
//! An ACPI PC (q35, pc, most hardware) signals its power button as a
//! fixed feature: pressing it sets `PWRBTN_STS` (bit 8) in the PM1 status
//! register, and if `PWRBTN_EN` (bit 8 of the PM1 enable register, which
//! follows the status register in the event block) is set, raises the
//! System Control Interrupt. Status bits are cleared by writing 1. The
//! PM1 control register holds `SCI_EN` (bit 0: ACPI mode; firmware sets
//! it when the OS writes `ACPI_ENABLE` to the `SMI_CMD` port) and the
//! sleep controls: `SLP_TYP` (bits 10..=12, the value `\_S5_` names for
//! soft-off) and `SLP_EN` (bit 13) to enter it. A machine may split each
//! block in two (PM1a and PM1b), and then both are written.
//!
//! [`FixedHardware::from_fadt`] takes only what a power button needs, and
//! only I/O ports (every PC puts PM1 in I/O space); anything else, or a
//! value no PC could have, yields an error, never a fault. The register
//! arithmetic is here as plain functions, tested on the host; the port
//! accesses are in `button` (image only).

use core::fmt;

use acpi::address::{AddressSpace, GenericAddress};
use acpi::fadt::Fadt;

/// Offsets in the FADT of the legacy PM1 event, PM1 control, GPE0 and
/// GPE1 block lengths, and the end of the last: the crate turns each into
/// a bit width by multiplying it by 8 in a `u8` (see [`lengths_fit`]).
const LEGACY_LENGTHS: [usize; 4] = [88, 89, 92, 93];
/// How many of the FADT's bytes [`lengths_fit`] reads.
pub const LEGACY_LENGTHS_END: usize = 94;

/// `PWRBTN_STS` in PM1 status and `PWRBTN_EN` in PM1 enable.
pub const POWER_BUTTON: u16 = 1 << 8;
/// `SCI_EN` in PM1 control: the hardware is in ACPI mode.
pub const SCI_ENABLE: u16 = 1;
/// `SLP_EN` in PM1 control: enter the sleep state in `SLP_TYP`.
pub const SLEEP_ENABLE: u16 = 1 << 13;
/// Where `SLP_TYP` sits in PM1 control.
const SLEEP_TYPE_SHIFT: u16 = 10;
const SLEEP_TYPE_MASK: u16 = 0x7 << SLEEP_TYPE_SHIFT;

/// One PM1 register block in I/O space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Its first port.
    pub port: u16,
    /// Its length in bytes.
    pub length: u8,
}

/// The PM1 control registers, and how to put the machine in ACPI mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Controls {
    /// The SMI command port and the value that enters ACPI mode, if the
    /// machine has one (none: it is always in ACPI mode).
    pub acpi_enable: Option<(u16, u8)>,
    /// PM1a and PM1b control blocks (PM1a always).
    pub blocks: [Option<Block>; 2],
}

impl Controls {
    /// The control registers in `fadt`, if it has usable ones.
    pub fn from_fadt(fadt: &Fadt) -> Option<Self> {
        if { fadt.flags }.system_is_hw_reduced_acpi() {
            return None;
        }
        let a = fadt.pm1a_control_block().ok().and_then(control_block)?;
        let b = fadt.pm1b_control_block().ok().flatten();
        let smi_command = u16::try_from(fadt.smi_cmd_port)
            .ok()
            .filter(|&port| port != 0);
        Some(Self {
            acpi_enable: smi_command.map(|port| (port, fadt.acpi_enable)),
            blocks: [Some(a), b.and_then(control_block)],
        })
    }
}

/// Where the power button's registers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHardware {
    /// The SCI as the FADT names it: an ISA IRQ (see the MADT's overrides).
    pub sci: u8,
    /// PM1a and PM1b event blocks (status, then enable; PM1a always).
    pub events: [Option<Block>; 2],
    /// PM1 control and the way into ACPI mode.
    pub controls: Controls,
    /// GPE0 and GPE1 blocks (status half, then enable half).
    pub general_events: [Option<Block>; 2],
}

/// Why a machine has no fixed-feature power button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoButton {
    /// No ACPI tables, or no FADT among them.
    NoFadt,
    /// A hardware-reduced machine (no PM1 blocks: microvm).
    HardwareReduced,
    /// The FADT says the power button is a device, not a fixed feature.
    ControlMethod,
    /// The FADT names no SCI, or one past the ISA range.
    NoSci,
    /// A PM1 block is missing, not in I/O space or malformed.
    Registers,
    /// The machine did not enter ACPI mode (`SCI_EN` stayed clear).
    AcpiMode,
}

impl fmt::Display for NoButton {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoFadt => "no ACPI FADT",
            Self::HardwareReduced => {
                "hardware-reduced ACPI without a Generic Event Device as QEMU's"
            }
            Self::ControlMethod => "the power button is a control-method device",
            Self::NoSci => "no SCI in the FADT",
            Self::Registers => "no usable PM1 registers in the FADT",
            Self::AcpiMode => "the machine did not enter ACPI mode",
        })
    }
}

impl FixedHardware {
    /// The power button's registers in `fadt` (see the module docs).
    pub fn from_fadt(fadt: &Fadt) -> Result<Self, NoButton> {
        if { fadt.flags }.system_is_hw_reduced_acpi() {
            return Err(NoButton::HardwareReduced);
        }
        if { fadt.flags }.power_button_is_control_method() {
            return Err(NoButton::ControlMethod);
        }
        let sci = u8::try_from(fadt.sci_interrupt).map_err(|_| NoButton::NoSci)?;
        if sci == 0 || sci >= 16 {
            return Err(NoButton::NoSci);
        }
        let event_a = fadt.pm1a_event_block().ok().and_then(event_block);
        let controls = Controls::from_fadt(fadt);
        let (Some(event_a), Some(controls)) = (event_a, controls) else {
            return Err(NoButton::Registers);
        };
        let event_b = fadt.pm1b_event_block().ok().flatten();
        let gpe0 = fadt.gpe0_block().ok().flatten();
        let gpe1 = fadt.gpe1_block().ok().flatten();
        Ok(Self {
            sci,
            events: [Some(event_a), event_b.and_then(event_block)],
            controls,
            general_events: [gpe0.and_then(gpe_block), gpe1.and_then(gpe_block)],
        })
    }
}

/// Whether the crate may be asked for the FADT `fadt`'s (its bytes) PM1
/// and GPE blocks: it multiplies each legacy length by 8 in a `u8`, which
/// overflows (and panics where overflow is checked) from 32 on.
pub fn lengths_fit(fadt: &[u8]) -> bool {
    LEGACY_LENGTHS
        .iter()
        .all(|&offset| fadt.get(offset).is_some_and(|&length| length < 32))
}

/// An I/O block of at least `minimum` bytes and an even length.
fn io_block(address: GenericAddress, minimum: u8) -> Option<Block> {
    if address.address_space != AddressSpace::SystemIo || address.bit_offset != 0 {
        return None;
    }
    let port = u16::try_from(address.address)
        .ok()
        .filter(|&port| port != 0)?;
    let length = address.bit_width / 8;
    let fits = port.checked_add(u16::from(length)).is_some();
    (length >= minimum && length.is_multiple_of(2) && fits).then_some(Block { port, length })
}

/// A PM1 event block: a 16-bit status and a 16-bit enable register at
/// least (ACPI: `PM1_EVT_LEN` ≥ 4).
fn event_block(address: GenericAddress) -> Option<Block> {
    io_block(address, 4)
}

/// A PM1 control block: one 16-bit register at least.
fn control_block(address: GenericAddress) -> Option<Block> {
    io_block(address, 2)
}

/// A GPE block: status registers, then as many enable registers.
fn gpe_block(address: GenericAddress) -> Option<Block> {
    io_block(address, 2)
}

/// A hardware-reduced machine's sleep control register (one byte):
/// `SLP_TYP` in bits 2..=4, `SLP_EN` in bit 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SleepControl {
    /// In memory, at this physical address.
    Memory(u64),
    /// At this I/O port.
    Io(u16),
}

/// The sleep control register of a hardware-reduced `fadt`, if it has one.
pub fn sleep_control_register(fadt: &Fadt) -> Option<SleepControl> {
    if !{ fadt.flags }.system_is_hw_reduced_acpi() {
        return None;
    }
    let register = fadt.sleep_control_register().ok().flatten()?;
    if register.address == 0 || register.bit_offset != 0 {
        return None;
    }
    match register.address_space {
        AddressSpace::SystemMemory => Some(SleepControl::Memory(register.address)),
        AddressSpace::SystemIo => u16::try_from(register.address).ok().map(SleepControl::Io),
        _ => None,
    }
}

/// The byte that enters sleep type `sleep_type` through a sleep control
/// register.
pub const fn sleep_control_value(sleep_type: u8) -> u8 {
    ((sleep_type & 0x7) << 2) | 1 << 5
}

/// The port of PM1 status in event block `block`.
pub const fn status_port(block: Block) -> u16 {
    block.port
}

/// The port of PM1 enable in event block `block`: after the status
/// register, half-way through the block.
pub const fn enable_port(block: Block) -> u16 {
    block.port + block.length as u16 / 2
}

/// The ports of the enable registers of GPE block `block` (its second half).
pub fn gpe_enable_ports(block: Block) -> core::ops::Range<u16> {
    enable_port(block)..block.port + u16::from(block.length)
}

/// Whether PM1 status `status` says the power button was pressed.
pub const fn power_button_pressed(status: u16) -> bool {
    status & POWER_BUTTON != 0
}

/// PM1 control `current` with `SLP_TYP` set to `sleep_type` and
/// `SLP_EN` clear (the first of the two writes that enter a sleep state)
/// or set (the second), keeping every other bit (`SCI_EN` above all).
pub const fn sleep_control(current: u16, sleep_type: u8, enter: bool) -> u16 {
    let typed = (current & !(SLEEP_TYPE_MASK | SLEEP_ENABLE))
        | ((sleep_type as u16 & 0x7) << SLEEP_TYPE_SHIFT);
    if enter { typed | SLEEP_ENABLE } else { typed }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QEMU_Q35: Block = Block {
        port: 0x600,
        length: 4,
    };

    #[test]
    fn the_enable_register_follows_the_status_register() {
        assert_eq!(status_port(QEMU_Q35), 0x600);
        assert_eq!(enable_port(QEMU_Q35), 0x602);
        let wide = Block {
            port: 0xb000,
            length: 8,
        };
        assert_eq!(enable_port(wide), 0xb004);
        let gpe = Block {
            port: 0x620,
            length: 16,
        };
        assert_eq!(gpe_enable_ports(gpe), 0x628..0x630);
    }

    #[test]
    fn the_sleep_control_register_takes_type_and_enable() {
        assert_eq!(sleep_control_value(5), 0x34, "microvm's S5");
        assert_eq!(sleep_control_value(0), 0x20);
        assert_eq!(sleep_control_value(0xff), 0x3c, "three bits only");
    }

    #[test]
    fn only_the_power_button_bit_is_a_press() {
        assert!(power_button_pressed(0x0100));
        assert!(power_button_pressed(0x8101));
        assert!(!power_button_pressed(0x0001), "the timer");
        assert!(!power_button_pressed(0x0200), "the sleep button");
        assert!(!power_button_pressed(0));
    }

    #[test]
    fn sleep_control_keeps_sci_en_and_sets_type_then_enable() {
        assert_eq!(sleep_control(SCI_ENABLE, 0, false), 0x0001);
        assert_eq!(sleep_control(SCI_ENABLE, 0, true), 0x2001);
        assert_eq!(sleep_control(SCI_ENABLE, 5, true), 0x3401);
        assert_eq!(sleep_control(0x1c01, 7, false), 0x1c01, "type replaced");
        assert_eq!(sleep_control(0x3c01, 2, false), 0x0801, "enable cleared");
        assert_eq!(sleep_control(0, 0xff, false), 0x1c00, "three bits only");
    }

    /// A generic address as the crate decodes it.
    fn address(space: AddressSpace, bits: u8, address: u64) -> GenericAddress {
        GenericAddress {
            address_space: space,
            bit_width: bits,
            bit_offset: 0,
            access_size: acpi::address::AccessSize::Undefined,
            address,
        }
    }

    #[test]
    fn only_sane_io_blocks_are_taken() {
        let io = AddressSpace::SystemIo;
        assert_eq!(event_block(address(io, 32, 0x600)), Some(QEMU_Q35));
        assert_eq!(event_block(address(io, 16, 0x600)), None, "too short");
        assert_eq!(event_block(address(io, 24, 0x600)), None, "odd halves");
        assert_eq!(event_block(address(io, 32, 0)), None, "no port");
        assert_eq!(event_block(address(io, 32, 0x1_0000)), None, "not a port");
        assert_eq!(event_block(address(io, 32, 0xfffe)), None, "wraps");
        let memory = AddressSpace::SystemMemory;
        assert_eq!(event_block(address(memory, 32, 0x600)), None);
        assert!(control_block(address(io, 16, 0x604)).is_some());
        assert!(control_block(address(io, 8, 0x604)).is_none());
    }
}
