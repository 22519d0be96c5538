//! The kernel instance and its boot sequence.
//!
//! [`Kernel::boot`] is the one function that holds the init order:
//! version handshake, parameters, log, memory limit, virtual CPU, clock
//! thread, then the components by init level. Everything a kernel owns
//! hangs off the `Kernel`; nothing is global (but the log facade).

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::{Any, TypeId};
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

use hypercall::{ExitStatus, Hypercalls, MemoryError, VERSION};
use log::{LevelFilter, error, info};

use crate::callout::Clock;
use crate::component::{self, Component};
use crate::context::{Context, ThreadBinding};
use crate::cpu::VirtualCpu;
use crate::cpu_cell::CpuCell;
use crate::errors::{BindError, BootError};
use crate::logger;
use crate::lwp::Lwp;
use crate::memory::Memory;
use crate::params::{BootParams, ParamError};
use crate::process::Process;
use crate::softint::Softints;
use crate::sync::sleep_queue::SleepQueues;
use crate::thread::JoinHandle;

/// The account descriptor tables charge their entries to.
const DESCRIPTORS_ACCOUNT: &str = "descriptors";

/// A kernel's identity, unique in the process and never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KernelId(pub u32);

static NEXT_KERNEL_ID: AtomicU32 = AtomicU32::new(1);

/// What to boot.
#[derive(Debug, Clone, Copy)]
pub struct BootConfig<'a> {
    /// The components linked into this image.
    pub components: &'a [&'static Component],
}

type Service = Arc<dyn Any + Send + Sync>;

/// One running kernel.
pub struct Kernel {
    id: KernelId,
    hyper: Arc<dyn Hypercalls>,
    params: BootParams,
    memory: Arc<Memory>,
    pub(crate) cpu: VirtualCpu,
    pub(crate) sleep_queues: SleepQueues,
    pub(crate) clock: Clock,
    pub(crate) softints: Softints,
    implicit_lwps: spin::Mutex<Vec<Arc<Lwp>>>,
    services: CpuCell<Vec<(TypeId, Service)>>,
    system_threads: spin::Mutex<Vec<JoinHandle>>,
    shutting_down: AtomicBool,
    boot_ns: u64,
    /// The kernel's own `Arc`, weakly: set once by [`Kernel::boot`].
    this: spin::Once<Weak<Kernel>>,
    /// Run first by [`Kernel::shutdown`], stage by stage: file systems
    /// are unmounted, then components stop their devices.
    shutdown_hooks: spin::Mutex<Vec<(ShutdownStage, ShutdownHook)>>,
    /// The kernel's own process: kernel threads and implicit entries.
    proc0: Arc<Process>,
}

/// What a component runs when the kernel shuts down.
pub type ShutdownHook = alloc::boxed::Box<dyn FnOnce() + Send>;

/// When a shutdown hook runs. [`Kernel::shutdown`] runs every hook of one
/// stage before any of the next, each stage's hooks in the order they were
/// registered (NetBSD's `cpu_reboot`: `vfs_shutdown`, then the devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ShutdownStage {
    /// File systems are written back and unmounted, while their disks,
    /// the buffer cache and every kernel thread still work.
    FileSystems,
    /// Devices stop: caches are written back, devices closed, their
    /// threads told to end.
    Devices,
}

impl Kernel {
    /// Boots a kernel on `hyper` with the components in `config`.
    ///
    /// The calling thread is not bound afterwards; it enters with
    /// [`Kernel::enter`] or binds itself with [`Kernel::bind_thread`].
    ///
    /// # Errors
    /// [`BootError`] says what stopped the boot.
    pub fn boot(
        hyper: Arc<dyn Hypercalls>,
        config: BootConfig<'_>,
    ) -> Result<Arc<Self>, BootError> {
        let host_version = hyper.interface_version();
        if !host_version.supports(VERSION) {
            return Err(BootError::VersionMismatch {
                kernel: VERSION,
                host: host_version,
            });
        }
        if let Some((name, needs)) = component::missing_requirement(config.components) {
            return Err(BootError::MissingComponent { name, needs });
        }
        let (params, mut problems) = BootParams::parse(hyper.boot_parameters());
        let level = log_level(&params, &mut problems);
        let limit = memory_limit(&params, hyper.memory_size(), &mut problems);
        let kernel = Arc::new(Self::new(hyper, params, limit)?);
        kernel.this.call_once(|| Arc::downgrade(&kernel));
        logger::register(kernel.id.0, &kernel.hyper, level);
        if let Err(error) = kernel.start(config, &problems) {
            // The threads started so far hold the kernel: end them, or it
            // (and they) would never go away.
            kernel.shutdown();
            return Err(error);
        }
        Ok(kernel)
    }

