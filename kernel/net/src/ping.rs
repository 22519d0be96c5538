//! ping: ICMP echo from the kernel itself, for tests and diagnostics.
//!
//! There are no raw sockets; [`Net::ping`] sends one echo request and
//! sleeps on the faction's ping condition variable until the matching
//! reply arrives or the timeout passes.

use core::net::Ipv4Addr;

use base::Context;

use crate::net::Net;
use crate::socket::Errno;

/// Bytes of payload in each request.
const PAYLOAD: &[u8] = b"anykernel ping payload 0123456789";

impl Net {
    /// Sends an echo request to `destination` and returns the round-trip
    /// time in nanoseconds.
    ///
    /// # Errors
    /// [`Errno::TimedOut`] without a reply; [`Errno::NetworkUnreachable`].
    pub fn ping(
        &self,
        context: &Context<'_>,
        destination: Ipv4Addr,
        sequence: u16,
        timeout_ns: u64,
    ) -> Result<u64, Errno> {
        let identifier = (context.lwp_id().0 & 0xffff) as u16;
        let mut stack = self.lock(context);
        let sent_ns = stack.now_ns();
        let deadline = sent_ns.saturating_add(timeout_ns);
        {
            let crate::Stack { ip, icmp, .. } = &mut *stack;
            icmp.send_echo_request(ip, destination, (identifier, sequence), PAYLOAD, 64)?;
        }
        self.finish(context, &mut stack);
        loop {
            let reply = stack.icmp.replies.iter().find(|reply| {
                reply.identifier == identifier
                    && reply.sequence == sequence
                    && reply.answer == crate::probe::Answer::Echo
                    && reply.source == destination
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
