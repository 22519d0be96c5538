//! Proves PCI under QEMU: enumeration, BAR assignment, decoding, mapping.
//!
//! Lists every function with its BARs; checks that every implemented BAR
//! has an address, that decoding is on for the kinds present, that no two
//! BARs overlap, and, for a modern virtio device, that its common
//! configuration answers through the mapped BAR (VERSION_1 feature set).
//! 64-bit BARs that need an address go above 4 GiB (0x80_0000_0000), to
//! exercise `paging::map_mmio` beyond the boot identity map. A machine
//! without PCI passes if it reports so. With `-append lazy` decoding is
//! switched on only when a BAR is asked for (`pci::Decoding::OnFirstUse`):
//! devices the example does not use then stay undecoded.

#![cfg_attr(target_os = "none", no_std, no_main)]

/// On the host (`cargo test` builds every example) this is an empty program.
#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
#[macro_use]
mod support;

#[cfg(target_os = "none")]
mod image {
    use crate::support;

    use platform::boot::BootInfo;
    use platform::pci::{self, Decoding, Function, IoWidth, PciAddress, PciError, Window, Windows};
    use platform::{cpu, println};

    platform::entry_point!(main);

    const VIRTIO_VENDOR: u16 = 0x1af4;
    const CAPABILITY_VENDOR: u8 = 0x09;
    const VIRTIO_COMMON_CONFIGURATION: u8 = 1;

    fn main(info: &'static BootInfo) -> ! {
        let lazy = info
            .command_line
            .as_str()
            .split(' ')
            .any(|word| word == "lazy");
        let decoding = if lazy {
            Decoding::OnFirstUse
        } else {
            Decoding::AtInit
        };
        let windows = Windows {
            memory64: Some(Window::new(0x80_0000_0000, 0x100_0000_0000, 4096)),
            ..Windows::default()
        };
        let started = cpu::rdtsc();
        let summary = pci::init_with(windows, decoding);
        let ticks = cpu::rdtsc() - started;
        match summary {
            Err(PciError::NoPci) => {
                println!("no PCI on this machine ({ticks} TSC ticks to find out)");
                support::finish()
            }
            Err(error) => check!(false, "PCI init: {error}"),
            Ok(summary) => println!("PCI: {summary} ({ticks} TSC ticks, decoding {decoding:?})"),
        }
        let mut bars: [(u64, u64, bool); 48] = [(0, 0, false); 48];
        let mut count = 0;
        for function in pci::functions() {
            describe(&function, decoding);
            for bar in function.bars.iter().flatten() {
                if count < bars.len() {
                    bars[count] = (bar.address, bar.size, bar.kind.is_memory());
                    count += 1;
                }
            }
            if function.vendor == VIRTIO_VENDOR && function.device >= 0x1040 {
                check_virtio(function.address);
            }
        }
        check!(
            no_overlaps(&bars[..count]),
            "{count} BARs, none overlapping"
        );
        check_io();
        support::finish()
    }

    fn describe(function: &Function, decoding: Decoding) {
        let command = pci::config_read(function.address, 0x04).unwrap_or(0) & 0xffff;
        println!(
            "{} {:04x}:{:04x} class {:02x}.{:02x}.{:02x} header {} command {command:#06x}",
            function.address,
            function.vendor,
            function.device,
            function.class,
            function.subclass,
            function.interface,
            function.header_type,
        );
        if let Some(bus) = function.secondary_bus {
            let register = |offset| pci::config_read(function.address, offset).unwrap_or(0);
            println!(
                "    bridge to bus {bus:02x}: buses {:#010x} io {:#010x} memory {:#010x} prefetchable {:#010x}",
                register(0x18),
                register(0x1c),
                register(0x20),
                register(0x24)
            );
        }
        let (mut io, mut memory) = (false, false);
        for (index, bar) in function.bars.iter().enumerate() {
            let Some(bar) = bar else { continue };
            println!(
                "    BAR {index}: {:?} at {:#x}, {:#x} bytes",
                bar.kind, bar.address, bar.size
            );
            check!(
                !bar.is_unassigned(),
                "{} BAR {index} has an address",
                function.address
            );
            io |= !bar.kind.is_memory();
            memory |= bar.kind.is_memory();
        }
        if decoding == Decoding::AtInit {
            let decodes = (!io || command & 1 != 0) && (!memory || command & 2 != 0);
            check!(
                decodes,
                "{} decodes its BAR kinds (command {command:#x})",
                function.address
            );
        }
    }