    fn new(
        hyper: Arc<dyn Hypercalls>,
        params: BootParams,
        limit: usize,
    ) -> Result<Self, BootError> {
        let cpu = VirtualCpu::new(hyper.mutex_create()?);
        let id = KernelId(NEXT_KERNEL_ID.fetch_add(1, Relaxed));
        let memory = Arc::new(Memory::new(hyper.clone(), limit));
        let proc0 = Arc::new(Process::new(id, memory.account(DESCRIPTORS_ACCOUNT)));
        Ok(Self {
            id,
            memory,
            proc0,
            boot_ns: hyper.clock_monotonic_ns(),
            hyper,
            params,
            cpu,
            sleep_queues: SleepQueues::new(),
            clock: Clock::new(),
            softints: Softints::new(),
            implicit_lwps: spin::Mutex::new(Vec::new()),
            services: CpuCell::new(Vec::new()),
            system_threads: spin::Mutex::new(Vec::new()),
            shutting_down: AtomicBool::new(false),
            this: spin::Once::new(),
            shutdown_hooks: spin::Mutex::new(Vec::new()),
        })
    }

    /// The init order after the kernel object exists.
    fn start(
        self: &Arc<Self>,
        config: BootConfig<'_>,
        problems: &[ParamError],
    ) -> Result<(), BootError> {
        let context = self.enter()?;
        info!(
            "anykernel {}: {}, hypercall interface {}",
            env!("CARGO_PKG_VERSION"),
            self.hyper.description(),
            self.hyper.interface_version()
        );
        for problem in problems {
            error!("{problem}; ignored");
        }
        let stats = self.memory.stats();
        info!("memory limit {} KiB", stats.limit / 1024);
        let kernel = self.clone();
        let clock = self
            .spawn("clock", move |context| Clock::run(&kernel, context))
            .map_err(BootError::NoThread)?;
        self.add_system_thread(clock);
        for component in component::boot_order(config.components) {
            log::debug!("init {} at {:?}", component.name, component.level);
            (component.init)(&context).map_err(|error| BootError::Component {
                name: component.name,
                error,
            })?;
        }
        Ok(())
    }

    /// The kernel's own `Arc`, for code that holds only a [`Context`] and
    /// must start threads (softints, interrupt threads).
    ///
    /// # Panics
    /// Never for a booted kernel: a context exists only while something
    /// holds the kernel's `Arc`.
    pub fn arc(&self) -> Arc<Kernel> {
        self.this
            .get()
            .and_then(Weak::upgrade)
            .expect("a kernel in use is booted and alive")
    }

    /// This kernel's identity.
    pub fn id(&self) -> KernelId {
        self.id
    }

    /// The host this kernel runs on.
    pub fn hypercalls(&self) -> &dyn Hypercalls {
        &*self.hyper
    }

    /// The host, shared (for components that keep it).
    pub fn hypercalls_arc(&self) -> &Arc<dyn Hypercalls> {
        &self.hyper
    }

    /// The boot parameters.
    pub fn params(&self) -> &BootParams {
        &self.params
    }

    /// The kernel's page allocator.
    pub fn memory(&self) -> &Arc<Memory> {
        &self.memory
    }

    /// Nanoseconds since this kernel booted.
    pub fn uptime_ns(&self) -> u64 {
        self.hyper.clock_monotonic_ns().saturating_sub(self.boot_ns)
    }

    /// Callouts run since boot.
    pub fn callouts_fired(&self) -> u64 {
        self.clock.fired()
    }

