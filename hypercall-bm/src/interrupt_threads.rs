//! Device interrupts delivered to kernel threads.
//!
//! Each established interrupt owns a slot. The platform calls
//! [`on_interrupt`] in interrupt context (level-triggered lines already
//! masked); it only marks the slot and the global pending flag. At the next
//! scheduling decision [`poll`] wakes the thread waiting in
//! [`HostInterrupt::wait`]; that thread runs the kernel's handler and calls
//! [`HostInterrupt::complete`], which unmasks the line.

use alloc::boxed::Box;
use core::sync::atomic::{
    AtomicBool, AtomicU64, Ordering::AcqRel, Ordering::Acquire, Ordering::Release,
};

use hypercall::{HostInterrupt, InterruptError, InterruptSource, MsiMessage};
use platform::interrupts::{self as controllers, Handler, Polarity, Source, Trigger, Vector};
use scheduler::ThreadId;

use crate::global::scheduler;

/// Interrupts that can be established at once.
const SLOTS: usize = 64;

struct Slot {
    in_use: AtomicBool,
    pending: AtomicBool,
    cancelled: AtomicBool,
    /// The thread in `wait`, 0 if none.
    waiter: AtomicU64,
}

static SLOT_TABLE: [Slot; SLOTS] = [const {
    Slot {
        in_use: AtomicBool::new(false),
        pending: AtomicBool::new(false),
        cancelled: AtomicBool::new(false),
        waiter: AtomicU64::new(0),
    }
}; SLOTS];

/// Set by any interrupt; cleared by [`poll`].
static ANY_PENDING: AtomicBool = AtomicBool::new(false);

/// The platform's handler: runs in interrupt context, never blocks.
fn on_interrupt(slot: usize) {
    SLOT_TABLE[slot].pending.store(true, Release);
    ANY_PENDING.store(true, Release);
}

/// Whether an interrupt arrived since the last [`poll`].
pub(crate) fn any_pending() -> bool {
    ANY_PENDING.load(Acquire)
}

/// Wakes the threads whose interrupts arrived.
pub(crate) fn poll(wake: &mut dyn FnMut(ThreadId)) {
    if !ANY_PENDING.swap(false, AcqRel) {
        return;
    }
    for slot in &SLOT_TABLE {
        let waiter = slot.waiter.load(Acquire);
        if waiter != 0 && slot.pending.load(Acquire) {
            wake(ThreadId(waiter));
        }
    }
}

/// An established interrupt (see the module docs).
pub(crate) struct BareInterrupt {
    slot: usize,
    vector: Vector,
    level_triggered: bool,
    msi: bool,
}

/// Establishes `source`.
pub(crate) fn establish(source: InterruptSource) -> Result<Box<dyn HostInterrupt>, InterruptError> {
    let (platform_source, level_triggered) = translate(source);
    let mut interrupt = establish_platform(platform_source, level_triggered)?;
    interrupt.msi = source == InterruptSource::Msi;
    Ok(Box::new(interrupt))
}

/// Establishes the platform's `source` for this crate's own use (the
/// ACPI SCI, whose trigger and polarity the MADT says).
pub(crate) fn establish_platform(
    source: Source,
    level_triggered: bool,
) -> Result<BareInterrupt, InterruptError> {
    let slot = claim_slot().ok_or(InterruptError::Unavailable)?;
    let handler = Handler {
        function: on_interrupt,
        context: slot,
    };
    match controllers::register(source, handler) {
        Ok(vector) => Ok(BareInterrupt {
            slot,
            vector,
            level_triggered,
            msi: false,
        }),
        Err(error) => {
            SLOT_TABLE[slot].in_use.store(false, Release);
            Err(match error {
                controllers::InterruptError::Unsupported => InterruptError::Unsupported,
                _ => InterruptError::Unavailable,
            })
        }
    }
}

fn claim_slot() -> Option<usize> {
    SLOT_TABLE.iter().position(|slot| {
        let claimed = slot
            .in_use
            .compare_exchange(false, true, AcqRel, Acquire)
            .is_ok();
        if claimed {
            slot.pending.store(false, Release);
            slot.cancelled.store(false, Release);
            slot.waiter.store(0, Release);
        }
        claimed
    })
}

/// The platform's view of a source, and whether it is level-triggered.
///
/// A line is a GSI (an I/O APIC input), not an ISA IRQ number: on a PC the
/// two agree except for IRQ 0, which arrives on GSI 2.
fn translate(source: InterruptSource) -> (Source, bool) {
    match source {
        InterruptSource::Line {
            gsi,
            level_triggered,
        } => {
            let (trigger, polarity) = if level_triggered {
                (Trigger::Level, Polarity::Low)
            } else {
                (Trigger::Edge, Polarity::High)
            };
            (
                Source::Gsi {
                    gsi,
                    trigger,
                    polarity,
                },
                level_triggered,
            )
        }
        InterruptSource::Msi => (Source::Msi, false),
        InterruptSource::Software => (Source::Software, false),
    }
}

impl BareInterrupt {
    fn slot(&self) -> &'static Slot {
        &SLOT_TABLE[self.slot]
    }
}

impl HostInterrupt for BareInterrupt {
    fn wait(&self) -> Result<(), InterruptError> {
        let slot = self.slot();
        let scheduler = scheduler();
        loop {
            if slot.cancelled.load(Acquire) {
                return Err(InterruptError::Cancelled);
            }
            if slot.pending.swap(false, AcqRel) {
                return Ok(());
            }
            // An interrupt after this point sets ANY_PENDING, and the
            // scheduling decision inside `block` polls it and wakes us.
            slot.waiter.store(scheduler.current().0, Release);
            scheduler.prepare_block();
            if !slot.pending.load(Acquire) && !slot.cancelled.load(Acquire) {
                scheduler.block();
            } else {
                scheduler.wake(scheduler.current());
                scheduler.block();
            }
            slot.waiter.store(0, Release);
        }
    }

    fn complete(&self) {
        if self.level_triggered {
            let _ = controllers::unmask(self.vector);
        }
    }

    fn msi_message(&self) -> Option<MsiMessage> {
        if !self.msi {
            return None;
        }
        let message = controllers::msi_message(self.vector).ok()?;
        Some(MsiMessage {
            address: message.address,
            data: message.data,
        })
    }

    fn raise(&self) {
        let _ = controllers::raise(self.vector);
    }

    fn cancel(&self) {
        let slot = self.slot();
        slot.cancelled.store(true, Release);
        let waiter = slot.waiter.load(Acquire);
        if waiter != 0 {
            scheduler().wake(ThreadId(waiter));
        }
    }
}

impl Drop for BareInterrupt {
    fn drop(&mut self) {
        self.cancel();
        let _ = controllers::unregister(self.vector);
        SLOT_TABLE[self.slot].in_use.store(false, Release);
    }
}
