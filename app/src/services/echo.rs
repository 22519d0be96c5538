//! TCP echo (RFC 862): every byte back until the peer closes.

use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::net::Fd;

use super::Services;

/// Bytes moved per read.
const CHUNK: usize = 16 * 1024;

pub(super) fn serve(context: &Context<'_>, services: &Services, connection: Fd) {
    let net = services.net();
    let mut buffer = alloc::vec![0u8; CHUNK];
    loop {
        let Ok(count) = super::read_or_idle(context, net, connection, &mut buffer) else {
            return;
        };
        if count == 0 || net.write(context, connection, &buffer[..count]).is_err() {
            return;
        }
        services
            .stats()
            .echoed_bytes
            .fetch_add(count as u64, Relaxed);
    }
}
