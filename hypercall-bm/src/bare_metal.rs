//! [`BareMetal`]: the hypercall interface, call by call, on this machine.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::ptr::NonNull;

use hypercall::{
    Clock, Console, DeviceMemory, Exit, ExitStatus, HostCondvar, HostInterrupt, HostMutex,
    Hypercalls, InterruptError, InterruptSource, Interrupts, Memory, MemoryError, PciBus, Random,
    RandomError, StopRequests, Synchronization, ThreadEntry, ThreadError, ThreadId, ThreadSpec,
    Threads, Version,
};
use platform::boot::BootInfo;
use platform::bring_up::Report;
use platform::{console, cpu, power, rtc, timer};
use spin::{Mutex, Once};

use crate::device_memory::BareDeviceMemory;
use crate::global::scheduler;
use crate::heap::HEAP;
use crate::random::{CpuEntropy, RandomSource};
use crate::stop::PowerButtonStop;
use crate::sync::{BareCondvar, BareMutex};
use crate::{interrupt_threads, pci_bus, threads};

/// The part of the heap kept out of the kernel's memory limit: one eighth
/// (see [`Memory::memory_size`]).
const HEAP_RESERVE_DIVISOR: usize = 8;

/// The interface version this implementation was written for.
const SPEAKS: Version = Version::new(3, 0);

/// The bare-metal host.
pub struct BareMetal {
    /// The loader's command line and the virtio-mmio devices ACPI names.
    command_line: String,
    description: String,
    random: Mutex<RandomSource>,
    /// The PCI bus, scanned at the kernel's first request (`pci_bus.rs`).
    pci: Once<Option<pci_bus::Pci>>,
    /// The one device-memory handle, shared with every DMA user.
    device_memory: Arc<dyn DeviceMemory>,
    /// Where the loader found the ACPI tables (`None`: the BIOS area).
    rsdp: Option<u64>,
    /// The power button, armed at the kernel's first request (`stop.rs`).
    stop: Once<Option<PowerButtonStop>>,
}

impl BareMetal {
    pub(crate) fn new(info: &'static BootInfo, report: Report) -> Self {
        // Seeded at the first request: nothing at boot needs random bytes,
        // and seeding costs milliseconds under emulation. The CPU flags
        // already say which source that will be.
        let entropy = CpuEntropy::from(cpu::features());
        if !entropy.rdrand && !entropy.rdseed {
            platform::println!(
                "anykernel: warning: no RDRAND/RDSEED; random numbers come from CPU timing jitter"
            );
        }
        let random = RandomSource::new(entropy);
        let description = format!(
            "bare metal x86_64 via {}, {} MiB heap, timer {}, random {}",
            info.loader,
            HEAP.size() >> 20,
            match report.timer {
                Ok(_) => "calibrated",
                Err(_) => "UNCALIBRATED",
            },
            random.description()
        );
        Self {
            command_line: boot_parameters(info),
            description,
            random: Mutex::new(random),
            pci: Once::new(),
            device_memory: Arc::new(BareDeviceMemory),
            rsdp: info.rsdp,
            stop: Once::new(),
        }
    }
}

/// The loader's command line, plus a `virtio_mmio.device=<size>@<base>:<irq>`
/// word (Linux's syntax) for each virtio-mmio device the ACPI DSDT describes
/// and the line does not name yet: microvm writes those words itself only
/// with ACPI off, and describes the devices in its DSDT otherwise.
fn boot_parameters(info: &BootInfo) -> String {
    use core::fmt::Write;
    let mut line = String::from(info.command_line.as_str());
    for device in platform::acpi::machine::virtio_mmio_devices(info.rsdp) {
        let named = format!("@{:#x}:", device.base);
        if !line.contains(&named) {
            let (size, base, irq) = (device.size, device.base, device.irq);
            let _ = write!(line, " virtio_mmio.device={size}@{base:#x}:{irq}");
        }
    }
    line
}

