//! The net faction in the kernel: the stack behind its lock, the input
//! queue, the soft interrupt and the timer.
//!
//! [`Net`] is installed as a kernel service at the NET init level. Its
//! rules:
//! - **One lock.** All protocol state is one [`Stack`] behind one kernel
//!   mutex (NetBSD's `softnet_lock`); with one virtual CPU finer locks
//!   would buy nothing.
//! - **Input is deferred.** Drivers hand frames to [`Net::receive`], which
//!   only queues them and schedules the `softnet` soft interrupt; the
//!   softint drains the queue under the lock, a burst at a time.
//! - **Leaving the lock finishes the work** (`Net::finish`): queued
//!   frames go to the drivers, threads waiting on sockets whose state
//!   changed wake, and the one timer callout is armed at the stack's next
//!   deadline (none while idle: an idle stack costs no CPU).

use alloc::sync::{Arc, Weak};

use base::Context;
use base::callout::Callout;
use base::component::ComponentError;
use base::softint::{Softint, SoftintLevel};
use base::sync::{Condvar, Mutex, MutexGuard};
use log::warn;

use crate::buffer::{PacketBuffer, PacketPool};
use crate::input::InputQueue;
use crate::interface::{InterfaceIndex, InterfaceSpec, NetworkDevice};
use crate::memory::Budget;
use crate::socket::table::Transport;
use crate::stack::{InterfaceError, Stack, StackSeeds};

pub use crate::input::INPUT_QUEUE_LIMIT;

/// The net faction's service.
pub struct Net {
    stack: Mutex<Stack>,
    input: Mutex<InputQueue>,
    softnet: Softint,
    timer: Callout,
    /// Where `poll` callers sleep.
    pub(crate) poll_wait: Condvar,
    /// Where `ping` callers sleep.
    pub(crate) ping_wait: Condvar,
    pool: PacketPool,
    /// Kept alive here; the kernel's memory holds it weakly.
    reclaimer: spin::Once<Arc<dyn base::memory::Reclaim>>,
}

impl Net {
    /// Creates the stack and its softint and installs the service.
    ///
    /// # Errors
    /// [`ComponentError`] when memory, randomness or a thread is missing.
    pub fn install(context: &Context<'_>) -> Result<Arc<Self>, ComponentError> {
        let kernel = context.kernel();
        let pool = PacketPool::new(kernel.memory()).map_err(|_| ComponentError::OutOfMemory)?;
        let input = InputQueue::new(Budget::new(kernel.memory().account("net")))
            .ok_or(ComponentError::OutOfMemory)?;
        let seeds = seeds(context)?;
        let stack = Stack::new(pool.clone(), seeds, tcp_config(kernel));
        let softnet = Arc::new(spin::Once::<Weak<Net>>::new());
        let handler_net = softnet.clone();
        let softint = kernel
            .arc()
            .softint_establish(context, SoftintLevel::Net, move |context| {
                if let Some(net) = handler_net.get().and_then(Weak::upgrade) {
                    net.process_input(context);
                }
            })
            .map_err(|_| ComponentError::NoThread)?;
        let net = Arc::new_cyclic(|weak: &Weak<Net>| {
            let timer_net = weak.clone();
            Net {
                stack: Mutex::new(stack),
                input: Mutex::new(input),
                softnet: softint,
                timer: Callout::new(move |context| {
                    if let Some(net) = timer_net.upgrade() {
                        net.run_timers(context);
                    }
                }),
                poll_wait: Condvar::new(),
                ping_wait: Condvar::new(),
                pool,
                reclaimer: spin::Once::new(),
            }
        });
        softnet.call_once(|| Arc::downgrade(&net));
        net.register_reclaimer(context);
        kernel.install_service(context, net.clone());
        Ok(net)
    }

    /// The net faction of the kernel `context` runs in.
    pub fn of(context: &Context<'_>) -> Option<Arc<Self>> {
        context.kernel().service::<Net>(context)
    }

    /// Where drivers take receive buffers from.
    pub fn packet_pool(&self) -> &PacketPool {
        &self.pool
    }

