//! The states a socket can be in: start here to read the engine.
//!
//! [`State`] is RFC 9293's connection state, the one the user sees.
//! [`Role`] says who holds the socket and which table or listener queue
//! it sits in. [`Recovery`] is the sender's loss recovery sub-state.
//! [`Negotiated`] holds the SYN options in use.

mod recovery;
mod role;

pub use recovery::{FastRecovery, Recovery};
pub use role::{Listener, Owner, QueueChange, Role};

use crate::config::TcpConfig;
use crate::options::Options;

/// The RFC 9293 connection states.
///
/// Transitions, and the function that makes each:
///
/// | from | to | when | where |
/// | --- | --- | --- | --- |
/// | Closed | Listen | listen | `socket::start_listening` |
/// | Closed | SynSent | connect | `socket::open_connection` |
/// | (new child) | SynReceived | a listener takes a SYN | `handshake::accept_syn` |
/// | SynSent | Established, FinWait1 | SYN-ACK (FinWait1 if shut down meanwhile) | `handshake::syn_sent` |
/// | SynSent | SynReceived | a bare SYN: simultaneous open | `handshake::syn_sent` |
/// | SynReceived | Established, FinWait1 | the ACK of our SYN | `arrival::establish` |
/// | Established | FinWait1 | shutdown(Write) or close | `closing::queue_fin` |
/// | Established | CloseWait | the peer's FIN | `arrival::fin_arrived` |
/// | FinWait1 | FinWait2 | our FIN acknowledged | `arrival::after_acknowledgment` |
/// | FinWait1 | Closing, TimeWait | the peer's FIN (TimeWait if ours is acknowledged) | `arrival::fin_arrived` |
/// | FinWait2 | TimeWait | the peer's FIN | `arrival::fin_arrived` |
/// | CloseWait | LastAck | shutdown(Write) or close | `closing::queue_fin` |
/// | Closing | TimeWait | our FIN acknowledged | `arrival::after_acknowledgment` |
/// | LastAck | Closed | our FIN acknowledged | `arrival::after_acknowledgment` |
/// | TimeWait | Closed | 2 MSL, or a new SYN or connect reuses the 4-tuple | `arrival::close_connection` |
/// | TimeWait | (a record) | nobody holds it: the socket gives way to a `TimeWait` record | `engine::release_if_closed` |
/// | any but Listen | Closed | RST, abort, timeout, data after close | `arrival::close_connection` |
///
/// A listener stays in Listen until it is closed and freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// No connection.
    Closed,
    /// Waiting for SYNs.
    Listen,
    /// SYN sent, waiting for the SYN-ACK.
    SynSent,
    /// SYN received and answered, waiting for the ACK.
    SynReceived,
    /// Open.
    Established,
    /// FIN sent, not yet acknowledged.
    FinWait1,
    /// FIN acknowledged, waiting for the peer's FIN.
    FinWait2,
    /// Peer's FIN received, ours not sent.
    CloseWait,
    /// Both FINs sent, ours not yet acknowledged.
    Closing,
    /// FIN sent after the peer's, waiting for its ACK.
    LastAck,
    /// Both sides closed; waiting out old duplicates.
    TimeWait,
}

impl State {
    /// The states after the handshake (RFC 9293's synchronized states).
    pub const fn is_synchronized(self) -> bool {
        !matches!(
            self,
            Self::Closed | Self::Listen | Self::SynSent | Self::SynReceived
        )
    }

    /// The states in which the peer may still send data.
    pub const fn receives_data(self) -> bool {
        matches!(self, Self::Established | Self::FinWait1 | Self::FinWait2)
    }

    /// The states in which the user may still queue data to send.
    pub const fn sends_data(self) -> bool {
        matches!(self, Self::Established | Self::CloseWait)
    }
}

/// The SYN options a connection uses. Before the peer's SYN arrives these
/// are what our SYN offers; [`Negotiated::agree`] keeps those the peer's
/// SYN offered too. Each option is negotiated on its own, so any
/// combination is legal: plain flags are the right type here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// Window scaling (RFC 7323 2): without it both shifts are 0.
    pub window_scaling: bool,
    /// Timestamps (RFC 7323 3): on every segment, with PAWS.
    pub timestamps: bool,
    /// SACK (RFC 2018), and with it D-SACK and the tail loss probe.
    pub sack: bool,
    /// ECN (RFC 3168): ECT(0) on new data, ECE and CWR in use.
    pub ecn: bool,
}

impl Negotiated {
    /// What our SYN offers under `config`.
    pub const fn offered(config: &TcpConfig) -> Self {
        Self {
            window_scaling: config.window_scaling,
            timestamps: config.timestamps,
            sack: config.selective_acknowledgments,
            ecn: matches!(config.ecn, crate::ecn::EcnMode::Request),
        }
    }

    /// Keeps what the peer's SYN, carrying `options`, offered too (ECN,
    /// which SYN flags negotiate, is settled in `handshake.rs`).
    pub const fn agree(&mut self, options: &Options) -> Self {
        self.window_scaling &= options.window_scale.is_some();
        self.timestamps &= options.timestamp.is_some();
        self.sack &= options.sack_permitted;
        *self
    }
}
