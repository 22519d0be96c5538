//! Configuration mechanism #1: dword accesses through ports 0xCF8/0xCFC.
//!
//! The address/data pair is made atomic by a lock taken with interrupts
//! disabled. Absent functions read as all ones.

use spin::Mutex;

use super::PciError;
use super::address::{PciAddress, config_address};
use crate::cpu;
use crate::port::OwnedPort;

// SAFETY: the configuration address register belongs to this module;
// selecting a register changes nothing by itself.
const ADDRESS_PORT: OwnedPort<u32> = unsafe { OwnedPort::new(0xcf8) };
// SAFETY: the configuration data port belongs to this module. Reads and
// writes change device state only; a device reaches memory only once a
// driver enables its bus mastering and programs its DMA, which is that
// driver's contract with its device.
const DATA_PORT: OwnedPort<u32> = unsafe { OwnedPort::new(0xcfc) };

/// Held, with interrupts disabled, across each address/data pair.
static PORTS: Mutex<()> = Mutex::new(());

fn with_address<R>(word: u32, access: impl FnOnce(OwnedPort<u32>) -> R) -> R {
    cpu::without_interrupts(|| {
        let _pair = PORTS.lock();
        ADDRESS_PORT.write(word);
        access(DATA_PORT)
    })
}

/// Reads the dword at `offset` of `address`'s configuration space.
///
/// # Errors
/// [`PciError::InvalidAddress`].
pub fn read(address: PciAddress, offset: u16) -> Result<u32, PciError> {
    let word = config_address(address, offset)?;
    Ok(with_address(word, OwnedPort::read))
}

/// Writes the dword at `offset` of `address`'s configuration space.
///
/// # Errors
/// [`PciError::InvalidAddress`].
pub fn write(address: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
    let word = config_address(address, offset)?;
    with_address(word, |data| data.write(value));
    Ok(())
}

/// Whether mechanism #1 exists: the address register keeps what is
/// written to it (machines without PCI, like plain microvm, do not).
pub fn mechanism_present() -> bool {
    cpu::without_interrupts(|| {
        let _pair = PORTS.lock();
        let old = ADDRESS_PORT.read();
        ADDRESS_PORT.write(0x8000_0000);
        let kept = ADDRESS_PORT.read() == 0x8000_0000;
        ADDRESS_PORT.write(old);
        kept
    })
}
