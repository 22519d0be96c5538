//! The stack's counters as text: interfaces, then each protocol.
//!
//! First a line per interface and route (IPv6: per address, default
//! router, on-link prefix, static route and DNS server), then one `layer
//! name value` line per counter (`forward` and `forward6` for what
//! forwarding did), so that people read it and scripts grep it (the
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
        let path_mtus = self.ip.path_mtu.counts(self.ip.now_ns);
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
                ("path_mtus_cached", path_mtus.0 as u64),
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
                ("time_exceeded_sent", icmp.time_exceeded_sent),
                ("time_exceeded_received", icmp.time_exceeded_received),
            ],
        )?;
        counters(out, "forward", &self.ip.forward_stats.pairs())?;
        self.write_ipv6_counters(out)?;
        counters(out, "forward6", &self.ip.v6.forward_stats.pairs())?;
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
        let dns = &self.sockets.resolver.stats;
        counters(
            out,
            "dns",
            &[
                ("lookups", dns.lookups),
                ("cache_hits", dns.cache_hits),
                ("queries", dns.queries),
                ("tcp_queries", dns.tcp_queries),
                ("rejected", dns.rejected),
                ("timeouts", dns.timeouts),
            ],
        )?;
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
                " mtu {} rx_packets {} rx_bytes {} rx_dropped {} tx_packets {} tx_bytes {} tx_dropped {} tx_tso4 {} tx_tso6 {}",
                interface.spec.mtu,
                c.received_packets,
                c.received_bytes,
                c.received_dropped,
                c.sent_packets,
                c.sent_bytes,
                c.sent_dropped,
                c.sent_bursts[0],
                c.sent_bursts[1]
            )?;
        }
        for route in self.ip.routes.iter() {
            writeln!(out, "route {route}")?;
        }
        self.write_ipv6_lines(out)
    }

    /// `inet6`, `router6`, `prefix6` and `dns6` lines.
    fn write_ipv6_lines(&self, out: &mut dyn Write) -> fmt::Result {
        for interface in &self.ip.interfaces {
            for address in &interface.ipv6.addresses {
                writeln!(out, "inet6 {} {address}", interface.name)?;
            }
        }
        let now = self.now_ns();
        let left = |until: u64| match until {
            crate::ipv6::address::FOREVER => alloc::string::String::from("forever"),
            until => alloc::format!("{}s", until.saturating_sub(now) / 1_000_000_000),
        };
        let routes = &self.ip.v6.routes;
        for router in routes.routers() {
            let (address, index) = (router.address, router.interface.0);
            writeln!(
                out,
                "router6 {address} if {index} for {}",
                left(router.expires_ns)
            )?;
        }
        for prefix in routes.prefixes() {
            writeln!(out, "prefix6 {prefix} for {}", left(prefix.expires_ns))?;
        }
        for route in routes.static_routes() {
            writeln!(out, "route6 {route}")?;
        }
        for server in self.ip.v6.dns.current(now) {
            let (address, index) = (server.address, server.interface.0);
            writeln!(
                out,
                "dns6 {address} if {index} for {}",
                left(server.expires_ns)
            )?;
        }
        Ok(())
    }

    /// The `ipv6`, `icmp6` and `nd` counters.
    fn write_ipv6_counters(&self, out: &mut dyn Write) -> fmt::Result {
        let v6 = &self.ip.v6;
        let ip = &v6.stats;
        let fragments = &v6.reassembly.stats;
        let path_mtus = self.ip.path_mtu.counts(self.ip.now_ns);
        counters(
            out,
            "ipv6",
            &[
                ("received", ip.received),
                ("delivered", ip.delivered),
                ("sent", ip.sent),
                ("bad_header", ip.bad_header),
                ("not_for_us", ip.not_for_us),
                ("martian_source", ip.martian_source),
                ("extension_drops", ip.extension_drops),
                ("unknown_next_header", ip.unknown_next_header),
                ("no_route", ip.no_route),
                ("no_buffer", ip.no_buffer),
                ("fragments_received", fragments.fragments),
                ("reassembled", fragments.reassembled),
                ("reassembly_dropped", fragments.dropped),
                ("atomic_fragments", ip.atomic_fragments),
                ("fragments_sent", ip.fragments_sent),
                ("path_mtus_cached", path_mtus.1 as u64),
            ],
        )?;
        let icmp = &v6.icmp.stats;
        counters(
            out,
            "icmp6",
            &[
                ("received", icmp.received),
                ("malformed", icmp.malformed),
                ("echo_replies", icmp.echo_replies),
                ("echo_replies_received", icmp.echo_replies_received),
                ("errors_sent", icmp.errors_sent),
                ("errors_received", icmp.errors_received),
                ("packet_too_big", icmp.packet_too_big),
                ("rate_limited", icmp.rate_limited),
            ],
        )?;
        let nd = &v6.nd_stats;
        let cache = &v6.neighbors.stats;
        counters(
            out,
            "nd",
            &[
                ("solicitations_sent", nd.solicitations_sent),
                ("solicitations_received", nd.solicitations_received),
                ("advertisements_sent", nd.advertisements_sent),
                ("advertisements_received", nd.advertisements_received),
                ("router_solicitations_sent", nd.router_solicitations_sent),
                ("router_advertisements", nd.router_advertisements),
                (
                    "router_advertisements_ignored",
                    nd.router_advertisements_ignored,
                ),
                (
                    "router_solicitations_received",
                    nd.router_solicitations_received,
                ),
                ("router_advertisements_sent", nd.router_advertisements_sent),
                ("redirects_ignored", nd.redirects_ignored),
                ("invalid", nd.invalid),
                ("dad_conflicts", nd.dad_conflicts),
                ("neighbors", v6.neighbors.len() as u64),
                ("dropped_unresolved", cache.dropped_unresolved),
                ("unreachable", cache.unreachable),
                ("mld_reports_sent", nd.mld_reports_sent),
                ("mld_queries", nd.mld_queries),
            ],
        )
    }
}

/// Writes `layer name value` for each pair.
fn counters(out: &mut dyn Write, layer: &str, pairs: &[(&str, u64)]) -> fmt::Result {
    for (name, value) in pairs {
        writeln!(out, "{layer} {name} {value}")?;
    }
    Ok(())
}
