//! Configuration mechanism #1: dword accesses through ports 0xCF8/0xCFC.
//!
//! The address/data pair is made atomic by a lock taken with interrupts
//! disabled. Absent functions read as all ones.

use spin::Mutex;
use x86_64::instructions::port::Port;

use super::PciError;
use super::address::{PciAddress, config_address};
use crate::cpu;

const ADDRESS_PORT: u16 = 0xcf8;
const DATA_PORT: u16 = 0xcfc;

static PORTS: Mutex<()> = Mutex::new(());

fn with_address<R>(word: u32, access: impl FnOnce(&mut Port<u32>) -> R) -> R {
    cpu::without_interrupts(|| {
        let _guard = PORTS.lock();
        // SAFETY: 0xCF8 is the PCI configuration address register, owned by
        // this module; selecting a register has no side effect by itself.
        unsafe { Port::<u32>::new(ADDRESS_PORT).write(word) };
        access(&mut Port::new(DATA_PORT))
    })
}

/// Reads the dword at `offset` of `address`'s configuration space.
///
/// # Errors
/// [`PciError::InvalidAddress`].
pub fn read(address: PciAddress, offset: u16) -> Result<u32, PciError> {
    let word = config_address(address, offset)?;
    // SAFETY: reading configuration space has no side effects on the
    // registers this platform reads (identification, BARs, bridge setup).
    Ok(with_address(word, |data| unsafe { data.read() }))
}

/// Writes the dword at `offset` of `address`'s configuration space.
///
/// # Errors
/// [`PciError::InvalidAddress`].
pub fn write(address: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
    let word = config_address(address, offset)?;
    // SAFETY: configuration writes change device state, not memory the
    // Rust program owns; callers write registers they mean to program.
    with_address(word, |data| unsafe { data.write(value) });
    Ok(())
}

/// Whether mechanism #1 exists: the address register keeps what is
/// written to it (machines without PCI, like plain microvm, do not).
pub fn mechanism_present() -> bool {
    cpu::without_interrupts(|| {
        let _guard = PORTS.lock();
        let mut address = Port::<u32>::new(ADDRESS_PORT);
        // SAFETY: as in `with_address`; the old value is restored.
        unsafe {
            let old = address.read();
            address.write(0x8000_0000);
            let kept = address.read() == 0x8000_0000;
            address.write(old);
            kept
        }
    })
}
