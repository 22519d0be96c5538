//! What the scheduler needs from the machine: time, idling, wakeups.
//!
//! Idling programs the one-shot wakeup timer for the next deadline and
//! halts (arming the timer also refines the clock's rate when due).
//! Interrupt handlers never touch the scheduler; they set a flag in
//! [`crate::interrupt_threads`], which
//! [`SchedulerPlatform::poll_wakeups`] turns into
//! thread wakeups at the next scheduling decision. The check for pending
//! interrupts and the halt happen with interrupts disabled (`sti; hlt` is
//! atomic), so an interrupt that arrives in between is never slept through.

use platform::{cpu, timer};
use scheduler::{Platform, ThreadId};

use crate::{boot_trace, interrupt_threads};

/// The bare-metal side of the scheduler.
#[derive(Debug)]
pub(crate) struct SchedulerPlatform;

impl Platform for SchedulerPlatform {
    fn now_ns(&self) -> u64 {
        timer::monotonic_ns()
    }

    fn idle(&self, deadline_ns: Option<u64>) {
        boot_trace::print_if_requested();
        cpu::disable_interrupts();
        if !interrupt_threads::any_pending() {
            // A failure leaves no timer armed: the halt then lasts until
            // the next device interrupt, which is all we can do.
            let _ = timer::set_wakeup(deadline_ns);
            cpu::halt_until_interrupt();
        }
        cpu::enable_interrupts();
    }

    fn poll_wakeups(&self, wake: &mut dyn FnMut(ThreadId)) {
        interrupt_threads::poll(wake);
    }
}
