//! INTx routing on QEMU's two PC chipsets, written into the interrupt line.
//!
//! qboot programs the chipset's PIRQ router but writes interrupt line
//! values that do not match it (measured: q35 00:01.0 INTA reads line 11
//! and arrives on IRQ 10, GSI 21; pc 00:02.0 INTA reads 11, arrives on
//! 10). Drivers read the line register (the kernel's dev faction does), so
//! after the scan each function's GSI is computed from the chipset and
//! written there:
//!
//! - PIIX3 (`pc`, ISA bridge 8086:7000 at 00:01.0): INTx pin p (0-based)
//!   of slot s on bus 0 is PIRQ (s - 1 + p) mod 4; the bridge's registers
//!   0x60..=0x63 route PIRQ A..D to an ISA IRQ (bit 7: disabled), which is
//!   also its GSI.
//! - ICH9 (`q35`, LPC bridge 8086:2918 at 00:1f.0): PIRQ (s + p) mod 4 + 4
//!   (QEMU's default for slots below 25), p for slots 25..=29 and 31, p + 4
//!   for slot 30. With the I/O APIC, PIRQ n arrives on GSI 16 + n; through
//!   the PIC, on the IRQ its route register (0x60..=0x63, 0x68..=0x6b) names.
//!
//! Behind a bridge the pin is swizzled to the bridge's ((p + device) mod 4)
//! until bus 0. Other chipsets are left as firmware set them.

/// A chipset whose INTx routing is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chipset {
    /// i440fx with PIIX3: PIRQ A..D route registers.
    Piix3 {
        /// Route registers 0x60..=0x63.
        routes: [u8; 4],
    },
    /// q35 with ICH9.
    Ich9 {
        /// Route registers 0x60..=0x63, 0x68..=0x6b (PIRQ A..H).
        routes: [u8; 8],
        /// Whether interrupts go through the I/O APIC (GSI 16 + PIRQ).
        io_apic: bool,
    },
}

/// A route register that routes nowhere (bit 7) or to no valid IRQ.
fn routed_irq(route: u8) -> Option<u8> {
    let irq = route & 0x0f;
    (route & 0x80 == 0 && irq != 0 && irq != 2).then_some(irq)
}

/// The pin (1..=4) a bridge sees for `pin` of device `device` behind it.
pub fn swizzle(pin: u8, device: u8) -> u8 {
    (pin.wrapping_sub(1).wrapping_add(device)) % 4 + 1
}

impl Chipset {
    /// The GSI INTx `pin` (1..=4) of slot `slot` on bus 0 arrives on.
    pub fn gsi(&self, slot: u8, pin: u8) -> Option<u8> {
        if !(1..=4).contains(&pin) || slot > 31 {
            return None;
        }
        let intx = pin - 1;
        match *self {
            Self::Piix3 { routes } => {
                let pirq = (slot.wrapping_sub(1).wrapping_add(intx)) % 4;
                routed_irq(routes[usize::from(pirq)])
            }
            Self::Ich9 { routes, io_apic } => {
                let pirq = match slot {
                    30 => intx + 4,
                    25..=31 => intx,
                    _ => (slot + intx) % 4 + 4,
                };
                if io_apic {
                    Some(16 + pirq)
                } else {
                    routed_irq(routes[usize::from(pirq)])
                }
            }
        }
    }
}

#[cfg(target_os = "none")]
pub(super) use machine::route_lines;

#[cfg(target_os = "none")]
mod machine {
    use super::{Chipset, swizzle};
    use crate::interrupts::{self, Mode};
    use crate::pci::address::{PciAddress, at};
    use crate::pci::config::{read, write};
    use crate::pci::inventory::{Function, Inventory};

    const INTERRUPT: u16 = 0x3c;

    /// The PIIX3 ISA bridge: where it sits, vendor, device.
    fn piix3() -> (PciAddress, u16, u16) {
        (at(0, 1, 0), 0x8086, 0x7000)
    }

    /// The ICH9 LPC bridge: where it sits, vendor, device.
    fn ich9() -> (PciAddress, u16, u16) {
        (at(0, 0x1f, 0), 0x8086, 0x2918)
    }

