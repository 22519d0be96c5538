//! Stop requests on bare metal: the ACPI power button.
//!
//! Armed at the kernel's first [`Hypercalls::stop_requests`] call (so
//! images that never ask, the selftests, leave ACPI as the firmware left
//! it): `platform::acpi::machine::power_button` finds the fixed-feature
//! button in the FADT and enables it, and the SCI is established here as
//! an interrupt of this crate's own, with the trigger and polarity the
//! MADT gives it (level, active low without an override). The waiting
//! thread sleeps on the SCI; each one is answered by reading and
//! clearing PM1 status (which lowers the level-triggered line) before the
//! line is unmasked again. A press is remembered for every later call.
//! Without a button (no FADT, a control-method or hardware-reduced one,
//! no SCI, a machine that refuses ACPI mode) one console line says so.
//!
//! [`Hypercalls::stop_requests`]: hypercall::Hypercalls::stop_requests

use core::sync::atomic::{AtomicBool, Ordering};

use hypercall::{HostInterrupt, StopRequests};
use platform::acpi::button::PowerButton;
use platform::acpi::madt::IsaRoute;
use platform::interrupts::{Polarity, Source, Trigger};

use crate::interrupt_threads::{self, BareInterrupt};

/// The armed power button and its SCI.
pub(crate) struct PowerButtonStop {
    button: PowerButton,
    sci: BareInterrupt,
    pressed: AtomicBool,
}

impl PowerButtonStop {
    /// Arms the power button of the tables behind `rsdp`, or says on the
    /// console why there is none.
    pub(crate) fn arm(rsdp: Option<u64>) -> Option<Self> {
        let armed = platform::acpi::machine::power_button(rsdp)
            .map_err(|why| platform::println!("anykernel: no power button: {why}"))
            .ok()?;
        let (source, level_triggered) = sci_source(armed.route());
        match interrupt_threads::establish_platform(source, level_triggered) {
            Ok(sci) => Some(Self {
                button: armed,
                sci,
                pressed: AtomicBool::new(false),
            }),
            Err(error) => {
                platform::println!("anykernel: no power button: its SCI: {error}");
                None
            }
        }
    }
}

/// The platform's source for the SCI routed as `route` (ACPI's default
/// for the SCI where the MADT says "conforms": level, active low).
fn sci_source(route: IsaRoute) -> (Source, bool) {
    let level_triggered = route.level_triggered.unwrap_or(true);
    let active_low = route.active_low.unwrap_or(true);
    let source = Source::Gsi {
        gsi: route.gsi,
        trigger: match level_triggered {
            true => Trigger::Level,
            false => Trigger::Edge,
        },
        polarity: match active_low {
            true => Polarity::Low,
            false => Polarity::High,
        },
    };
    (source, level_triggered)
}

impl StopRequests for PowerButtonStop {
    fn wait_for_stop(&self) {
        while !self.pressed.load(Ordering::Acquire) {
            self.sci
                .wait()
                .expect("only cancel() ends waits, and the SCI is never cancelled");
            if self.button.take_press() {
                platform::println!("anykernel: power button pressed");
                self.pressed.store(true, Ordering::Release);
            }
            self.sci.complete();
        }
    }
}
