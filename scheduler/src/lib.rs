//! Cooperative threads with real context switches, for one CPU, `no_std`.
//!
//! A [`Scheduler`] adopts the context that creates it as its first thread
//! ("boot") and runs threads made by [`Scheduler::spawn`] on stacks from
//! `alloc`. A thread runs until it yields, blocks, sleeps or exits; there is
//! no preemption. `hypercall-bm` runs one on bare metal; the unit tests run
//! several on the host, one per test, with real context switches.
//!
//! # Model
//!
//! - **Run queue.** First in, first out: a yielding thread goes to the back.
//!   Pushing and popping are O(1) and never allocate (capacity is reserved
//!   when a thread is spawned).
//! - **Deadlines.** Threads in [`Scheduler::block_until`] or
//!   [`Scheduler::sleep_until`] wait in an indexed binary heap (O(log n)
//!   insert and removal). Expired ones are made runnable at every
//!   scheduling decision.
//! - **Idle.** When nothing is runnable, the scheduler calls
//!   [`Platform::idle`] with the earliest deadline, on the stack of the
//!   thread that stopped running (there is no idle thread), then polls
//!   [`Platform::poll_wakeups`] and the deadlines again.
//! - **Blocking is two-phase.** [`Scheduler::prepare_block`], then check the
//!   condition, then [`Scheduler::block`]: a [`Scheduler::wake`] in between
//!   makes `block` return at once, so no wakeup is lost.
//! - **Reaping.** When a thread exits, its stack is freed right after the
//!   switch away from it (never while running on it). A detached thread
//!   disappears then; a joinable one stays as a small record until
//!   [`Scheduler::join`].
//! - **Stack canary.** Two words at the bottom of every stack are checked
//!   whenever the scheduler switches away from or to a thread; a broken
//!   canary panics with `stack overflow in thread '<name>'`.
//!
//! # Interrupts
//!
//! **Nothing here may be called from an interrupt handler.** Handlers only
//! set flags (atomics) that the platform reports through
//! [`Platform::poll_wakeups`], which the scheduler calls at every
//! scheduling decision and after every [`Platform::idle`].
//!
//! # Threads of the host, Send and Sync
//!
//! [`Scheduler`] is neither `Send` nor `Sync`: its threads share one CPU
//! (one host thread in tests), and every method must be called from a
//! thread of this scheduler. `hypercall-bm` keeps its scheduler in a static
//! behind its own wrapper, which is sound there because there is one CPU
//! and interrupt handlers never touch the scheduler.
//!
//! # Panics inside threads
//!
//! A spawned thread starts in an `extern "C"` function, so a panic that
//! unwinds out of its entry aborts the process on the host (bare metal
//! builds abort on panic anyway); unwinding never crosses the assembly
//! frame of the switch. Panics on the boot thread unwind normally, which is
//! what the host tests rely on: they never panic inside spawned threads.
//!
//! ```
//! use scheduler::{Platform, Scheduler, SpawnSpec};
//!
//! struct Host;
//! impl Platform for Host {
//!     fn now_ns(&self) -> u64 { 0 }
//!     fn idle(&self, _deadline_ns: Option<u64>) { panic!("deadlock") }
//! }
//!
//! let scheduler = Scheduler::new(Host);
//! let spec = SpawnSpec { name: "worker", stack_size: 0, joinable: true };
//! let worker = scheduler.spawn(spec, Box::new(|| {})).unwrap();
//! scheduler.join(worker).unwrap();
//! assert_eq!(scheduler.stats().threads_alive, 1);
//! ```

#![no_std]

#[cfg(not(target_arch = "x86_64"))]
compile_error!("the context switch is written for x86_64 only");

extern crate alloc;
#[cfg(test)]
extern crate std;

mod blocking;
mod dispatch;
mod error;
mod lifecycle;
mod platform;
mod queues;
mod scheduler;
mod stack;
mod state;
mod switch;
mod table;
mod thread;
mod types;

#[cfg(test)]
mod tests;

pub use error::{JoinError, SpawnError};
pub use platform::Platform;
pub use scheduler::Scheduler;
pub use stack::{DEFAULT_STACK_SIZE, MINIMUM_STACK_SIZE};
pub use table::MAX_THREADS;
pub use thread::ThreadName;
pub use types::{SchedulerStats, SpawnSpec, ThreadId, WakeReason};
