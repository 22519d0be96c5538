//! The PCI entry points: init, configuration access, BAR lookup and mapping.

use core::fmt;
use core::ptr::NonNull;

use spin::Once;

use super::address::PciAddress;
use super::assign::{self, Assigned, Decoding, Windows};
use super::bar::Bar;
use super::inventory::{self, with_inventory};
use super::{PciError, config, intx, scan, sizing};
use crate::paging;

/// What [`init`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Functions listed.
    pub functions: usize,
    /// Functions beyond the table's capacity (not listed, not assigned).
    pub dropped: usize,
    /// What assignment did.
    pub assigned: Assigned,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} functions, {} BARs assigned",
            self.functions, self.assigned.bars
        )?;
        if self.assigned.bridges > 0 {
            write!(f, ", {} bridges set up", self.assigned.bridges)?;
        }
        if self.assigned.failed > 0 {
            write!(
                f,
                ", {} BARs NOT assigned (window full)",
                self.assigned.failed
            )?;
        }
        if self.dropped > 0 {
            write!(f, ", {} functions dropped (table full)", self.dropped)?;
        }
        Ok(())
    }
}

/// This machine has no PCI configuration mechanism (plain microvm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoPci;

impl fmt::Display for NoPci {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no PCI configuration mechanism on this machine")
    }
}

static SUMMARY: Once<Result<Summary, NoPci>> = Once::new();

/// Scans and assigns with the default windows (once; later calls return
/// the first result).
///
/// # Errors
/// [`NoPci`].
pub fn init() -> Result<Summary, NoPci> {
    init_with(Windows::default(), Decoding::default())
}

/// Scans, assigns unassigned BARs from `windows` and switches decoding on
/// per `decoding` (once).
///
/// # Errors
/// [`NoPci`].
pub fn init_with(mut windows: Windows, decoding: Decoding) -> Result<Summary, NoPci> {
    *SUMMARY.call_once(|| {
        if !config::mechanism_present() {
            return Err(NoPci);
        }
        Ok(with_inventory(|inventory| {
            let found = scan::scan(inventory);
            let assigned = assign::assign(inventory, &found, &mut windows, decoding);
            intx::route_lines(inventory);
            Summary {
                functions: inventory.count,
                dropped: inventory.dropped,
                assigned,
            }
        }))
    })
}

/// Reads the configuration dword at `offset` (4-byte aligned, < 256).
///
/// # Errors
/// [`PciError::NoDevice`] without a bus, [`PciError::InvalidAddress`].
pub fn config_read(address: PciAddress, offset: u16) -> Result<u32, PciError> {
    available()?;
    config::read(address, offset)
}

/// Writes the configuration dword at `offset` (4-byte aligned, < 256).
///
/// # Errors
/// [`PciError::NoDevice`] without a bus, [`PciError::InvalidAddress`].
pub fn config_write(address: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
    available()?;
    config::write(address, offset, value)
}

fn available() -> Result<(), PciError> {
    match SUMMARY.get() {
        Some(Err(NoPci)) => Err(PciError::NoDevice),
        Some(Ok(_)) => Ok(()),
        None if config::mechanism_present() => Ok(()),
        None => Err(PciError::NoDevice),
    }
}

/// BAR `index` (0..=5) of the function at `address`, as assigned at boot;
/// the function decodes that BAR's kind from now on (see [`Decoding`]).
///
/// # Errors
/// [`PciError::NoDevice`] (not found at boot), [`PciError::NoSuchBar`].
pub fn bar(address: PciAddress, index: u8) -> Result<Bar, PciError> {
    let function = inventory::find_sized(address).ok_or(PciError::NoDevice)?;
    let bar = function.bars.get(usize::from(index)).copied().flatten();
    let bar = bar
        .filter(|bar| !bar.is_unassigned())
        .ok_or(PciError::NoSuchBar)?;
    sizing::enable(address, sizing::decode_bit(bar.kind));
    Ok(bar)
}

/// BAR `index` and, for a memory BAR, where the kernel reaches it
/// (mapped uncached; identity, so the pointer equals the address).
///
/// # Errors
/// As [`bar`], and [`PciError::MapFailed`].
pub fn map_bar(address: PciAddress, index: u8) -> Result<(Bar, Option<NonNull<u8>>), PciError> {
    let bar = bar(address, index)?;
    if !bar.kind.is_memory() {
        return Ok((bar, None));
    }
    let virt = paging::map_mmio(bar.address, bar.size).map_err(|_| PciError::MapFailed)?;
    Ok((bar, Some(virt)))
}
