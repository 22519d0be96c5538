//! A fake virtio device: its transport and the thread that plays it.
//!
//! Both work around the test's model of what the device does. The
//! transport answers from an [`Identity`] (type, offered features,
//! queue size, configuration space, whether FEATURES_OK is refused) and
//! keeps the registers the driver writes in the [`Machine`] both sides
//! lock. The thread calls the driver test's `serve` whenever something
//! changed (a notification, a test's injection, the stop) and raises the
//! interrupt when `serve` asks ([`Pass::Interrupt`]); a 50 ms timeout only
//! bounds how long a lost wakeup could stall a test.

use alloc::sync::Arc;
use alloc::vec::Vec;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use virtio_drivers::transport::DeviceType;

use super::{FakeQueue, FakeTransport};

/// What the fake shows the driver.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The device type.
    pub device_type: DeviceType,
    /// The feature bits offered.
    pub features: u64,
    /// How many queues it has.
    pub queues: usize,
    /// The largest queue it allows.
    pub max_queue: u32,
    /// It refuses every feature set (FEATURES_OK never sticks).
    pub refuse_features: bool,
    /// The device configuration space.
    pub config: Vec<u8>,
}

/// The registers, the queues and the device's model `D`, under one lock.
#[derive(Debug)]
pub struct Machine<D> {
    pub(super) status: u32,
    /// The features the driver accepted.
    pub driver_features: u64,
    /// The queues, by number.
    pub queues: Vec<FakeQueue>,
    pub(super) interrupt_pending: bool,
    stop: bool,
    /// What the device holds and has done, the test's to read.
    pub device: D,
}

/// What one pass of the device thread did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Nothing to do: the thread waits for a change.
    Idle,
    /// Work the driver asked not to be interrupted for.
    Worked,
    /// Work to tell the driver of.
    Interrupt,
}

/// The machine and the condition variable both sides wait on.
#[derive(Debug)]
pub struct Shared<D> {
    state: Mutex<Machine<D>>,
    changed: Condvar,
}

impl<D> Shared<D> {
    /// The machine, locked.
    pub fn lock(&self) -> MutexGuard<'_, Machine<D>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes the device thread and every waiter.
    pub fn wake(&self) {
        self.changed.notify_all();
    }

    /// Waits up to `limit` until `done` holds; whether it does.
    pub fn wait_until(
        &self,
        limit: Duration,
        mut done: impl FnMut(&mut Machine<D>) -> bool,
    ) -> bool {
        let deadline = Instant::now() + limit;
        let mut state = self.lock();
        while !done(&mut state) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            state = self.wait(state, left);
        }
        true
    }

    fn wait<'a>(
        &self,
        state: MutexGuard<'a, Machine<D>>,
        limit: Duration,
    ) -> MutexGuard<'a, Machine<D>> {
        let waited = self.changed.wait_timeout(state, limit);
        waited.unwrap_or_else(|poisoned| poisoned.into_inner()).0
    }
}

/// The device's side: the thread and the test's handle on it.
#[derive(Debug)]
pub struct FakeDevice<D> {
    shared: Arc<Shared<D>>,
    thread: Option<JoinHandle<()>>,
}

impl<D: Send + 'static> FakeDevice<D> {
    /// A device shown as `identity` holding `device`, whose thread serves
    /// the queues with `serve` and calls `raise` for each interrupt, and
    /// the transport the driver takes.
    pub fn start(
        identity: Identity,
        device: D,
        mut serve: impl FnMut(&mut Machine<D>) -> Pass + Send + 'static,
        raise: impl Fn() + Send + 'static,
    ) -> (Self, FakeTransport<D>) {
        let machine = Machine {
            status: 0,
            driver_features: 0,
            queues: alloc::vec![FakeQueue::default(); identity.queues],
            interrupt_pending: false,
            stop: false,
            device,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(machine),
            changed: Condvar::new(),
        });
        let device_shared = shared.clone();
        let thread = std::thread::spawn(move || run(&device_shared, &mut serve, &raise));
        let transport = FakeTransport::new(shared.clone(), identity);
        let thread = Some(thread);
        (Self { shared, thread }, transport)
    }
}

impl<D> FakeDevice<D> {
    /// The state both sides share.
    pub fn shared(&self) -> &Shared<D> {
        &self.shared
    }

    /// The machine, locked.
    pub fn lock(&self) -> MutexGuard<'_, Machine<D>> {
        self.shared.lock()
    }
}

impl<D> Drop for FakeDevice<D> {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The device thread: serves the queues whenever something changes.
fn run<D>(shared: &Shared<D>, serve: &mut dyn FnMut(&mut Machine<D>) -> Pass, raise: &dyn Fn()) {
    let mut state = shared.lock();
    while !state.stop {
        match serve(&mut state) {
            Pass::Idle => state = shared.wait(state, Duration::from_millis(50)),
            Pass::Worked => shared.wake(),
            Pass::Interrupt => {
                shared.wake();
                state.interrupt_pending = true;
                drop(state);
                raise();
                state = shared.lock();
            }
        }
    }
}
