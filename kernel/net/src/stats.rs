//! The stack's counters as text: interfaces, then each protocol.
//!
//! One `name value` pair per line, grouped under a header per layer, so
//! that people read it and scripts grep it (the appliance serves it at
//! `/stats`).

use core::fmt::{self, Write};

use crate::stack::Stack;

impl Stack {
    /// Writes every counter of the stack.
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn write_stats(&self, out: &mut dyn Write) -> fmt::Result {
        self.write_interfaces(out)?;
        let ip = &self.ip.stats;
        writeln!(
            out,
            "ip received {} delivered {} sent {}",
            ip.received, ip.delivered, ip.sent
        )?;
        writeln!(
            out,
            "ip bad_header {} bad_checksum {} not_for_us {} unknown_protocol {} no_route {} no_buffer {}",
            ip.bad_header,
            ip.bad_checksum,
            ip.not_for_us,
            ip.unknown_protocol,
            ip.no_route,
            ip.no_buffer
        )?;
        let frag = &self.ip.reassembly.stats;
        writeln!(
            out,
            "ip fragments_received {} reassembled {} reassembly_dropped {} fragments_sent {}",
            frag.fragments, frag.reassembled, frag.dropped, ip.fragments_sent
        )?;
        let arp = &self.ip.arp.stats;
        writeln!(
            out,
            "arp requests_sent {} replies_sent {} dropped_unresolved {} malformed {}",
            arp.requests_sent, arp.replies_sent, arp.dropped_unresolved, arp.malformed
        )?;
        let icmp = &self.icmp.stats;
        writeln!(
            out,
            "icmp received {} malformed {} echo_replies {} unreachables_sent {} rate_limited {}",
            icmp.received,
            icmp.malformed,
            icmp.echo_replies,
            icmp.unreachables_sent,
            icmp.rate_limited
        )?;
        let udp = &self.udp.stats;
        writeln!(
            out,
            "udp received {} sent {} malformed {} no_port {} queue_full {}",
            udp.received, udp.sent, udp.malformed, udp.no_port, udp.queue_full
        )?;
        writeln!(out, "{}", self.tcp.stats())?;
        writeln!(
            out,
            "sockets open {} packet_buffers_in_use {}",
            self.sockets.len(),
            self.ip.pool.in_use()
        )
    }

    fn write_interfaces(&self, out: &mut dyn Write) -> fmt::Result {
        for interface in &self.ip.interfaces {
            let c = &interface.counters;
            write!(
                out,
                "if {} {}",
                interface.name,
                if interface.up { "up" } else { "down" }
            )?;
            match interface.address {
                Some(address) => write!(out, " inet {address}")?,
                None => write!(out, " inet none")?,
            }
            writeln!(
                out,
                " mtu {} rx_packets {} rx_bytes {} rx_dropped {} tx_packets {} tx_bytes {} tx_dropped {}",
                interface.spec.mtu,
                c.received_packets,
                c.received_bytes,
                c.received_dropped,
                c.sent_packets,
                c.sent_bytes,
                c.sent_dropped
            )?;
        }
        for route in self.ip.routes.iter() {
            writeln!(out, "route {route}")?;
        }
        Ok(())
    }
}
