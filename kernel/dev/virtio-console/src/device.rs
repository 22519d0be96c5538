//! Bringing a console up: MULTIPORT, the number of ports, the queues.
//!
//! Queue numbers (virtio 1.1 §5.3.2): port 0 receives on 0 and transmits
//! on 1; the control queues are 2 (device to driver) and 3 (driver to
//! device); port `n` ≥ 1 receives on `2n + 2` and transmits on `2n + 3`.
//! The driver serves the first [`MAX_PORTS`] ports the device has
//! (`max_nr_ports` in its configuration) and answers PORT_READY 0 for
//! any other. A device without MULTIPORT cannot say when a client comes
//! or goes, so it is refused, as is one without ports or with a queue
//! too small; the shared initialisation (`virtio::init`) checks the rest.

use alloc::vec::Vec;

use dev::DevError;
use virtio::init::{self, feature};
use virtio_drivers::transport::{DeviceStatus, DeviceType, Transport};

use crate::rings::{Direction, Ring};

/// Device feature: several ports and the control queues.
pub(crate) const FEATURE_MULTIPORT: u64 = 1 << 1;
/// What the driver accepts.
const DRIVER_FEATURES: u64 = FEATURE_MULTIPORT | feature::VERSION_1;
/// Configuration offset of `max_nr_ports` (after `cols`, `rows`).
const MAX_NR_PORTS: usize = 4;
/// Descriptors in every queue.
pub(crate) const QUEUE_SIZE: usize = 16;
/// Ports served at most.
pub(crate) const MAX_PORTS: usize = 4;
/// The control queues.
const CONTROL_RECEIVE: u16 = 2;
const CONTROL_TRANSMIT: u16 = 3;
/// Every queue of [`MAX_PORTS`] ports, for the PCI interrupt routing.
pub(crate) const ALL_QUEUES: [u16; 2 * MAX_PORTS + 2] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/// The receive and transmit queues of port `port`.
pub(crate) fn port_queues(port: usize) -> (u16, u16) {
    let receive = if port == 0 { 0 } else { 2 * port + 2 };
    (receive as u16, receive as u16 + 1)
}

/// A port's two queues.
pub(crate) struct PortRings {
    pub receive: Ring,
    pub transmit: Ring,
}

/// Every queue of a started console, and its transport.
pub(crate) struct Queues<T: Transport> {
    pub transport: T,
    pub control_receive: Ring,
    pub control_transmit: Ring,
    pub ports: Vec<PortRings>,
}

/// Initialises the console behind `transport`: MULTIPORT, the control
/// queues and those of the ports served.
///
/// # Errors
/// [`DevError::Unusable`] naming the problem; the device is left reset.
pub(crate) fn start<T: Transport>(mut transport: T) -> Result<Queues<T>, DevError> {
    let rings = init::start(&mut transport, |transport| {
        init::negotiate(transport, DeviceType::Console, |offered| {
            if offered & FEATURE_MULTIPORT == 0 {
                return Err(DevError::Unusable("the console does not offer MULTIPORT"));
            }
            Ok(offered & DRIVER_FEATURES)
        })?;
        let count = ports(transport)?;
        let queues = &ALL_QUEUES[..2 * count + 2];
        if !init::queues_hold(transport, queues, QUEUE_SIZE) {
            return Err(DevError::Unusable("a queue is smaller than 16 descriptors"));
        }
        rings(transport, count)
    })?;
    let (control_receive, control_transmit, ports) = rings;
    Ok(Queues {
        transport,
        control_receive,
        control_transmit,
        ports,
    })
}

/// How many ports the driver serves: the device's, at most [`MAX_PORTS`].
fn ports(transport: &impl Transport) -> Result<usize, DevError> {
    let unreadable = DevError::Unusable("the device configuration is unreadable");
    let count: u32 = transport
        .read_config_space(MAX_NR_PORTS)
        .map_err(|_| unreadable)?;
    if count == 0 {
        return Err(DevError::Unusable("the console has no ports"));
    }
    Ok((count as usize).min(MAX_PORTS))
}

impl<T: Transport> Drop for Queues<T> {
    fn drop(&mut self) {
        // Reset: the device stops using the queues and the lent buffers.
        self.transport.set_status(DeviceStatus::empty());
    }
}

type Rings = (Ring, Ring, Vec<PortRings>);

fn rings(transport: &mut impl Transport, count: usize) -> Result<Rings, DevError> {
    let ring = |transport: &mut _, number, direction| {
        Ring::new(transport, number, direction).map_err(init::queue_failure)
    };
    let control_receive = ring(transport, CONTROL_RECEIVE, Direction::ToDriver)?;
    let control_transmit = ring(transport, CONTROL_TRANSMIT, Direction::ToDevice)?;
    let mut ports = Vec::with_capacity(count);
    for port in 0..count {
        let (receive, transmit) = port_queues(port);
        let mut transmit = ring(transport, transmit, Direction::ToDevice)?;
        // Sent buffers are taken back by the next send; a sender waits
        // for an interrupt only when the queue is full.
        transmit.interrupts(false);
        ports.push(PortRings {
            receive: ring(transport, receive, Direction::ToDriver)?,
            transmit,
        });
    }
    Ok((control_receive, control_transmit, ports))
}