    /// Port I/O: refused outside I/O BARs, allowed inside the first one.
    fn check_io() {
        let outside = pci::io_read(0x70, IoWidth::Byte);
        check!(
            outside == Err(PciError::NoSuchBar),
            "port 0x70 refused: {outside:?}"
        );
        let io_bar = pci::functions().find_map(|function| {
            let index = function
                .bars
                .iter()
                .position(|bar| bar.is_some_and(|bar| !bar.kind.is_memory()))?;
            Some((function.address, index as u8))
        });
        let Some((address, index)) = io_bar else {
            return;
        };
        let Ok(bar) = pci::bar(address, index) else {
            return check!(false, "{address} BAR {index}");
        };
        let last = bar.address + bar.size - 4;
        let inside = pci::io_read(last as u16, IoWidth::Dword);
        let beyond = pci::io_read(last as u16 + 2, IoWidth::Dword);
        check!(
            inside.is_ok() && beyond == Err(PciError::NoSuchBar),
            "{address} I/O BAR {index} at {:#x}: last dword {inside:x?}, straddling the end {beyond:?}",
            bar.address
        );
    }

    /// Finds the virtio common configuration through the capability list and
    /// reads the high feature word through the mapped BAR.
    fn check_virtio(address: PciAddress) {
        let Some((bar_index, offset)) = virtio_common_configuration(address) else {
            return check!(false, "{address}: virtio common configuration capability");
        };
        match pci::map_bar(address, bar_index) {
            Ok((bar, Some(base))) => {
                let command = pci::config_read(address, 0x04).unwrap_or(0);
                check!(
                    command & 2 != 0,
                    "{address}: memory decoding on once the BAR was asked for"
                );
                let common = base.as_ptr().wrapping_add(offset as usize).cast::<u32>();
                // SAFETY: `common` lies inside the BAR the device decodes and
                // `map_bar` mapped; the first two registers of the virtio common
                // configuration are device_feature_select and device_feature.
                let high_features = unsafe {
                    common.write_volatile(1);
                    common.add(1).read_volatile()
                };
                check!(
                    high_features & 1 == 1,
                    "{address}: virtio VERSION_1 read through BAR {bar_index} at {:#x} (mapped {:p})",
                    bar.address,
                    base
                );
            }
            Ok((_, None)) => check!(false, "{address}: virtio BAR {bar_index} is not memory"),
            Err(error) => check!(false, "{address}: map BAR {bar_index}: {error}"),
        }
    }

    /// (BAR index, offset) of the virtio common configuration structure.
    fn virtio_common_configuration(address: PciAddress) -> Option<(u8, u32)> {
        let status = pci::config_read(address, 0x04).ok()? >> 16;
        if status & (1 << 4) == 0 {
            return None;
        }
        let mut pointer = (pci::config_read(address, 0x34).ok()? & 0xfc) as u16;
        for _ in 0..48 {
            if pointer == 0 {
                return None;
            }
            let header = pci::config_read(address, pointer).ok()?;
            let [id, next, _length, kind] = header.to_le_bytes();
            if id == CAPABILITY_VENDOR && kind == VIRTIO_COMMON_CONFIGURATION {
                let bar = pci::config_read(address, pointer + 4).ok()? as u8;
                let offset = pci::config_read(address, pointer + 8).ok()?;
                return Some((bar, offset));
            }
            pointer = u16::from(next & 0xfc);
        }
        None
    }

    fn no_overlaps(bars: &[(u64, u64, bool)]) -> bool {
        bars.iter()
            .enumerate()
            .all(|(index, &(address, size, memory))| {
                bars[index + 1..]
                    .iter()
                    .all(|&(other, other_size, other_memory)| {
                        memory != other_memory
                            || address + size <= other
                            || other + other_size <= address
                    })
            })
    }
}