    /// Takes the stack lock with the clock read for this call. Whoever
    /// takes it calls [`Net::finish`] before letting go (or uses
    /// [`Net::with_stack`], which does).
    pub(crate) fn lock<'a>(&'a self, context: &'a Context<'_>) -> MutexGuard<'a, Stack> {
        let mut stack = self.stack.lock(context);
        stack.set_now(context.now_ns());
        if stack.sockets.orphans.pending() {
            crate::socket::close_orphans(&mut stack);
        }
        stack
    }

    /// [`Net::lock`] if the lock is free (the pagedaemon, which must not
    /// wait for it).
    pub(crate) fn try_lock<'a>(
        &'a self,
        context: &'a Context<'_>,
    ) -> Option<MutexGuard<'a, Stack>> {
        let mut stack = self.stack.try_lock(context)?;
        stack.set_now(context.now_ns());
        if stack.sockets.orphans.pending() {
            crate::socket::close_orphans(&mut stack);
        }
        Some(stack)
    }

    /// The input queue if its lock is free (the pagedaemon).
    pub(crate) fn try_lock_input<'a>(
        &'a self,
        context: &'a Context<'_>,
    ) -> Option<MutexGuard<'a, InputQueue>> {
        self.input.try_lock(context)
    }

    pub(crate) fn keep_reclaimer(&self, reclaimer: Arc<dyn base::memory::Reclaim>) {
        self.reclaimer.call_once(|| reclaimer);
    }

    /// Runs `f` on the stack and finishes its work.
    pub fn with_stack<R>(&self, context: &Context<'_>, f: impl FnOnce(&mut Stack) -> R) -> R {
        let mut stack = self.lock(context);
        let result = f(&mut stack);
        self.finish(context, &mut stack);
        result
    }

    /// Attaches a driver's interface (down, unconfigured).
    ///
    /// # Errors
    /// [`InterfaceError::TooManyInterfaces`].
    pub fn attach(
        &self,
        context: &Context<'_>,
        spec: InterfaceSpec,
        device: Arc<dyn NetworkDevice>,
    ) -> Result<InterfaceIndex, InterfaceError> {
        self.with_stack(context, |stack| stack.attach(spec, device))
    }

    /// A driver's received frame. Never blocks; drops (and counts) the
    /// frame when the input queue is full or cannot grow.
    pub fn receive(&self, context: &Context<'_>, interface: InterfaceIndex, frame: PacketBuffer) {
        let queued = self.input.lock(context).push(interface, frame);
        if queued {
            self.softnet.schedule(context);
        }
    }

    /// Frames dropped because the input queue was full.
    pub fn input_dropped(&self, context: &Context<'_>) -> u64 {
        self.input.lock(context).dropped
    }

    /// A driver says its device has room again: send what waits.
    pub fn transmit_ready(&self, context: &Context<'_>, interface: InterfaceIndex) {
        let mut stack = self.lock(context);
        if let Some(interface) = stack.ip.interface_mut(interface) {
            interface.start_output(context);
        }
        self.finish(context, &mut stack);
    }

    /// The softint: every queued frame through the stack, one lock. Output
    /// goes to the drivers every [`OUTPUT_EVERY`] frames, so that the
    /// answers to a long burst do not overflow the send queues.
    fn process_input(&self, context: &Context<'_>) {
        let mut stack = self.lock(context);
        for count in 1.. {
            let next = self.input.lock(context).pop();
            let Some((interface, frame)) = next else {
                break;
            };
            stack.input(interface, frame);
            if count % OUTPUT_EVERY == 0 {
                start_output(context, &mut stack);
            }
        }
        self.finish(context, &mut stack);
    }

    fn run_timers(&self, context: &Context<'_>) {
        let mut stack = self.lock(context);
        stack.on_timer();
        self.finish(context, &mut stack);
    }

    /// Hands queued frames to drivers, wakes waiters, arms the timer.
    pub(crate) fn finish(&self, context: &Context<'_>, stack: &mut Stack) {
        start_output(context, stack);
        self.wake_waiters(context, stack);
        self.arm_timer(context, stack);
    }

    fn wake_waiters(&self, context: &Context<'_>, stack: &mut Stack) {
        let mut tcp_events = core::mem::take(&mut stack.sockets.tcp_events);
        let mut udp_events = core::mem::take(&mut stack.sockets.udp_events);
        stack.tcp.drain_events(&mut tcp_events);
        stack.udp.drain_events(&mut udp_events);
        let any = !tcp_events.is_empty() || !udp_events.is_empty();
        let transports = tcp_events
            .drain(..)
            .map(Transport::Tcp)
            .chain(udp_events.drain(..).map(Transport::Udp));
        for transport in transports {
            if let Some(record) = stack.sockets.find(transport) {
                record.wait.notify_all(context);
            }
            if let Some(set) = crate::socket::watch::queue(&mut stack.sockets, transport) {
                set.notify_all(context);
            }
        }
        stack.sockets.tcp_events = tcp_events;
        stack.sockets.udp_events = udp_events;
        if any && stack.sockets.pollers > 0 {
            self.poll_wait.notify_all(context);
        }
        if core::mem::take(&mut stack.icmp.reply_arrived) {
            self.ping_wait.notify_all(context);
        }
    }

    fn arm_timer(&self, context: &Context<'_>, stack: &Stack) {
        match stack.next_deadline() {
            Some(deadline) if self.timer.deadline() != Some(deadline) => {
                self.timer.schedule_at(context, deadline);
            }
            Some(_) => {}
            None => {
                self.timer.stop(context);
            }
        }
    }
}

