//! virtio over MMIO: the devices the command line names, as on QEMU's
//! microvm.
//!
//! The devices come as Linux's `virtio_mmio` module reads them, one word
//! each: `virtio_mmio.device=<size>@<base>:<irq>[:<id>]`, sizes and
//! addresses decimal or `0x` hex with an optional K, M or G suffix.
//! microvm writes them itself only with `acpi=off` (QEMU 7.2); with ACPI on
//! it describes the devices in its DSDT, and the bare-metal host appends
//! the same words from there. The words are taken from the raw boot
//! parameters, since the key repeats once per device. A malformed word is
//! logged and skipped; a slot holding another kind of device is skipped
//! quietly, untouched. The interrupt is an I/O APIC input that the device holds high
//! while its interrupt status is set: a driver establishes it
//! edge-triggered ([`MmioDevice::interrupt`]), and its handler
//! acknowledges the status before it drains the queues, so an event after
//! that raises a new edge.

use base::Context;
use base::hypercall::{InterruptSource, MemoryError};
use dev::DevError;
use log::{debug, warn};
use virtio_drivers::transport::DeviceType;
use virtio_drivers::transport::mmio::MmioTransport;

use crate::hal;

/// The parameter key.
const KEY: &str = "virtio_mmio.device";
/// The smallest register block: the header up to the device config.
const MINIMUM_SIZE: u64 = 0x100;
/// The largest block accepted (a slot is 512 bytes on microvm).
const MAXIMUM_SIZE: u64 = 1 << 20;

/// One `virtio_mmio.device=` word, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmioDevice {
    /// Length of the register block.
    pub size: u64,
    /// Its physical address.
    pub base: u64,
    /// Its interrupt (a GSI).
    pub irq: u32,
}

impl MmioDevice {
    /// Its interrupt: an edge on its line (see the module docs).
    pub fn interrupt(&self) -> InterruptSource {
        InterruptSource::Line {
            gsi: self.irq,
            level_triggered: false,
        }
    }
}

/// Why a `virtio_mmio.device=` value is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError(pub &'static str);

/// The `virtio_mmio.device=` values of the command line `line`, in order.
pub fn values(line: &str) -> impl Iterator<Item = &str> {
    line.split_ascii_whitespace()
        .filter_map(|word| word.split_once('='))
        .filter(|(key, _)| *key == KEY)
        .map(|(_, value)| value)
}

/// Parses `<size>@<base>:<irq>[:<id>]`.
///
/// # Errors
/// [`ParseError`] naming what is wrong.
pub fn parse(value: &str) -> Result<MmioDevice, ParseError> {
    let (size, rest) = value
        .split_once('@')
        .ok_or(ParseError("want <size>@<base>:<irq>"))?;
    let (base, rest) = rest.split_once(':').ok_or(ParseError("no :<irq>"))?;
    let irq = match rest.split_once(':') {
        Some((irq, id)) => {
            id.parse::<u32>().map_err(|_| ParseError("bad device id"))?;
            irq
        }
        None => rest,
    };
    let device = MmioDevice {
        size: number(size).ok_or(ParseError("bad size"))?,
        base: number(base).ok_or(ParseError("bad base address"))?,
        irq: irq.parse().map_err(|_| ParseError("bad irq"))?,
    };
    check(device)
}

fn check(device: MmioDevice) -> Result<MmioDevice, ParseError> {
    if !(MINIMUM_SIZE..=MAXIMUM_SIZE).contains(&device.size) {
        return Err(ParseError("size outside 256 bytes..1 MiB"));
    }
    if device.base == 0 || !device.base.is_multiple_of(4) {
        return Err(ParseError("base address zero or not 4-byte aligned"));
    }
    if device.base.checked_add(device.size).is_none() {
        return Err(ParseError("block runs past the address space"));
    }
    Ok(device)
}

/// A decimal or `0x` hex number with an optional K, M or G suffix.
fn number(text: &str) -> Option<u64> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 10),
        b'm' | b'M' => (&text[..text.len() - 1], 20),
        b'g' | b'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    };
    value.checked_mul(1 << shift)
}

