//! The functions found at boot, with their decoded BARs.
//!
//! A fixed table (no heap exists yet at boot); functions beyond its
//! capacity are counted as dropped and reported by [`init`](super::init).
//! Its lock is only taken with interrupts disabled (see
//! [`with_inventory`]), so an interrupt handler that reaches PCI cannot
//! spin on a lock the code it interrupted holds.

use spin::Mutex;

use hypercall::PciFunction;

use super::address::PciAddress;
use super::bar::Bar;
use crate::cpu;

/// How many functions the table holds.
pub const CAPACITY: usize = 64;

/// One PCI function as found at boot: what the kernel is told of it,
/// and what firmware work needs besides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// Identity, class and interrupt routing, as the kernel sees them.
    pub info: PciFunction,
    /// The BARs (6 for devices, 2 for bridges); the upper half of a 64-bit
    /// BAR and unimplemented BARs are `None`.
    pub bars: [Option<Bar>; 6],
    /// Whether the BARs are sized; firmware-enabled devices are sized on
    /// first use (their sizes read 0 until then).
    pub sized: bool,
    /// For a PCI-to-PCI bridge: the bus behind it.
    pub secondary_bus: Option<u8>,
}

#[derive(Debug)]
pub(super) struct Inventory {
    pub functions: [Option<Function>; CAPACITY],
    pub count: usize,
    pub dropped: usize,
}

static INVENTORY: Mutex<Inventory> = Mutex::new(Inventory {
    functions: [None; CAPACITY],
    count: 0,
    dropped: 0,
});

/// Runs `access` on the table, with interrupts disabled.
pub(super) fn with_inventory<R>(access: impl FnOnce(&mut Inventory) -> R) -> R {
    cpu::without_interrupts(|| access(&mut INVENTORY.lock()))
}

impl Inventory {
    pub fn push(&mut self, function: Function) {
        match self.functions.get_mut(self.count) {
            Some(slot) => {
                *slot = Some(function);
                self.count += 1;
            }
            None => self.dropped += 1,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Function> {
        self.functions[..self.count].iter().flatten()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Function> {
        self.functions[..self.count].iter_mut().flatten()
    }
}

/// The function at `address`, if it was found at boot.
pub fn find(address: PciAddress) -> Option<Function> {
    with_inventory(|inventory| {
        inventory
            .iter()
            .find(|function| function.info.address == address)
            .copied()
    })
}

/// The function at `address` with its BARs sized (sizing them now if
/// needed), if it was found at boot.
pub(super) fn find_sized(address: PciAddress) -> Option<Function> {
    with_inventory(|inventory| {
        let function = inventory
            .iter_mut()
            .find(|function| function.info.address == address)?;
        super::sizing::ensure_sized(function);
        Some(*function)
    })
}

/// Iterates over the functions found at boot, in bus order.
#[derive(Debug, Default)]
pub struct Functions {
    index: usize,
}

/// The functions found at boot, in bus order (bridges before what lies
/// behind them).
pub fn functions() -> Functions {
    Functions { index: 0 }
}

impl Iterator for Functions {
    type Item = Function;

    fn next(&mut self) -> Option<Function> {
        let function = with_inventory(|inventory| {
            inventory.functions[..inventory.count]
                .get(self.index)
                .copied()
                .flatten()
        });
        self.index += 1;
        function
    }
}