impl core::fmt::Debug for BareMetal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BareMetal")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl Hypercalls for BareMetal {
    fn interface_version(&self) -> Version {
        SPEAKS
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn boot_parameters(&self) -> &str {
        &self.command_line
    }

    fn device_memory(&self) -> Option<Arc<dyn DeviceMemory>> {
        Some(self.device_memory.clone())
    }

    fn pci(&self) -> Option<&dyn PciBus> {
        let pci = self.pci.call_once(pci_bus::Pci::scan).as_ref();
        pci.map(|pci| pci as &dyn PciBus)
    }

    fn stop_requests(&self) -> Option<&dyn StopRequests> {
        let stop = self.stop.call_once(|| PowerButtonStop::arm(self.rsdp));
        stop.as_ref().map(|stop| stop as &dyn StopRequests)
    }
}

// SAFETY: blocks come from the kernel heap with the requested layout
// (aligned, valid, the caller's until freed); the heap's lock makes each
// block's hand-out exclusive.
unsafe impl Memory for BareMetal {
    fn memory_allocate(&self, size: usize, align: usize) -> Result<NonNull<u8>, MemoryError> {
        HEAP.allocate(size, align)
    }

    unsafe fn memory_free(&self, ptr: NonNull<u8>, size: usize, align: usize) {
        // SAFETY: forwarded contract: `ptr` came from `memory_allocate`
        // with this size and alignment, freed once.
        unsafe { HEAP.free(ptr, size, align) };
    }

    /// The heap less an eighth: the kernel charges its pages, pools,
    /// stacks and buffers against this limit, but Rust's global allocator
    /// serves everything else from the same heap (control structures, the
    /// application's own buffers), so a kernel at its limit must still
    /// leave room for those, or the heap, not the limit, would say no.
    fn memory_size(&self) -> usize {
        HEAP.size() - HEAP.size() / HEAP_RESERVE_DIVISOR
    }
}

impl Threads for BareMetal {
    fn thread_create(
        &self,
        spec: ThreadSpec<'_>,
        entry: ThreadEntry,
    ) -> Result<ThreadId, ThreadError> {
        threads::create(spec, entry)
    }

    fn thread_join(&self, thread: ThreadId) -> Result<(), ThreadError> {
        threads::join(thread)
    }

    fn thread_exit(&self) -> ! {
        scheduler().exit()
    }

    fn thread_yield(&self) {
        scheduler().yield_now();
    }

    fn thread_current(&self) -> ThreadId {
        threads::current()
    }

    fn thread_slot(&self) -> usize {
        scheduler().slot()
    }

    fn set_thread_slot(&self, value: usize) {
        scheduler().set_slot(value);
    }
}

impl Synchronization for BareMetal {
    fn mutex_create(&self) -> Result<Box<dyn HostMutex>, MemoryError> {
        Ok(Box::new(BareMutex::new()))
    }

    fn condvar_create(&self) -> Result<Box<dyn HostCondvar>, MemoryError> {
        Ok(Box::new(BareCondvar::new()))
    }
}

impl Clock for BareMetal {
    fn clock_monotonic_ns(&self) -> u64 {
        timer::monotonic_ns()
    }

    fn clock_wall_ns(&self) -> u64 {
        rtc::wall_ns()
    }

    fn clock_sleep_until(&self, deadline_ns: u64) {
        scheduler().sleep_until(deadline_ns);
    }
}

impl Console for BareMetal {
    fn console_write(&self, bytes: &[u8]) {
        console::write_bytes(bytes);
        crate::boot_trace::mark("console write");
    }
}

impl Random for BareMetal {
    fn random_fill(&self, buffer: &mut [u8]) -> Result<(), RandomError> {
        self.random.lock().fill(buffer)
    }
}

impl Exit for BareMetal {
    fn exit(&self, status: ExitStatus) -> ! {
        match status {
            // QEMU's exit device first, then ACPI soft off (`power.rs`).
            ExitStatus::Success => power::power_off(self.rsdp),
            ExitStatus::Failure(code) => power::exit(power::failure_value(code)),
        }
    }
}

impl Interrupts for BareMetal {
    fn interrupt_establish(
        &self,
        source: InterruptSource,
    ) -> Result<Box<dyn HostInterrupt>, InterruptError> {
        interrupt_threads::establish(source)
    }
}
