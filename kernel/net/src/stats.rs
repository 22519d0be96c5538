//! The stack's counters as text: interfaces, then each protocol.
//!
//! First a line per interface and route, then one `layer name value`
//! line per counter, so that people read it and scripts grep it (the
//! appliance serves it at `/stats`).

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
        let fragments = &self.ip.reassembly.stats;
        counters(
            out,
            "ip",
            &[
                ("received", ip.received),
                ("delivered", ip.delivered),
                ("sent", ip.sent),
                ("bad_header", ip.bad_header),
                ("bad_checksum", ip.bad_checksum),
                ("not_for_us", ip.not_for_us),
                ("martian_source", ip.martian_source),
                ("unknown_protocol", ip.unknown_protocol),
                ("no_route", ip.no_route),
                ("no_buffer", ip.no_buffer),
                ("fragments_received", fragments.fragments),
                ("reassembled", fragments.reassembled),
                ("reassembly_dropped", fragments.dropped),
                ("fragments_sent", ip.fragments_sent),
            ],
        )?;
        let arp = &self.ip.arp.stats;
        counters(
            out,
            "arp",
            &[
                ("requests_sent", arp.requests_sent),
                ("replies_sent", arp.replies_sent),
                ("dropped_unresolved", arp.dropped_unresolved),
                ("malformed", arp.malformed),
            ],
        )?;
        let icmp = &self.icmp.stats;
        counters(
            out,
            "icmp",
            &[
                ("received", icmp.received),
                ("malformed", icmp.malformed),
                ("echo_replies", icmp.echo_replies),
                ("unreachables_sent", icmp.unreachables_sent),
                ("unreachables_received", icmp.unreachables_received),
                ("rate_limited", icmp.rate_limited),
            ],
        )?;
        let udp = &self.udp.stats;
        counters(
            out,
            "udp",
            &[
                ("received", udp.received),
                ("sent", udp.sent),
                ("malformed", udp.malformed),
                ("no_port", udp.no_port),
                ("queue_full", udp.queue_full),
                ("no_memory", udp.no_memory),
            ],
        )?;
        for line in alloc::format!("{}", self.tcp.stats()).lines() {
            writeln!(out, "tcp {line}")?;
        }
        writeln!(out, "tcp connections {}", self.tcp.connection_count())?;
        counters(
            out,
            "sockets",
            &[
                ("open", self.sockets.len() as u64),
                ("packet_buffers_in_use", self.ip.pool.in_use() as u64),
            ],
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

/// Writes `layer name value` for each pair.
fn counters(out: &mut dyn Write, layer: &str, pairs: &[(&str, u64)]) -> fmt::Result {
    for (name, value) in pairs {
        writeln!(out, "{layer} {name} {value}")?;
    }
    Ok(())
}
