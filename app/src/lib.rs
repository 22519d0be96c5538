//! The application side of the images, the same on every host.
//!
//! [`appliance::run`] is the main job of the default image; [`selftest::run`]
//! runs one in-guest test case chosen by the boot parameter `test=`. Both
//! take the host (`hypercall-bm` on bare metal, `hypercall-posix` in a Linux
//! process) and return the status the image exits with. What only a real
//! machine can do (raise a CPU exception) comes in through [`Machine`].

#![no_std]

extern crate alloc;

pub mod appliance;
mod report;
pub mod selftest;
pub mod services;

use alloc::sync::Arc;

pub use report::{Reporter, say};

/// Host services outside the hypercall interface that only the test image
/// uses: diagnostics of the machine itself.
pub trait Machine: Send + Sync {
    /// Raises a CPU exception (invalid opcode) on purpose; does not return
    /// on hosts that can do it.
    fn raise_cpu_exception(&self);

    /// The cost of one bare thread switch below the kernel, in CPU cycles,
    /// where the host can measure it.
    fn context_switch_cycles(&self) -> Option<u64>;
}

/// A host without machine diagnostics (hosted kernels).
#[derive(Debug, Clone, Copy)]
pub struct NoMachine;

impl Machine for NoMachine {
    fn raise_cpu_exception(&self) {}

    fn context_switch_cycles(&self) -> Option<u64> {
        None
    }
}

/// The host as the application sees it.
pub type Host = Arc<dyn kernel::hypercall::Hypercalls>;