    /// Writes each function's GSI into its interrupt line (see the
    /// module docs), and into what the kernel is told of it; does nothing
    /// on other chipsets.
    pub fn route_lines(inventory: &mut Inventory) {
        let Some(chipset) = detect(inventory) else {
            return;
        };
        for index in 0..inventory.count {
            let Some(function) = inventory.functions[index] else {
                continue;
            };
            let info = function.info;
            if info.header_type != 0 || !(1..=4).contains(&info.interrupt_pin) {
                continue;
            }
            let gsi = root_slot_and_pin(inventory, &function)
                .and_then(|(slot, pin)| chipset.gsi(slot, pin));
            if let (Some(gsi), Ok(dword)) = (gsi, read(info.address, INTERRUPT))
                && write(info.address, INTERRUPT, (dword & !0xff) | u32::from(gsi)).is_ok()
                && let Some(entry) = inventory.functions[index].as_mut()
            {
                entry.info.interrupt_line = gsi;
            }
        }
    }

    fn detect(inventory: &Inventory) -> Option<Chipset> {
        let is = |(address, vendor, device): (PciAddress, u16, u16)| {
            inventory
                .iter()
                .map(|f| f.info)
                .any(|f| f.address == address && f.vendor == vendor && f.device == device)
        };
        let byte = |address: PciAddress, offset: u16| {
            read(address, offset & !3).map_or(0x80, |dword| (dword >> ((offset & 3) * 8)) as u8)
        };
        if is(piix3()) {
            let routes = core::array::from_fn(|i| byte(piix3().0, 0x60 + i as u16));
            return Some(Chipset::Piix3 { routes });
        }
        if is(ich9()) {
            let register = |i: usize| if i < 4 { 0x60 + i } else { 0x68 + i - 4 };
            let routes = core::array::from_fn(|i| byte(ich9().0, register(i) as u16));
            let io_apic = interrupts::mode() == Some(Mode::IoApic);
            return Some(Chipset::Ich9 { routes, io_apic });
        }
        None
    }

    /// The slot and pin on bus 0 that `function`'s INTx arrives through.
    fn root_slot_and_pin(inventory: &Inventory, function: &Function) -> Option<(u8, u8)> {
        let (mut address, mut pin) = (function.info.address, function.info.interrupt_pin);
        for _ in 0..=255 {
            if address.bus() == 0 {
                return Some((address.device(), pin));
            }
            let bridge = inventory
                .iter()
                .find(|f| f.secondary_bus == Some(address.bus()))?;
            pin = swizzle(pin, address.device());
            address = bridge.info.address;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// qboot's routes: PIRQ A..D (and E..H) to IRQs 10, 10, 11, 11.
    const ROUTES: [u8; 8] = [10, 10, 11, 11, 10, 10, 11, 11];

    #[test]
    fn piix3_matches_what_qemu_delivers() {
        let piix3 = Chipset::Piix3 {
            routes: [10, 10, 11, 11],
        };
        assert_eq!(piix3.gsi(2, 1), Some(10), "measured: pc 00:02.0 INTA");
        assert_eq!(piix3.gsi(3, 1), Some(11));
        assert_eq!(piix3.gsi(1, 1), Some(10));
        let disabled = Chipset::Piix3 {
            routes: [0x80, 10, 11, 11],
        };
        assert_eq!(disabled.gsi(1, 1), None);
    }

    #[test]
    fn ich9_through_the_io_apic_and_the_pic() {
        let apic = Chipset::Ich9 {
            routes: ROUTES,
            io_apic: true,
        };
        assert_eq!(apic.gsi(1, 1), Some(21), "q35 00:01.0 INTA: PIRQF");
        assert_eq!(apic.gsi(4, 4), Some(23));
        assert_eq!(apic.gsi(31, 1), Some(16));
        assert_eq!(apic.gsi(30, 2), Some(21));
        let pic = Chipset::Ich9 {
            routes: ROUTES,
            io_apic: false,
        };
        assert_eq!(pic.gsi(1, 1), Some(10), "measured: IRQ 10");
    }

    #[test]
    fn bad_pins_and_slots_route_nowhere() {
        let apic = Chipset::Ich9 {
            routes: ROUTES,
            io_apic: true,
        };
        assert_eq!(apic.gsi(1, 0), None);
        assert_eq!(apic.gsi(1, 5), None);
        assert_eq!(apic.gsi(32, 1), None);
        assert_eq!(routed_irq(0x02), None);
        assert_eq!(routed_irq(0x00), None);
    }

    #[test]
    fn swizzle_rotates_by_the_device_number() {
        assert_eq!(swizzle(1, 0), 1);
        assert_eq!(swizzle(1, 1), 2);
        assert_eq!(swizzle(4, 1), 1);
        assert_eq!(swizzle(2, 7), 1);
        assert_eq!(swizzle(0, 0), 4, "a bad pin stays in range");
    }
}