impl core::fmt::Debug for Net {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Net").finish_non_exhaustive()
    }
}

/// Received frames between two hand-overs of output to the drivers.
const OUTPUT_EVERY: usize = 64;

/// Hands every interface's queued frames to its driver; a busy device
/// keeps the rest queued and calls [`Net::transmit_ready`] later.
fn start_output(context: &Context<'_>, stack: &mut Stack) {
    for interface in stack.ip.interfaces.iter_mut() {
        if !interface.send_queue.is_empty() {
            interface.start_output(context);
        }
    }
}

/// The stack's random starting values.
fn seeds(context: &Context<'_>) -> Result<StackSeeds, ComponentError> {
    let mut bytes = [0u8; 58];
    context
        .kernel()
        .hypercalls()
        .random_fill(&mut bytes)
        .map_err(|_| ComponentError::Failed("no random source for TCP's secrets"))?;
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let key = |at: usize| -> [u8; 16] { bytes[at..at + 16].try_into().expect("16 bytes") };
    Ok(StackSeeds {
        tcp: tcp::Secrets {
            isn_key: key(0),
            port_key: key(16),
        },
        ports: key(32),
        dhcp: word(48),
        identification: u16::from_le_bytes([bytes[56], bytes[57]]),
    })
}

/// TCP's configuration from the boot parameters (defaults otherwise):
/// `tcp.time_wait_ms=`, `tcp.receive_buffer=SIZE`, `tcp.send_buffer=SIZE`
/// (a new socket's buffers, 1 KiB to 4 MiB). As many TCP sockets as
/// descriptors: memory bounds both.
fn tcp_config(kernel: &base::Kernel) -> tcp::TcpConfig {
    let mut config = tcp::TcpConfig {
        maximum_sockets: crate::socket::table::MAX_SOCKETS,
        ..tcp::TcpConfig::default()
    };
    match kernel.params().get_u64("tcp.time_wait_ms") {
        Ok(Some(ms)) => config.time_wait_ns = ms.saturating_mul(1_000_000),
        Ok(None) => {}
        Err(error) => warn!("{error}; keeping the default TIME_WAIT"),
    }
    let buffers = [
        ("tcp.receive_buffer", &mut config.receive_buffer),
        ("tcp.send_buffer", &mut config.send_buffer),
    ];
    for (name, buffer) in buffers {
        match kernel.params().get_size(name) {
            Ok(Some(bytes)) if (1024..=tcp::MAXIMUM_BUFFER).contains(&bytes) => *buffer = bytes,
            Ok(Some(bytes)) => warn!(
                "{name}={bytes} is outside 1 KiB..={} KiB; keeping {} KiB",
                tcp::MAXIMUM_BUFFER >> 10,
                *buffer >> 10
            ),
            Ok(None) => {}
            Err(error) => warn!("{error}; keeping {} KiB", *buffer >> 10),
        }
    }
    config
}
