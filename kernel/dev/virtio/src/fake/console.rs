//! A fake multiport virtio console (virtio-serial), as QEMU plays one.
//!
//! [`ConsoleModel`] is the device's model for [`FakeDevice`]: after the
//! driver's DEVICE_READY it adds every port (PORT_ADD), and once a port is
//! ready it reports a client already connected on the host (PORT_OPEN 1),
//! as QEMU does for a socket chardev with a client. The test plays the
//! host's side: a client connects ([`ConsoleModel::host_connect`]),
//! writes, disconnects; raw control messages, malformed ones included,
//! can be injected. As QEMU does, a client's bytes go to the driver only
//! while the driver has the port open (its PORT_OPEN 1), and what the
//! driver sends is kept while a client is connected, dropped otherwise.
//!
//! [`FakeDevice`]: super::FakeDevice

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use virtio_drivers::transport::DeviceType;

use super::{Identity, Machine, Pass};

/// Feature bits offered: MULTIPORT and VERSION_1.
const FEATURES: u64 = 1 << 1 | 1 << 32;
/// Control events (virtio 1.1 §5.3.6.2).
pub const DEVICE_READY: u16 = 0;
/// Device to driver: a port was added.
pub const PORT_ADD: u16 = 1;
/// Driver to device: the port is ready.
pub const PORT_READY: u16 = 3;
/// Both ways: a side opened (1) or closed (0) the port.
pub const PORT_OPEN: u16 = 6;

/// One port, as the device and its host side see it.
#[derive(Debug, Default, Clone)]
pub struct FakePort {
    /// The driver answered PORT_READY 1.
    pub ready: bool,
    /// The driver's last PORT_OPEN value.
    pub guest_open: bool,
    /// A client is connected on the host.
    pub host_open: bool,
    /// Bytes the host client wrote, not delivered yet.
    pub to_driver: VecDeque<u8>,
    /// Bytes the driver sent while a client was connected.
    pub from_driver: Vec<u8>,
}

/// The console's model: its ports and its control traffic.
#[derive(Debug, Default)]
pub struct ConsoleModel {
    /// The ports, by number.
    pub ports: Vec<FakePort>,
    /// Control messages for the driver, not delivered yet.
    to_driver: VecDeque<Vec<u8>>,
    /// Control messages the driver sent: port, event, value.
    pub from_driver: Vec<(u32, u16, u16)>,
}

/// One control message's bytes.
pub fn control(port: u32, event: u16, value: u16) -> Vec<u8> {
    let mut bytes = port.to_le_bytes().to_vec();
    bytes.extend_from_slice(&event.to_le_bytes());
    bytes.extend_from_slice(&value.to_le_bytes());
    bytes
}

/// The receive and transmit queues of port `port`.
fn port_queues(port: usize) -> (usize, usize) {
    let receive = if port == 0 { 0 } else { 2 * port + 2 };
    (receive, receive + 1)
}

impl ConsoleModel {
    /// A console of `ports` ports, none connected.
    pub fn new(ports: usize) -> Self {
        Self {
            ports: alloc::vec![FakePort::default(); ports],
            ..Self::default()
        }
    }

    /// What the transport shows: MULTIPORT, `max_nr_ports`, its queues.
    pub fn identity(&self) -> Identity {
        let mut config = alloc::vec![0u8; 4];
        config.extend_from_slice(&(self.ports.len() as u32).to_le_bytes());
        config.extend_from_slice(&0u32.to_le_bytes());
        Identity {
            device_type: DeviceType::Console,
            features: FEATURES,
            queues: 2 * self.ports.len() + 2,
            max_queue: 32,
            refuse_features: false,
            config,
        }
    }

    /// A client connects on the host side of `port`.
    pub fn host_connect(&mut self, port: usize) {
        self.ports[port].host_open = true;
        if self.ports[port].ready {
            self.inject(control(port as u32, PORT_OPEN, 1));
        }
    }

