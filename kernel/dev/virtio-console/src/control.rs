//! The control messages of a multiport console (virtio 1.1 §5.3.6.2).
//!
//! With MULTIPORT the device and the driver speak over two control
//! queues in 8-byte messages, little-endian: a port number, an event and
//! a value (some events carry more bytes after them, e.g. a port's name).
//! [`Control::parse`] checks a message the device sent through a typed
//! view and names what is wrong with a malformed one; [`Control::encode`]
//! makes the driver's.

use zerocopy::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `struct virtio_console_control`.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
struct Wire {
    id: U32,
    event: U16,
    value: U16,
}

/// The length of a control message's header.
pub(crate) const LENGTH: usize = size_of::<Wire>();

/// Control events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum Event {
    /// Driver to device: the driver is ready (value 1) or failed (0).
    DeviceReady = 0,
    /// Device to driver: a port was added.
    PortAdd = 1,
    /// Device to driver: a port was removed.
    PortRemove = 2,
    /// Driver to device: a port is ready (1) or could not be set up (0).
    PortReady = 3,
    /// Device to driver: the port is a console.
    ConsolePort = 4,
    /// Device to driver: a console's size changed.
    Resize = 5,
    /// Both ways: the port was opened (1) or closed (0) on that side.
    PortOpen = 6,
    /// Device to driver: the port's name follows the message.
    PortName = 7,
}

impl Event {
    fn from_wire(event: u16) -> Option<Self> {
        Some(match event {
            0 => Self::DeviceReady,
            1 => Self::PortAdd,
            2 => Self::PortRemove,
            3 => Self::PortReady,
            4 => Self::ConsolePort,
            5 => Self::Resize,
            6 => Self::PortOpen,
            7 => Self::PortName,
            _ => return None,
        })
    }

    fn wire(self) -> u16 {
        self as u16
    }
}

/// One control message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Control {
    pub port: u32,
    pub event: Event,
    pub value: u16,
}

/// What is wrong with a control message from the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Shorter than the 8-byte header.
    Short(usize),
    /// An event number the specification does not define.
    UnknownEvent(u16),
}

impl core::fmt::Display for Malformed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Short(length) => write!(f, "a control message of {length} bytes"),
            Self::UnknownEvent(event) => write!(f, "an unknown control event {event}"),
        }
    }
}

impl Control {
    /// A message for `port`.
    pub(crate) fn new(port: u32, event: Event, value: u16) -> Self {
        Self { port, event, value }
    }

    /// The message at the start of `bytes` (what follows is the event's
    /// payload, e.g. a name).
    ///
    /// # Errors
    /// [`Malformed`] saying what is wrong.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, Malformed> {
        let (wire, _) = Wire::read_from_prefix(bytes).map_err(|_| Malformed::Short(bytes.len()))?;
        let event = wire.event.get();
        Ok(Self {
            port: wire.id.get(),
            event: Event::from_wire(event).ok_or(Malformed::UnknownEvent(event))?,
            value: wire.value.get(),
        })
    }

    /// The message's bytes.
    pub(crate) fn encode(&self) -> [u8; LENGTH] {
        let wire = Wire {
            id: U32::new(self.port),
            event: U16::new(self.event.wire()),
            value: U16::new(self.value),
        };
        let mut bytes = [0; LENGTH];
        bytes.copy_from_slice(wire.as_bytes());
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_little_endian() {
        let message = Control::new(3, Event::PortOpen, 1);
        let bytes = message.encode();
        assert_eq!(bytes, [3, 0, 0, 0, 6, 0, 1, 0]);
        assert_eq!(Control::parse(&bytes), Ok(message));
    }

    #[test]
    fn a_name_after_the_header_is_ignored() {
        let mut bytes = Control::new(1, Event::PortName, 0).encode().to_vec();
        bytes.extend_from_slice(b"sysproxy");
        assert_eq!(Control::parse(&bytes).map(|c| c.event), Ok(Event::PortName));
    }

    #[test]
    fn short_and_unknown_messages_are_malformed() {
        assert_eq!(Control::parse(&[1, 0, 0]), Err(Malformed::Short(3)));
        let bytes = [0, 0, 0, 0, 99, 0, 0, 0];
        assert_eq!(Control::parse(&bytes), Err(Malformed::UnknownEvent(99)));
    }
}
