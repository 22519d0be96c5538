//! Address assignment: unassigned BARs get addresses, decoding is enabled.
//!
//! Firmware-assigned BARs are left where they are and reserved in the
//! windows first. Unassigned ones are placed in tree order. For a bridge
//! firmware did not set up (qboot numbers buses but leaves windows closed)
//! the cursors are aligned before and after its subtree (1 MiB memory,
//! 4 KiB I/O) and the bridge's windows are set to what its subtree
//! received; all memory behind it goes through the non-prefetchable window
//! (which may carry prefetchable BARs too), the prefetchable one stays
//! closed. Behind a bridge firmware did set up, unassigned BARs stay
//! unassigned (counted as failed): its windows would not forward them.
//! Functions get I/O and memory decoding for the BAR kinds they have (at
//! init or on first use, see [`Decoding`]), never bus mastering (drivers
//! enable it); bridges set up here get bus mastering too, or devices
//! behind them could not reach memory.

use super::address::PciAddress;
use super::bar::{self, Bar, BarKind};
use super::config::{read, write};
use super::inventory::{Function, Inventory};
use super::scan::{BRIDGE_IO, BRIDGE_MEMORY, BusSet, Scan};
use super::sizing::{self, DECODE_IO, DECODE_MEMORY};
use super::window::{IO_FIELD, MEMORY_FIELD, Window, bridge_register};

const BUS_MASTER: u32 = 1 << 2;
const BAR0: u16 = 0x10;
const BRIDGE_PREFETCHABLE: u16 = 0x24;
const BRIDGE_IO_UPPER: u16 = 0x30;
const MEMORY_GRANULE: u64 = 1 << 20;
const IO_GRANULE: u64 = 1 << 12;

/// Where unassigned BARs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Memory below 4 GiB (all 32-bit BARs; 64-bit ones too unless
    /// `memory64` is given).
    pub memory: Window,
    /// Memory for 64-bit BARs on bus 0 (may lie above 4 GiB).
    pub memory64: Option<Window>,
    /// I/O ports.
    pub io: Window,
}

impl Default for Windows {
    /// 0xE000_0000..0xFEC0_0000 for memory, 0xC000..0x1_0000 for I/O.
    fn default() -> Self {
        Self {
            memory: Window::new(0xe000_0000, 0xfec0_0000, 4096),
            memory64: None,
            io: Window::new(0xc000, 0x1_0000, 4),
        }
    }
}

/// When functions get I/O and memory decoding switched on.
///
/// Under QEMU each switch rebuilds the guest memory map (~0.3 ms under TCG),
/// so `OnFirstUse` keeps devices no driver asks for out of the boot time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decoding {
    /// For every function with BARs, during [`init`](super::init).
    AtInit,
    /// When a driver first asks for a BAR ([`bar`](super::bar()),
    /// [`map_bar`](super::map_bar)). Bridges set up here decode at once.
    /// The default: a device no driver claims costs no boot time.
    #[default]
    OnFirstUse,
}

/// Counts of what assignment did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Assigned {
    /// BARs that received an address.
    pub bars: usize,
    /// BARs left unassigned because a window was full.
    pub failed: usize,
    /// Bridges whose windows were programmed.
    pub bridges: usize,
}

/// Reserves firmware assignments, then assigns the rest from bus 0 down.
/// Unsized (firmware-enabled) functions are sized first, but only if some
/// BAR needs an address: otherwise nothing new has to avoid them.
pub(super) fn assign(
    inventory: &mut Inventory,
    scan: &Scan,
    windows: &mut Windows,
    decoding: Decoding,
) -> Assigned {
    let unassigned = |function: &Function| function.bars.iter().flatten().any(Bar::is_unassigned);
    if inventory.iter().any(unassigned) {
        inventory.iter_mut().for_each(sizing::ensure_sized);
    }
    for bar in inventory
        .iter()
        .flat_map(|function| function.bars.iter().flatten())
    {
        if !bar.is_unassigned() {
            let window = window_for(windows, bar.kind, true);
            window.reserve(bar.address, bar.size);
        }
    }
    let mut context = Context {
        scan,
        windows,
        decoding,
        assigned: Assigned::default(),
        visited: BusSet::default(),
    };
    assign_bus(0, inventory, &mut context, Place::Root);
    context.assigned
}

/// Where a bus sits, which decides where its BARs may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Bus 0: every window.
    Root,
    /// Behind bridges this code programs: the 32-bit windows.
    BehindNewBridge,
    /// Behind a bridge firmware set up: nowhere new.
    BehindFirmwareBridge,
}