/// What attaches one device of the kind a driver serves.
pub(crate) type AttachFunction<'f> =
    &'f dyn Fn(&Context<'_>, MmioDevice, MmioTransport<'static>) -> Result<(), DevError>;

/// Hands every device of type `kind` the command line names to `attach`,
/// with its transport; other kinds are skipped quietly, failures logged.
pub(crate) fn attach_each(context: &Context<'_>, kind: DeviceType, attach: AttachFunction<'_>) {
    let line = context.kernel().hypercalls().boot_parameters();
    for value in values(line) {
        let result = parse(value)
            .map_err(|ParseError(reason)| DevError::Unusable(reason))
            .and_then(|device| {
                let Some(transport) = transport(context, device, kind)? else {
                    return Ok(());
                };
                attach(context, device, transport)
            });
        if let Err(error) = result {
            warn!("{KEY}={value}: {error}; not attached");
        }
    }
}

/// The transport of `device` if it is of type `kind`. The type is read
/// first: a transport resets its device when dropped, so one is made only
/// for a device of the caller's kind.
fn transport(
    context: &Context<'_>,
    device: MmioDevice,
    kind: DeviceType,
) -> Result<Option<MmioTransport<'static>>, DevError> {
    let host = context.kernel().hypercalls();
    let size = usize::try_from(device.size).map_err(|_| DevError::Unusable("size too large"))?;
    hal::install(context)?;
    let memory = host
        .device_memory()
        .ok_or(DevError::Memory(MemoryError::Unsupported))?;
    let region = memory.mmio_map(device.base, size)?;
    let id = hal::mmio_device_id(&region).ok_or(DevError::Unusable(
        "no virtio-mmio device there (bad magic)",
    ))?;
    if id != kind as u32 {
        debug!("mmio {:#x}: virtio device {id}", device.base);
        return Ok(None);
    }
    Ok(Some(hal::mmio_transport(&region)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn reads_what_microvm_writes() {
        let line = "console=ttyS0 virtio_mmio.device=512@0xfeb00e00:12 \
                    virtio_mmio.device=512@0xfeb00c00:11 ip=dhcp";
        let devices: Vec<_> = values(line).map(parse).collect();
        assert_eq!(
            devices,
            [
                Ok(MmioDevice {
                    size: 512,
                    base: 0xfeb0_0e00,
                    irq: 12
                }),
                Ok(MmioDevice {
                    size: 512,
                    base: 0xfeb0_0c00,
                    irq: 11
                }),
            ]
        );
    }

    #[test]
    fn suffixes_hex_and_a_device_id() {
        let device = parse("4K@0xd0000000:5:3").unwrap();
        assert_eq!(
            (device.size, device.base, device.irq),
            (4096, 0xd000_0000, 5)
        );
        assert_eq!(parse("0x200@4096:7").unwrap().size, 512);
        assert_eq!(parse("1M@0XFEB00000:16").unwrap().size, 1 << 20);
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let bad = [
            "",
            "@",
            ":",
            "512",
            "512@",
            "512@0xfeb00e00",
            "512@0xfeb00e00:",
            "512@0xfeb00e00:x",
            "512@0xfeb00e00:12:",
            "512@0xfeb00e00:12:z",
            "x@0xfeb00e00:12",
            "512@0xfeb0zz00:12",
            "512@0x:12",
            "K@0x1000:1",
            "128@0xfeb00e00:12",
            "2M@0xfeb00e00:12",
            "512@0:12",
            "512@0xfeb00e02:12",
            "512@0xfffffffffffffe00:12",
            "99999999999999999999G@0x1000:1",
            "17179869184G@0x1000:1",
            "512@0x1000:99999999999",
            "512@0x1000:-1",
            "\u{e9}@\u{e9}:\u{e9}",
            "512@0x1000:1\u{e9}",
        ];
        for value in bad {
            assert!(parse(value).is_err(), "{value:?} accepted");
        }
    }

    #[test]
    fn only_the_key_is_taken_from_the_line() {
        let line = "virtio_mmio.devices=1@2:3 virtio_mmio.device virtio_mmio.device= \
                    xvirtio_mmio.device=1@2:3";
        let values: Vec<_> = values(line).collect();
        assert_eq!(values, [""]);
    }
}
