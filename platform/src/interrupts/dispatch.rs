//! The common interrupt path: find the handler, run it, acknowledge.
//!
//! Called by the IDT stubs for vectors 32..=255 with interrupts disabled on
//! the interrupted stack. It never panics and never prints (the console
//! lock may be held by the code it interrupted): anything odd is counted.

use super::table::{self, APIC_SPURIOUS, PIC_BASE, Route};
use super::{Mode, local_apic, pic};

/// Runs the handler registered for `vector` and sends the EOI.
///
/// Spurious interrupts (the APIC spurious vector, ghost PIC IRQ 7/15, PIC
/// vectors while the PIC is masked) are counted and get no EOI. A vector
/// nobody registered is counted in [`statistics`](super::statistics) and
/// acknowledged like any other.
pub fn dispatch(vector: u8) {
    if vector == APIC_SPURIOUS {
        table::count_spurious();
        return;
    }
    let pic_irq = vector.checked_sub(PIC_BASE).filter(|&irq| irq < 16);
    let through_pic = pic_irq.is_some() && super::mode() != Some(Mode::IoApic);
    if pic_irq.is_some() && !through_pic {
        table::count_spurious();
        return;
    }
    if let Some(irq) = pic_irq.filter(|_| through_pic)
        && pic::is_spurious(irq)
    {
        table::count_spurious();
        return;
    }
    run_handler(vector);
    match pic_irq {
        Some(irq) if through_pic => pic::end_of_interrupt(irq),
        _ => {
            if let Some(apic) = local_apic::get() {
                apic.end_of_interrupt();
            }
        }
    }
}

fn run_handler(vector: u8) {
    let Some(entry) = table::lookup(vector) else {
        table::count_unexpected(vector);
        return;
    };
    let level = matches!(
        entry.route,
        Route::IoApic { level: true, .. } | Route::Pic { level: true, .. }
    );
    if level {
        let _ = super::set_line_masked(vector, true);
    }
    table::count_delivery(vector);
    (entry.handler.function)(entry.handler.context);
}
