//! The listings, in the shape of their BSD namesakes' output.

use std::fmt::Write;
use std::net::Ipv4Addr;

use anykernel_client::proto::types::{Interface, Neighbor, Route, SocketKind, SocketSummary};

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac(bytes: [u8; 6]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

fn netmask(prefix_length: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix_length.min(32)))
        .unwrap_or(0)
}

/// `ifconfig -a`: flags and MTU, then ether, inet and inet6 lines.
pub fn interfaces(interfaces: &[Interface]) -> String {
    let mut out = String::new();
    for interface in interfaces {
        let mut flags = vec![if interface.up { "UP" } else { "DOWN" }];
        flags.push(if interface.loopback {
            "LOOPBACK"
        } else {
            "BROADCAST"
        });
        flags.extend(["RUNNING", "MULTICAST"]);
        let _ = writeln!(
            out,
            "{}: flags=<{}> mtu {}",
            interface.name,
            flags.join(","),
            interface.mtu
        );
        if !interface.loopback {
            let _ = writeln!(out, "\tether {}", mac(interface.mac));
        }
        if let Some(address) = interface.address {
            let mask = netmask(address.prefix_length);
            let _ = write!(out, "\tinet {} netmask 0x{mask:08x}", address.address);
            if !interface.loopback {
                let broadcast = Ipv4Addr::from(u32::from(address.address) | !mask);
                let _ = write!(out, " broadcast {broadcast}");
            }
            out.push('\n');
        }
        for address in &interface.ipv6 {
            let _ = writeln!(
                out,
                "\tinet6 {} prefixlen {} {}",
                address.address, address.prefix_length, address.state
            );
        }
        let c = &interface.counters;
        let _ = writeln!(
            out,
            "\tRX packets {} bytes {} dropped {}  TX packets {} bytes {} dropped {}",
            c.received_packets,
            c.received_bytes,
            c.received_dropped,
            c.sent_packets,
            c.sent_bytes,
            c.sent_dropped
        );
    }
    out
}

fn destination(route: &Route) -> String {
    match route.prefix_length {
        0 => "default".into(),
        32 => route.destination.to_string(),
        length => format!("{}/{length}", route.destination),
    }
}

/// `netstat -rn -f inet`.
pub fn routes(routes: &[Route]) -> String {
    let mut out = String::from("Routing tables\n\nInternet:\n");
    let _ = writeln!(
        out,
        "{:<20} {:<18} {:<6} Netif",
        "Destination", "Gateway", "Flags"
    );
    for route in routes {
        let (gateway, flags) = match route.gateway {
            Some(gateway) => (gateway.to_string(), "UGS"),
            None => (format!("link#{}", route.interface), "U"),
        };
        let flags = if route.prefix_length == 32 && route.gateway.is_none() {
            "UH"
        } else {
            flags
        };
        let _ = writeln!(
            out,
            "{:<20} {:<18} {:<6} {}",
            destination(route),
            gateway,
            flags,
            route.interface
        );
    }
    out
}

/// `arp -an`, then IPv6 neighbours in the same shape with their state.
pub fn neighbors(neighbors: &[Neighbor]) -> String {
    let mut out = String::new();
    for neighbor in neighbors {
        let at = neighbor.mac.map_or_else(|| "(incomplete)".to_string(), mac);
        let _ = write!(
            out,
            "? ({}) at {at} on {}",
            neighbor.address, neighbor.interface
        );
        match neighbor.address {
            std::net::IpAddr::V4(_) => out.push_str(" [ethernet]\n"),
            std::net::IpAddr::V6(_) => {
                let _ = writeln!(out, " {}", neighbor.state);
            }
        }
    }
    out
}

fn endpoint(address: std::net::SocketAddr) -> String {
    let host = if address.ip().is_unspecified() {
        "*".to_string()
    } else {
        address.ip().to_string()
    };
    let port = if address.port() == 0 {
        "*".to_string()
    } else {
        address.port().to_string()
    };
    format!("{host}.{port}")
}

/// `netstat -an -f inet`.
pub fn sockets(sockets: &[SocketSummary]) -> String {
    let mut out = String::from("Active Internet connections (including servers)\n");
    let _ = writeln!(
        out,
        "{:<6} {:>6} {:<22} {:<22} (state)",
        "Proto", "Recv-Q", "Local Address", "Foreign Address"
    );
    for socket in sockets {
        let proto = match socket.kind {
            SocketKind::Stream => "tcp4",
            SocketKind::Datagram => "udp4",
        };
        let foreign = socket.peer.map_or_else(|| "*.*".to_string(), endpoint);
        let _ = writeln!(
            out,
            "{proto:<6} {:>6} {:<22} {:<22} {}",
            socket.receive_queue,
            endpoint(socket.local),
            foreign,
            socket.state
        );
    }
    out
}
