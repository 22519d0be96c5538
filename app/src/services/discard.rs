//! TCP discard (RFC 863): reads everything, counts it, sends nothing.

use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::net::Fd;

use super::Services;

const CHUNK: usize = 16 * 1024;

pub(super) fn serve(context: &Context<'_>, services: &Services, connection: Fd) {
    let net = services.net();
    let mut buffer = alloc::vec![0u8; CHUNK];
    while let Ok(count) = super::read_or_idle(context, net, connection, &mut buffer) {
        if count == 0 {
            return;
        }
        services
            .stats()
            .discarded_bytes
            .fetch_add(count as u64, Relaxed);
    }
}
