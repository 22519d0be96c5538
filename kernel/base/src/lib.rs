//! The anykernel base: what every image has, whatever factions it links.
//!
//! The base sits on the hypercall interface alone ([`hypercall`]) and
//! provides the kernel's execution model, after the rump kernel papers:
//!
//! 1. **A kernel is an instance.** [`Kernel::boot`] returns an
//!    `Arc<Kernel>`; two kernels can run in one process (hosted tests do).
//!    No kernel state lives in globals; the log facade is the one exception
//!    (see [`log`](crate::logger)).
//! 2. **One virtual CPU.** A thread runs kernel code only while it holds the
//!    kernel's virtual CPU, proven by a [`Context`]. Every blocking host call
//!    releases it first ([`Context::block_on_host`]).
//! 3. **No preemption inside the kernel.** Device interrupts wake interrupt
//!    threads ([`interrupt`]); deferred work runs in soft interrupts
//!    ([`softint`]) and timers in the clock thread ([`callout`]).
//! 4. **Uniprocessor locks.** [`sync::Mutex`], [`sync::RwLock`] and
//!    [`sync::Condvar`] need no atomic read-modify-write on their fast path;
//!    they reach the host only to sleep.
//! 5. **Components register with an init level** ([`component`]); the base
//!    runs them in level order at boot. Linking one in enables it.
//! 6. **Memory is limited and fallible** ([`memory`]): exhaustion is an
//!    error the caller handles.
//! 7. **Process contexts** ([`Process`]): each thread group has an
//!    identity and one [`descriptor`] table, whatever factions fill it.
//!
//! Unsafe code is denied crate-wide and allowed in five modules, each
//! resting on one contract: the kernel locks (`sync/mutex.rs`,
//! `sync/rwlock.rs`) and `cpu_cell.rs` on the virtual CPU's
//! exclusion, which rests on [`hypercall::HostMutex`]; pages and pools
//! (`memory/pages.rs`, `memory/pool.rs`) on [`hypercall::Memory`].

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod callout;
pub mod component;
mod context;
mod cpu;
mod cpu_cell;
pub mod descriptor;
mod errors;
pub mod interrupt;
mod kernel;
pub mod logger;
mod lwp;
pub mod memory;
pub mod params;
mod process;
pub mod softint;
pub mod sync;
pub mod thread;
mod worker;

pub use context::{Context, ThreadBinding};
pub use errors::{BindError, BootError, SpawnError};
pub use kernel::{BootConfig, Kernel, KernelId, ShutdownHook, ShutdownStage};
pub use lwp::LwpId;
pub use process::{Process, ProcessId};

/// The hypercall interface the base is written against.
pub use hypercall;
