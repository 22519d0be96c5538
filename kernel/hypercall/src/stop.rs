//! Stop requests: the machine's operator asks the kernel to stop in order.
//!
//! A host that can tell when its operator wants the system down (on bare
//! metal the ACPI power button: a press on hardware, QEMU's
//! `system_powerdown`, a VMM's graceful shutdown) offers
//! [`StopRequests`] through [`crate::Hypercalls::stop_requests`]. What
//! stopping means is the application's: the appliance shuts its kernel
//! down (file systems unmounted clean, disks written back and flushed)
//! and exits with [`crate::ExitStatus::Success`], and the host then
//! powers off. A host without such a signal returns `None`, and the
//! system runs until its machine is stopped.

/// Stop request hypercalls (since 2.5).
pub trait StopRequests: Send + Sync {
    /// Sleeps until a stop is requested; returns at once if one was
    /// requested before (requests are not consumed: every later call
    /// returns at once too). *May block*, for as long as the system runs:
    /// the kernel calls it outside itself, from a thread of its own
    /// (`Context::block_on_host`). Called by one thread at a time.
    fn wait_for_stop(&self);
}
