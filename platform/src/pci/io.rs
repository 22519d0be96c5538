//! Port I/O inside the I/O BARs of PCI functions.
//!
//! Only ports inside an I/O BAR found at boot are accessed, so a driver's
//! bad offset cannot reach the PIC, the CMOS or the reset register. The
//! access must fit in the BAR entirely. A BAR firmware enabled is sized
//! when a driver first asks for it with [`bar`](super::bar()); until then
//! only its first port counts as inside.

use x86_64::instructions::port::Port;

use super::inventory::with_inventory;
use super::{IoWidth, PciError};

/// Bytes an access of `width` touches.
fn bytes(width: IoWidth) -> u64 {
    match width {
        IoWidth::Byte => 1,
        IoWidth::Word => 2,
        IoWidth::Dword => 4,
    }
}

/// Whether `[port, port + width)` lies inside one I/O BAR.
fn inside_io_bar(port: u16, width: IoWidth) -> bool {
    let (start, end) = (u64::from(port), u64::from(port) + bytes(width));
    with_inventory(|inventory| {
        inventory
            .iter()
            .flat_map(|function| function.bars.iter().flatten())
            .any(|bar| {
                !bar.kind.is_memory()
                    && bar.address <= start
                    && end <= bar.address + bar.size.max(1)
            })
    })
}

/// Reads `width` bits from `port`.
///
/// # Errors
/// [`PciError::NoSuchBar`] if the access is not inside an I/O BAR.
pub fn io_read(port: u16, width: IoWidth) -> Result<u32, PciError> {
    if !inside_io_bar(port, width) {
        return Err(PciError::NoSuchBar);
    }
    // SAFETY: the port belongs to a PCI function's I/O BAR, which only that
    // device decodes; reading device registers cannot break memory safety.
    Ok(unsafe {
        match width {
            IoWidth::Byte => u32::from(Port::<u8>::new(port).read()),
            IoWidth::Word => u32::from(Port::<u16>::new(port).read()),
            IoWidth::Dword => Port::<u32>::new(port).read(),
        }
    })
}

/// Writes the low `width` bits of `value` to `port`.
///
/// # Errors
/// [`PciError::NoSuchBar`] if the access is not inside an I/O BAR.
pub fn io_write(port: u16, width: IoWidth, value: u32) -> Result<(), PciError> {
    if !inside_io_bar(port, width) {
        return Err(PciError::NoSuchBar);
    }
    // SAFETY: as in `io_read`; a device register write affects that device
    // only (its DMA needs bus mastering, which the driver enables knowingly).
    unsafe {
        match width {
            IoWidth::Byte => Port::<u8>::new(port).write(value as u8),
            IoWidth::Word => Port::<u16>::new(port).write(value as u16),
            IoWidth::Dword => Port::<u32>::new(port).write(value),
        }
    }
    Ok(())
}