    /// The client of `port` goes away; what it had not delivered is lost.
    pub fn host_disconnect(&mut self, port: usize) {
        let port_state = &mut self.ports[port];
        port_state.host_open = false;
        port_state.to_driver.clear();
        self.inject(control(port as u32, PORT_OPEN, 0));
    }

    /// The client of `port` writes `bytes`.
    pub fn host_write(&mut self, port: usize, bytes: &[u8]) {
        self.ports[port].to_driver.extend(bytes);
    }

    /// Queues raw control bytes for the driver.
    pub fn inject(&mut self, bytes: Vec<u8>) {
        self.to_driver.push_back(bytes);
    }

    /// Applies one control message from the driver.
    fn apply(&mut self, port: u32, event: u16, value: u16) {
        self.from_driver.push((port, event, value));
        let index = port as usize;
        match (event, self.ports.get_mut(index)) {
            (DEVICE_READY, _) if value == 1 => {
                for port in 0..self.ports.len() as u32 {
                    self.inject(control(port, PORT_ADD, 0));
                }
            }
            (PORT_READY, Some(state)) if value == 1 => {
                state.ready = true;
                if state.host_open {
                    self.inject(control(port, PORT_OPEN, 1));
                }
            }
            (PORT_OPEN, Some(state)) => state.guest_open = value == 1,
            _ => {}
        }
    }
}

/// One pass of the device thread: what the driver sent, then what the
/// host has for it; an interrupt if anything moved.
pub fn serve(state: &mut Machine<ConsoleModel>) -> Pass {
    let mut worked = take_controls(state);
    worked |= deliver_controls(state);
    for port in 0..state.device.ports.len() {
        worked |= take_data(state, port);
        worked |= deliver_data(state, port);
    }
    if worked { Pass::Interrupt } else { Pass::Idle }
}

fn take_controls(state: &mut Machine<ConsoleModel>) -> bool {
    let mut worked = false;
    while let Some(chain) = state.queues[3].pop() {
        let bytes = chain.readable();
        if let Some(header) = bytes.get(..8) {
            let port = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
            let event = u16::from_le_bytes([header[4], header[5]]);
            state
                .device
                .apply(port, event, u16::from_le_bytes([header[6], header[7]]));
        }
        state.queues[3].push_used(chain.head, 0);
        worked = true;
    }
    worked
}

fn deliver_controls(state: &mut Machine<ConsoleModel>) -> bool {
    let mut worked = false;
    while !state.device.to_driver.is_empty() {
        let Some(chain) = state.queues[2].pop() else {
            break;
        };
        let message = state.device.to_driver.pop_front().expect("not empty");
        let written = chain.write(&message);
        state.queues[2].push_used(chain.head, written as u32);
        worked = true;
    }
    worked
}

fn take_data(state: &mut Machine<ConsoleModel>, port: usize) -> bool {
    let transmit = port_queues(port).1;
    let mut worked = false;
    while let Some(chain) = state.queues.get_mut(transmit).and_then(|queue| queue.pop()) {
        let bytes = chain.readable();
        let port_state = &mut state.device.ports[port];
        if port_state.host_open {
            port_state.from_driver.extend_from_slice(&bytes);
        }
        state.queues[transmit].push_used(chain.head, 0);
        worked = true;
    }
    worked
}

fn deliver_data(state: &mut Machine<ConsoleModel>, port: usize) -> bool {
    let receive = port_queues(port).0;
    let mut worked = false;
    let open = |state: &Machine<ConsoleModel>| state.device.ports[port].guest_open;
    while open(state) && !state.device.ports[port].to_driver.is_empty() {
        let Some(chain) = state.queues.get_mut(receive).and_then(|queue| queue.pop()) else {
            break;
        };
        let pending = &mut state.device.ports[port].to_driver;
        let bytes: Vec<u8> = pending
            .iter()
            .copied()
            .take(chain.writable_length())
            .collect();
        let written = chain.write(&bytes);
        pending.drain(..written);
        state.queues[receive].push_used(chain.head, written as u32);
        worked = true;
    }
    worked
}
