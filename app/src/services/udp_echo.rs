//! UDP echo (RFC 862): each datagram back to its sender.

use alloc::sync::Arc;
use core::net::{Ipv6Addr, SocketAddrV6};
use core::sync::atomic::Ordering::Relaxed;

use kernel::Context;
use kernel::net::{Fd, SocketType};

use super::{ServeError, Services, StartError};

/// The largest datagram echoed whole.
const MAX_DATAGRAM: usize = 65_507;

pub(super) fn start(context: &Context<'_>, services: &Arc<Services>) -> Result<(), StartError> {
    let net = services.net();
    let socket = net.socket(context, SocketType::Datagram)?;
    // Both families: `::` without IPV6_V6ONLY.
    let any = SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 7, 0, 0);
    net.bind(context, socket, any)?;
    let services = services.clone();
    context
        .kernel()
        .arc()
        .spawn_detached("udp-echo", move |context| serve(context, &services, socket))
        .map_err(|_| StartError::Serve(ServeError::Thread))?;
    Ok(())
}

fn serve(context: &Context<'_>, services: &Services, socket: Fd) {
    let net = services.net();
    let mut buffer = alloc::vec![0u8; MAX_DATAGRAM];
    loop {
        let Ok((count, sender)) = net.receive_from(context, socket, &mut buffer) else {
            return; // Only a closed socket fails a blocking receive.
        };
        // Privileged ports are other services (echo, chargen, …): answering
        // them would let one spoofed datagram start an endless exchange.
        if sender.port() < 1024 {
            continue;
        }
        if net
            .send_to(context, socket, &buffer[..count], sender)
            .is_ok()
        {
            services
                .stats()
                .echoed_bytes
                .fetch_add(count as u64, Relaxed);
        }
    }
}
