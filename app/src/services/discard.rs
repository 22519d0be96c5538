//! TCP discard (RFC 863): reads everything, counts it, sends nothing.

use alloc::sync::Arc;
use core::sync::atomic::Ordering::Relaxed;

use serve::{Io, Protocol, Want};

use super::Services;

/// The discard service.
pub(super) struct Discard(pub(super) Arc<Services>);

impl Protocol for Discard {
    type Session = ();

    fn open(&self, _io: &mut Io<'_, '_>) -> ((), Want) {
        ((), Want::Input)
    }

    fn advance(&self, _session: &mut (), input: &[u8], _io: &mut Io<'_, '_>) -> Want {
        let stats = self.0.stats();
        stats.discarded_bytes.fetch_add(input.len() as u64, Relaxed);
        Want::Input
    }
}