    /// Enters the kernel from a thread that is not bound to it.
    ///
    /// # Errors
    /// [`MemoryError`] if no lwp could be made for the entry.
    ///
    /// # Panics
    /// If the thread is already inside this kernel.
    pub fn enter(&self) -> Result<Context<'_>, MemoryError> {
        Context::enter_implicit(self)
    }

    /// Binds the calling thread to a new lwp until the binding is dropped.
    ///
    /// # Errors
    /// [`BindError`].
    pub fn bind_thread(self: &Arc<Self>) -> Result<ThreadBinding, BindError> {
        self.bind_thread_in(&self.proc0.clone())
    }

    /// Binds the calling thread to a new lwp of `process` until the
    /// binding is dropped: the thread shares `process`'s descriptors.
    ///
    /// # Errors
    /// [`BindError`].
    pub fn bind_thread_in(
        self: &Arc<Self>,
        process: &Arc<Process>,
    ) -> Result<ThreadBinding, BindError> {
        if process.kernel_id() != self.id {
            return Err(BindError::ForeignProcess);
        }
        if self.hyper.thread_slot() != 0 {
            return Err(BindError::AlreadyBound);
        }
        let lwp =
            Lwp::create(self.hypercalls(), process.clone()).map_err(|_| BindError::OutOfMemory)?;
        Ok(ThreadBinding::new(self.clone(), Arc::new(lwp)))
    }

    /// A new process context with an empty descriptor table; it ends
    /// (closing all it holds) when its last thread and handle let go.
    pub fn new_process(&self) -> Arc<Process> {
        let account = self.memory.account(DESCRIPTORS_ACCOUNT);
        Arc::new(Process::new(self.id, account))
    }

    /// The kernel's own process (`proc0`): kernel threads, implicit
    /// entries and threads bound with [`Kernel::bind_thread`].
    pub fn kernel_process(&self) -> &Arc<Process> {
        &self.proc0
    }

    pub(crate) fn implicit_lwp(&self) -> Result<Arc<Lwp>, MemoryError> {
        if let Some(lwp) = self.implicit_lwps.lock().pop() {
            return Ok(lwp);
        }
        let process = self.proc0.clone();
        Ok(Arc::new(Lwp::create(self.hypercalls(), process)?))
    }

    pub(crate) fn recycle_implicit_lwp(&self, lwp: Arc<Lwp>) {
        lwp.clear_wakeup();
        self.implicit_lwps.lock().push(lwp);
    }

    /// Makes `service` findable by type through [`Kernel::service`];
    /// replaces an earlier one of the same type.
    pub fn install_service<T: Any + Send + Sync>(&self, context: &Context<'_>, service: Arc<T>) {
        self.services.with(context, |services| {
            services.retain(|(id, _)| *id != TypeId::of::<T>());
            services.push((TypeId::of::<T>(), service));
        });
    }

    /// The installed service of type `T`.
    pub fn service<T: Any + Send + Sync>(&self, context: &Context<'_>) -> Option<Arc<T>> {
        let found = self.services.with(context, |services| {
            services
                .iter()
                .find(|(id, _)| *id == TypeId::of::<T>())
                .map(|(_, service)| service.clone())
        })?;
        found.downcast::<T>().ok()
    }

    /// Registers `hook` to run at the start of [`Kernel::shutdown`], outside
    /// the kernel (no context), in the [`ShutdownStage::Devices`] stage: a
    /// driver closes its device there, so that its receive thread ends.
    pub fn on_shutdown(&self, hook: ShutdownHook) {
        self.on_shutdown_at(ShutdownStage::Devices, hook);
    }

    /// Registers `hook` to run at the start of [`Kernel::shutdown`], outside
    /// the kernel (no context; it may enter), in `stage`.
    pub fn on_shutdown_at(&self, stage: ShutdownStage, hook: ShutdownHook) {
        self.shutdown_hooks.lock().push((stage, hook));
    }

    pub(crate) fn add_system_thread(&self, thread: JoinHandle) {
        self.system_threads.lock().push(thread);
    }

    /// Whether [`Kernel::shutdown`] has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Relaxed)
    }

    /// Runs the shutdown hooks stage by stage ([`ShutdownStage`]: the file
    /// systems are unmounted, then the devices stop), then stops the
    /// kernel's own threads (the clock and softint threads) and waits for
    /// them. Call from outside the kernel; afterwards only `Drop`
    /// is left to do. A callout or softint handler that is blocked keeps
    /// shutdown waiting until it returns. Interrupt threads end when their
    /// [`crate::interrupt::Interrupt`] is dropped, and threads from
    /// [`Kernel::spawn`] when their bodies return; until then they keep the
    /// kernel alive. The service threads hold the kernel too, so a kernel
    /// that is never shut down is never freed.
    ///
    /// # Panics
    /// If called from inside the kernel (with a live context).
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Relaxed);
        let mut hooks = core::mem::take(&mut *self.shutdown_hooks.lock());
        // Stable: within a stage, the order of registration.
        hooks.sort_by_key(|(stage, _)| *stage);
        for (_, hook) in hooks {
            hook();
        }
        {
            let context = self.enter().expect("an lwp for shutdown");
            self.clock.worker().wake(&context);
            self.softints.wake_all(&context);
        }
        // One at a time: a softint level started meanwhile adds a thread
        // (which sees the flag and ends at once) that must be joined too.
        loop {
            let Some(thread) = self.system_threads.lock().pop() else {
                break;
            };
            let _ = thread.join_outside(self);
        }
    }

    /// Ends the host container with `status` (power-off, QEMU exit, process
    /// exit).
    pub fn halt(&self, status: ExitStatus) -> ! {
        self.hyper.exit(status)
    }
}

impl fmt::Debug for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kernel")
            .field("id", &self.id)
            .field("memory", &self.memory)
            .finish_non_exhaustive()
    }
}

fn log_level(params: &BootParams, problems: &mut Vec<ParamError>) -> LevelFilter {
    match params.get_parsed(
        "log",
        "one of off, error, warn, info, debug, trace",
        logger::parse_level,
    ) {
        Ok(level) => level.unwrap_or(LevelFilter::Info),
        Err(problem) => {
            problems.push(problem);
            LevelFilter::Info
        }
    }
}

fn memory_limit(params: &BootParams, host: usize, problems: &mut Vec<ParamError>) -> usize {
    match params.get_size("mem") {
        Ok(Some(limit)) => limit.min(host),
        Ok(None) => host,
        Err(problem) => {
            problems.push(problem);
            host
        }
    }
}
