//! Console hypercall: the kernel's way to say something before anything else
//! works.

/// Console hypercalls.
pub trait Console {
    /// Writes `bytes` to the host console (the serial port on bare metal,
    /// standard error when hosted).
    ///
    /// Usable at any time: before the kernel is up, from any thread, and
    /// while panicking. Never blocks on another thread (it may wait for the
    /// device to drain). Output of concurrent callers may interleave between
    /// calls but not within one call.
    fn console_write(&self, bytes: &[u8]);
}