/// What every step of the walk needs.
struct Context<'a> {
    scan: &'a Scan,
    windows: &'a mut Windows,
    decoding: Decoding,
    assigned: Assigned,
    /// Buses already walked: a bridge whose secondary bus is its own or
    /// an ancestor's (bad firmware numbering) must not loop the walk.
    visited: BusSet,
}

fn window_for(windows: &mut Windows, kind: BarKind, on_root_bus: bool) -> &mut Window {
    match (kind, windows.memory64.as_mut()) {
        (BarKind::Io, _) => &mut windows.io,
        (BarKind::Memory64 { .. }, Some(high)) if on_root_bus => high,
        _ => &mut windows.memory,
    }
}

fn assign_bus(bus: u8, inventory: &mut Inventory, context: &mut Context<'_>, place: Place) {
    if !context.visited.insert(bus) {
        return;
    }
    let on_bus = |function: &Function| function.info.address.bus() == bus;
    let count = inventory.iter().filter(|function| on_bus(function)).count();
    for nth in 0..count {
        let Some(function) = inventory
            .iter_mut()
            .filter(|function| on_bus(function))
            .nth(nth)
        else {
            break;
        };
        assign_function(function, context, place);
        let (address, secondary) = (function.info.address, function.secondary_bus);
        let Some(secondary) = secondary else { continue };
        if place == Place::BehindFirmwareBridge || !context.scan.unconfigured(secondary) {
            assign_bus(secondary, inventory, context, Place::BehindFirmwareBridge);
            continue;
        }
        let starts = align_cursors(context.windows);
        assign_bus(secondary, inventory, context, Place::BehindNewBridge);
        let ends = align_cursors(context.windows);
        program_bridge(address, starts, ends);
        context.assigned.bridges += 1;
    }
}

/// Aligns the memory and I/O cursors to bridge window granularity and
/// returns them.
fn align_cursors(windows: &mut Windows) -> (u64, u64) {
    windows.memory.align(MEMORY_GRANULE);
    windows.io.align(IO_GRANULE);
    (windows.memory.next(), windows.io.next())
}

fn assign_function(function: &mut Function, context: &mut Context<'_>, place: Place) {
    let mut decode = 0;
    for (index, slot) in (0u16..).zip(function.bars.iter_mut()) {
        let Some(bar) = slot.as_mut() else { continue };
        if bar.is_unassigned() {
            let window = window_for(context.windows, bar.kind, place == Place::Root);
            match window
                .allocate(bar.size)
                .filter(|_| place != Place::BehindFirmwareBridge)
            {
                Some(address) => {
                    place_bar(function.info.address, index, bar, address);
                    context.assigned.bars += 1;
                }
                None => {
                    context.assigned.failed += 1;
                    continue;
                }
            }
        }
        decode |= sizing::decode_bit(bar.kind);
    }
    if context.decoding == Decoding::AtInit {
        sizing::enable(function.info.address, decode);
    }
}

fn place_bar(address: PciAddress, index: u16, bar: &mut Bar, at: u64) {
    let (low, high) = bar::encode(bar.kind, at);
    let offset = BAR0 + 4 * index;
    let flags = read(address, offset).unwrap_or(0) & if bar.kind.is_memory() { 0xf } else { 0x3 };
    let _ = write(address, offset, low | flags);
    if bar.kind.is_64_bit() {
        let _ = write(address, offset + 4, high);
    }
    bar.address = at;
}

/// Opens the bridge's memory and I/O windows on `[start, end)` (closed if
/// empty), closes the prefetchable one, enables forwarding.
fn program_bridge(address: PciAddress, start: (u64, u64), end: (u64, u64)) {
    let (memory_start, io_start) = start;
    let (memory_end, io_end) = end;
    let memory = bridge_register(memory_start, memory_end, MEMORY_FIELD);
    let io = bridge_register(io_start, io_end, IO_FIELD);
    let _ = write(address, BRIDGE_MEMORY, memory);
    let _ = write(address, BRIDGE_IO, io);
    let _ = write(address, BRIDGE_IO_UPPER, 0);
    let _ = write(
        address,
        BRIDGE_PREFETCHABLE,
        bridge_register(0, 0, MEMORY_FIELD),
    );
    let _ = write(address, BRIDGE_PREFETCHABLE + 4, 0);
    let _ = write(address, BRIDGE_PREFETCHABLE + 8, 0);
    sizing::enable(address, DECODE_IO | DECODE_MEMORY | BUS_MASTER);
}
