//! The ports of one console: who is connected, and what to tell the device.
//!
//! A port the device added waits for a client on the host. The host's
//! PORT_OPEN 1 is a client connecting: the port gets a new generation and
//! joins the accept queue; [`Ports::accept`] hands it out as a [`Stream`]
//! (port and generation) and answers PORT_OPEN 1. The host's PORT_OPEN 0
//! is that client gone: its stream reads what was already received, then
//! end of stream, and we answer PORT_OPEN 0 too: a device sends bytes
//! only to a port the driver has open, so the next client's first bytes
//! wait for its accept. Our close answers PORT_OPEN 0 and ignores the
//! port's data until the host's client goes too. A stream whose
//! generation is not the port's any more has ended.
//!
//! Control messages that make no sense (an unknown port, an event only a
//! driver sends) are logged and ignored: no panic, no hang.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use log::{debug, warn};

use crate::control::{Control, Event};

/// Where one port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortState {
    /// Not added by the device, or removed.
    Absent,
    /// Added; no client on the host.
    Idle,
    /// A client connected on the host; not accepted yet.
    Waiting,
    /// Accepted: a stream is served.
    Served,
    /// We closed the stream; the host's client is still connected.
    Dropped,
}

/// One port.
#[derive(Debug)]
pub(crate) struct Port {
    pub state: PortState,
    pub generation: u64,
    /// Bytes received for the current generation, not read yet.
    pub received: VecDeque<u8>,
}

/// One accepted connection: a port and the generation it was accepted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stream {
    pub port: u32,
    pub generation: u64,
}

/// What a read of a stream finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readable {
    /// Bytes were copied.
    Data(usize),
    /// Nothing yet; the client is still there.
    Wait,
    /// The client is gone and everything it sent was read.
    End,
}

/// The ports of one console.
#[derive(Debug)]
pub(crate) struct Ports {
    label: String,
    ports: Vec<Port>,
    /// Clients connected on the host, oldest first (stale ones skipped).
    pending: VecDeque<Stream>,
    next_generation: u64,
}

impl Ports {
    /// `count` ports, none added yet; `label` names the console in the log.
    pub(crate) fn new(label: String, count: usize) -> Self {
        let port = |_| Port {
            state: PortState::Absent,
            generation: 0,
            received: VecDeque::new(),
        };
        Self {
            label,
            ports: (0..count).map(port).collect(),
            pending: VecDeque::new(),
            next_generation: 1,
        }
    }

    /// The console's name in the log.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Port `port`, if the driver serves it.
    pub(crate) fn get(&self, port: usize) -> Option<&Port> {
        self.ports.get(port)
    }

    /// Applies a message from the device; pushes the replies it needs.
    pub(crate) fn handle(&mut self, control: Control, replies: &mut Vec<Control>) {
        let Control { port, event, value } = control;
        let label = &self.label;
        if event == Event::PortAdd {
            return self.add(port, replies);
        }
        let Some(index) = self.index(port) else {
            return warn!("{label}: {event:?} for port {port}, which it never added; ignored");
        };
        match (event, value) {
            (Event::PortOpen, 0) => self.host_closed(index, replies),
            (Event::PortOpen, _) => self.host_opened(index),
            (Event::PortRemove, _) => self.ports[index].state = PortState::Absent,
            (Event::ConsolePort, _) => debug!("{label}: port {port} is a console"),
            (Event::PortName | Event::Resize, _) => {}
            (Event::DeviceReady | Event::PortReady | Event::PortAdd, _) => {
                warn!("{label}: the device sent the driver's {event:?}; ignored");
            }
        }
    }

    /// The index of an added port numbered `port`.
    fn index(&self, port: u32) -> Option<usize> {
        let index = usize::try_from(port).ok()?;
        (self.ports.get(index)?.state != PortState::Absent).then_some(index)
    }

    fn add(&mut self, port: u32, replies: &mut Vec<Control>) {
        let slot = usize::try_from(port)
            .ok()
            .and_then(|i| self.ports.get_mut(i));
        let Some(slot) = slot else {
            warn!("{}: port {port} is beyond the ports served", self.label);
            return replies.push(Control::new(port, Event::PortReady, 0));
        };
        if slot.state == PortState::Absent {
            slot.state = PortState::Idle;
        }
        replies.push(Control::new(port, Event::PortReady, 1));
    }

    fn host_opened(&mut self, index: usize) {
        let port = &mut self.ports[index];
        if port.state != PortState::Idle {
            warn!("{}: port {index} opened twice; a new client", self.label);
        }
        port.generation = self.next_generation;
        self.next_generation += 1;
        port.received.clear();
        port.state = PortState::Waiting;
        self.pending.push_back(Stream {
            port: index as u32,
            generation: port.generation,
        });
    }

    fn host_closed(&mut self, index: usize, replies: &mut Vec<Control>) {
        let port = &mut self.ports[index];
        match port.state {
            PortState::Waiting => port.received.clear(),
            PortState::Served => replies.push(Control::new(index as u32, Event::PortOpen, 0)),
            _ => {}
        }
        port.state = PortState::Idle;
    }

    /// The oldest client still waiting, now served; replies PORT_OPEN 1.
    pub(crate) fn accept(&mut self, replies: &mut Vec<Control>) -> Option<Stream> {
        while let Some(stream) = self.pending.pop_front() {
            let port = &mut self.ports[stream.port as usize];
            if port.generation == stream.generation && port.state == PortState::Waiting {
                port.state = PortState::Served;
                replies.push(Control::new(stream.port, Event::PortOpen, 1));
                return Some(stream);
            }
        }
        None
    }

    /// Whether `stream` is served and its client still there.
    pub(crate) fn is_live(&self, stream: Stream) -> bool {
        let port = &self.ports[stream.port as usize];
        port.generation == stream.generation && port.state == PortState::Served
    }

    /// Our side ends `stream`; replies PORT_OPEN 0 if it was served.
    pub(crate) fn close(&mut self, stream: Stream, replies: &mut Vec<Control>) {
        if self.is_live(stream) {
            let port = &mut self.ports[stream.port as usize];
            port.state = PortState::Dropped;
            port.received.clear();
            replies.push(Control::new(stream.port, Event::PortOpen, 0));
        }
    }

    /// Keeps `bytes` the device received on `port` for its client, if it
    /// has one; whether they were kept.
    pub(crate) fn receive(&mut self, port: usize, bytes: &[u8]) -> bool {
        let Some(port) = self.ports.get_mut(port) else {
            return false;
        };
        let kept = matches!(port.state, PortState::Waiting | PortState::Served);
        if kept {
            port.received.extend(bytes);
        }
        kept
    }

    /// Reads what `stream`'s client sent into `buffer`.
    pub(crate) fn read(&mut self, stream: Stream, buffer: &mut [u8]) -> Readable {
        let port = &mut self.ports[stream.port as usize];
        if port.generation != stream.generation {
            return Readable::End;
        }
        if !port.received.is_empty() {
            let length = buffer.len().min(port.received.len());
            for (to, from) in buffer.iter_mut().zip(port.received.drain(..length)) {
                *to = from;
            }
            return Readable::Data(length);
        }
        match port.state {
            PortState::Served => Readable::Wait,
            _ => Readable::End,
        }
    }
}
