//! ping6: ICMPv6 echo from the kernel itself, as [`Net::ping`] is for
//! IPv4.
//!
//! One echo request goes out; the caller sleeps on the faction's ping
//! condition variable (the stack wakes it when any echo reply arrives)
//! until the matching reply comes or the timeout passes.

use core::net::Ipv6Addr;

use base::Context;

use crate::interface::InterfaceIndex;
use crate::net::Net;
use crate::socket::Errno;

/// Bytes of payload in each request.
const PAYLOAD: &[u8] = b"anykernel ping6 payload 0123456789";

impl Net {
    /// Sends an echo request to `destination` (out of `zone` for a
    /// link-local or multicast destination, else of the first interface
    /// running IPv6) and returns the round-trip time in nanoseconds.
    ///
    /// # Errors
    /// [`Errno::TimedOut`] without a reply; [`Errno::NetworkUnreachable`]
    /// without a route or a usable source address.
    pub fn ping6(
        &self,
        context: &Context<'_>,
        destination: Ipv6Addr,
        zone: Option<InterfaceIndex>,
        sequence: u16,
        timeout_ns: u64,
    ) -> Result<u64, Errno> {
        let identifier = (context.lwp_id().0 & 0xffff) as u16;
        let mut stack = self.lock(context);
        let sent_ns = stack.now_ns();
        let deadline = sent_ns.saturating_add(timeout_ns);
        let sent =
            stack
                .ip
                .send_echo_request6(destination, zone, (identifier, sequence), PAYLOAD, None);
        self.finish(context, &mut stack);
        sent?;
        loop {
            let reply = stack.ip.v6.icmp.replies.iter().find(|reply| {
                reply.identifier == identifier
                    && reply.sequence == sequence
                    && reply.answer == crate::probe::Answer::Echo
                    && (reply.source == destination || destination.is_multicast())
                    && reply.arrived_ns >= sent_ns
            });
            if let Some(reply) = reply {
                return Ok(reply.arrived_ns - sent_ns);
            }
            if context.now_ns() >= deadline {
                return Err(Errno::TimedOut);
            }
            stack = self.ping_wait.wait_until(stack, deadline).0;
            stack.set_now(context.now_ns());
        }
    }
}
