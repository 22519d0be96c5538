//! TCP echo (RFC 862): every byte back until the peer closes.
//!
//! Bytes go back as they arrive; what the socket does not take waits in
//! the connection's outbox, and the loop reads no more until it is sent.

use alloc::sync::Arc;
use core::sync::atomic::Ordering::Relaxed;

use serve::{Io, Protocol, Want};

use super::Services;

/// The echo service.
pub(super) struct Echo(pub(super) Arc<Services>);

impl Protocol for Echo {
    type Session = ();

    fn open(&self, _io: &mut Io<'_, '_>) -> ((), Want) {
        ((), Want::Input)
    }

    fn advance(&self, _session: &mut (), input: &[u8], io: &mut Io<'_, '_>) -> Want {
        io.send(input);
        let stats = self.0.stats();
        stats.echoed_bytes.fetch_add(input.len() as u64, Relaxed);
        Want::Input
    }
}
