//! Why a kernel did not boot, and why a thread could not be bound.

use core::fmt;

use hypercall::{MemoryError, ThreadError, Version};

use crate::component::ComponentError;

/// Why a kernel did not boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootError {
    /// The host speaks an interface version this kernel cannot use.
    VersionMismatch {
        /// The version the kernel was built for.
        kernel: Version,
        /// The version the host speaks.
        host: Version,
    },
    /// The host had no memory for the kernel's own objects.
    OutOfMemory,
    /// A kernel service thread could not start.
    NoThread(ThreadError),
    /// A linked component needs one that is not linked.
    MissingComponent {
        /// The component.
        name: &'static str,
        /// What it needs.
        needs: &'static str,
    },
    /// A component's init failed.
    Component {
        /// The component.
        name: &'static str,
        /// Its reason.
        error: ComponentError,
    },
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::VersionMismatch { kernel, host } => write!(
                f,
                "hypercall interface mismatch: kernel needs {kernel}, host speaks {host}"
            ),
            Self::OutOfMemory => f.write_str("out of memory while booting"),
            Self::NoThread(error) => write!(f, "cannot start a kernel thread: {error}"),
            Self::MissingComponent { name, needs } => {
                write!(
                    f,
                    "component {name} needs component {needs}, which is not linked"
                )
            }
            Self::Component { name, error } => write!(f, "component {name} failed: {error}"),
        }
    }
}

impl core::error::Error for BootError {}

impl From<MemoryError> for BootError {
    fn from(_: MemoryError) -> Self {
        Self::OutOfMemory
    }
}

/// Why a thread could not be bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindError {
    /// The thread already has an lwp (bound, or inside the kernel).
    AlreadyBound,
    /// No memory for the lwp.
    OutOfMemory,
    /// The process belongs to another kernel.
    ForeignProcess,
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AlreadyBound => "thread already bound to a kernel lwp",
            Self::OutOfMemory => "no memory for an lwp",
            Self::ForeignProcess => "the process belongs to another kernel",
        })
    }
}

impl core::error::Error for BindError {}
