//! The hypercall interface inside a Linux process, built on std.
//!
//! [`Posix`] implements [`hypercall::Hypercalls`] so that the very same
//! kernel base that boots on bare metal runs in an ordinary process and
//! under `cargo test`. Each interface group lives in its own module:
//!
//! | group | module | host primitive |
//! | --- | --- | --- |
//! | memory | `memory` | `std::alloc`, accounted against a limit |
//! | threads | `threads`, `identity` | `std::thread`, thread-locals |
//! | synchronisation | `sync` | `std::sync::{Mutex, Condvar}` only |
//! | clock | `clock` | `Instant`, `SystemTime`, `thread::sleep` |
//! | console | `console` | standard error or a capture buffer |
//! | random | `random` | getrandom(2), falling back to `/dev/urandom` |
//! | exit | `exit` | `process::exit`, or an unwind tests can catch |
//! | interrupts | `interrupt` | software interrupts only |
//! | virtual NICs | [`nic`] | a shared-memory bus file, `/dev/net/tun` |
//! | block devices | [`block`] | files, `pread`/`pwrite`/`fdatasync` on worker threads |
//! | stream endpoints | [`stream`] | listening Unix sockets (`--server unix:PATH`) |
//!
//! Several [`Posix`] instances may live in one process (two kernels in one
//! test). They share what the process has only once: thread identities and
//! the per-thread kernel slot (see [`hypercall::Threads::thread_slot`]).
//! A host thread runs in at most one kernel at a time, so that is enough.
//!
//! Unsafe code is limited to the getrandom call, the raw allocator calls,
//! the bus's shared mapping and futexes (`nic/bus/shared_memory.rs`) and
//! the tap's ioctl and poll (`nic/tap/device.rs`).

pub mod block;
mod clock;
mod config;
mod console;
mod exit;
mod identity;
mod interrupt;
mod memory;
pub mod nic;
mod random;
pub mod stream;
mod sync;
#[cfg(test)]
mod test_support;
mod threads;

pub use config::{ConfigError, HostEnvironment, PosixConfig, SPEAKS};
pub use console::{ConsoleCapture, ConsoleSink};
pub use exit::{ExitMode, KernelExit};

use std::sync::Arc;

use hypercall::{Hypercalls, Version};

use crate::clock::MonotonicClock;
use crate::console::PosixConsole;
use crate::memory::MemoryAccount;
use crate::threads::ThreadRegistry;

/// The one-line host description of the boot banner.
const DESCRIPTION: &str = "hosted on Linux (std threads)";

/// One hosted kernel's host: the hypercall implementation for a process.
///
/// Create it with [`Posix::new`] and hand the `Arc` to the kernel as its
/// `Arc<dyn Hypercalls>`.
#[derive(Debug)]
pub struct Posix {
    boot_parameters: String,
    memory: MemoryAccount,
    clock: MonotonicClock,
    console: PosixConsole,
    exit_mode: ExitMode,
    threads: ThreadRegistry,
    speaks: Version,
    nics: Vec<nic::NicSpec>,
    disks: Vec<block::DiskSpec>,
    servers: Vec<stream::ServerSpec>,
}

impl Posix {
    /// Builds a host from `config`. The monotonic clock starts at 0 now.
    pub fn new(config: PosixConfig) -> Arc<Posix> {
        Arc::new(Posix {
            boot_parameters: config.boot_parameters,
            memory: MemoryAccount::new(config.memory_limit),
            clock: MonotonicClock::start(),
            console: PosixConsole::new(&config.name, config.console),
            exit_mode: config.exit,
            threads: ThreadRegistry::default(),
            speaks: config.speaks,
            nics: config.nics,
            disks: config.disks,
            servers: config.servers,
        })
    }

    /// Bytes currently handed out by [`hypercall::Memory::memory_allocate`]
    /// and not yet freed.
    pub fn memory_in_use(&self) -> usize {
        self.memory.in_use()
    }
}

impl Hypercalls for Posix {
    fn interface_version(&self) -> Version {
        self.speaks
    }

    fn description(&self) -> &str {
        DESCRIPTION
    }

    fn boot_parameters(&self) -> &str {
        &self.boot_parameters
    }

    /// Always offered; with no [`PosixConfig::nics`] it has no units.
    fn virtual_nics(&self) -> Option<&dyn hypercall::VirtualNics> {
        Some(self)
    }

    /// Always offered; with no [`PosixConfig::disks`] it has no devices.
    fn block_devices(&self) -> Option<&dyn hypercall::BlockDevices> {
        Some(self)
    }

    /// Always offered; with no [`PosixConfig::servers`] it has no units.
    fn stream_endpoints(&self) -> Option<&dyn hypercall::StreamEndpoints> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaks_version_two_three_and_passes_parameters_on() {
        let config = PosixConfig {
            boot_parameters: "ip=10.0.0.2 log=debug".into(),
            ..PosixConfig::default()
        };
        let posix = Posix::new(config);
        assert_eq!(posix.interface_version(), Version::new(3, 0));
        assert!(posix.interface_version().supports(hypercall::VERSION));
        assert_eq!(posix.boot_parameters(), "ip=10.0.0.2 log=debug");
        assert!(posix.description().contains("Linux"));
        assert!(posix.pci().is_none());
    }

    #[test]
    fn usable_as_the_kernels_trait_object() {
        let posix: Arc<dyn Hypercalls> = Posix::new(PosixConfig::default());
        assert_eq!(posix.memory_size(), 256 * 1024 * 1024);
        assert_eq!(posix.boot_parameters(), "");
    }
}
