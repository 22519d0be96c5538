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
pub mod files;
pub mod remote;
mod report;
pub mod selftest;
pub mod services;

use alloc::sync::Arc;

pub use report::{Reporter, say};

/// Host services outside the hypercall interface that only the test image
/// uses: diagnostics of the machine itself.
pub trait Machine: Send + Sync {
    /// Ends the machine on purpose the way `how` names (a CPU exception
    /// such as `invalid-opcode` or `stack-overflow`, or a panic the report
    /// must survive such as `nested-panic`); returns on hosts that cannot,
    /// and for names the host does not know.
    fn fail_on_purpose(&self, how: &str);

    /// Whether an interrupt returns with every general register intact,
    /// where the host can raise one from code.
    fn interrupt_preserves_registers(&self) -> Option<bool>;

    /// The cost of one bare thread switch below the kernel, in CPU cycles,
    /// where the host can measure it.
    fn context_switch_cycles(&self) -> Option<u64>;
}

/// A host without machine diagnostics (hosted kernels).
#[derive(Debug, Clone, Copy)]
pub struct NoMachine;

impl Machine for NoMachine {
    fn fail_on_purpose(&self, _how: &str) {}

    fn interrupt_preserves_registers(&self) -> Option<bool> {
        None
    }

    fn context_switch_cycles(&self) -> Option<u64> {
        None
    }
}

/// The host as the application sees it.
pub type Host = Arc<dyn kernel::hypercall::Hypercalls>;
