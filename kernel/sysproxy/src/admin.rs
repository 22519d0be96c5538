//! The interface, route, neighbour, socket-list and statistics calls: the
//! kernel's configuration as the wire's plain types.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use net::ipv6::address::AddressState;
use net::ipv6::neighbor::NudState;
use net::socket::table::Transport;
use net::stack::InterfaceError;
use net::{InterfaceIndex, LinkKind, Stack};
use sysproxy_proto::Errno;
use sysproxy_proto::calls::call;
use sysproxy_proto::types::{
    Interface, InterfaceAddress, InterfaceCounters, Ipv6Address, Neighbor, Route, SocketKind,
    SocketSummary,
};

use crate::handler::Caller;

/// The most sockets one listing returns, so that it fits in a frame.
pub const MAX_LISTED_SOCKETS: usize = 4096;

/// The errno of a failed configuration call.
pub fn interface_errno(error: InterfaceError) -> Errno {
    use net::route::RouteError;
    match error {
        InterfaceError::NoSuchInterface => Errno::NotFound,
        InterfaceError::Route(RouteError::Exists) => Errno::Exists,
        InterfaceError::Route(RouteError::NotFound) => Errno::NotFound,
        InterfaceError::Route(RouteError::Full)
        | InterfaceError::TooManyInterfaces
        | InterfaceError::TooManyAddresses => Errno::NoBuffers,
        InterfaceError::InvalidAddress | InterfaceError::InvalidMtu => Errno::InvalidArgument,
    }
}

fn address_state(state: AddressState) -> &'static str {
    match state {
        AddressState::Tentative { .. } => "tentative",
        AddressState::Preferred => "preferred",
        AddressState::Deprecated => "deprecated",
        AddressState::Duplicate => "duplicated",
    }
}

pub fn interfaces(caller: &Caller<'_>) -> Vec<Interface> {
    let net = caller.net();
    let interfaces = net.interfaces(caller.context).into_iter();
    interfaces
        .map(|info| Interface {
            name: info.name,
            loopback: info.kind == LinkKind::Loopback,
            mac: info.mac.0,
            mtu: u32::try_from(info.mtu).unwrap_or(u32::MAX),
            up: info.up,
            address: info.address.map(|a| InterfaceAddress {
                address: a.address,
                prefix_length: a.prefix_length,
            }),
            ipv6: info
                .ipv6
                .iter()
                .map(|a| Ipv6Address {
                    address: a.address,
                    prefix_length: a.prefix_length,
                    state: address_state(a.state).into(),
                })
                .collect(),
            counters: counters(&info.counters),
        })
        .collect()
}

fn counters(counters: &net::interface::InterfaceCounters) -> InterfaceCounters {
    InterfaceCounters {
        received_packets: counters.received_packets,
        received_bytes: counters.received_bytes,
        received_dropped: counters.received_dropped,
        sent_packets: counters.sent_packets,
        sent_bytes: counters.sent_bytes,
        sent_dropped: counters.sent_dropped,
    }
}

pub fn set_interface_address(
    caller: &Caller<'_>,
    call: call::SetInterfaceAddress,
) -> Result<(), Errno> {
    let address = call.address.map(|a| net::interface::InterfaceAddress {
        address: a.address,
        prefix_length: a.prefix_length,
    });
    let net = caller.net();
    let set = net.set_interface_address(caller.context, &call.name, address);
    set.map_err(interface_errno)
}

fn interface_name(stack: &Stack, index: InterfaceIndex) -> String {
    stack
        .ip
        .interface(index)
        .map_or_else(|| format!("if{}", index.0), |i| i.name.clone())
}

pub fn routes(caller: &Caller<'_>) -> Vec<Route> {
    caller.net().with_stack(caller.context, |stack| {
        let routes = stack.ip.routes.iter();
        routes
            .map(|route| Route {
                destination: route.destination,
                prefix_length: route.prefix_length,
                gateway: route.gateway,
                interface: interface_name(stack, route.interface),
            })
            .collect()
    })
}

pub fn add_route(caller: &Caller<'_>, call: call::AddRoute) -> Result<(), Errno> {
    let net = caller.net();
    let added = net.add_route(
        caller.context,
        call.destination,
        call.prefix_length,
        call.gateway,
        &call.interface,
    );
    added.map_err(interface_errno)
}

fn nud_state(state: NudState) -> &'static str {
    match state {
        NudState::Incomplete => "incomplete",
        NudState::Reachable => "reachable",
        NudState::Stale => "stale",
        NudState::Delay => "delay",
        NudState::Probe => "probe",
    }
}

pub fn neighbors(caller: &Caller<'_>) -> Vec<Neighbor> {
    let context = caller.context;
    let mut list: Vec<Neighbor> = caller.net().with_stack(context, |stack| {
        let arp = stack.ip.arp.resolved();
        arp.map(|(index, address, mac)| Neighbor {
            interface: interface_name(stack, index),
            address: IpAddr::V4(address),
            mac: Some(mac.0),
            state: "reachable".into(),
        })
        .collect()
    });
    let names = caller.net().interfaces(context);
    let ipv6 = caller.net().ipv6_neighbors(context).into_iter();
    list.extend(ipv6.map(|(index, address, mac, state)| {
        Neighbor {
            interface: names
                .iter()
                .find(|i| i.index == index)
                .map_or_else(|| format!("if{}", index.0), |i| i.name.clone()),
            address: IpAddr::V6(address),
            mac: mac.map(|mac| mac.0),
            state: nud_state(state).into(),
        }
    }));
    list
}

fn tcp_state(state: tcp::State) -> String {
    let name = format!("{state:?}");
    let mut upper = String::new();
    for (index, letter) in name.chars().enumerate() {
        if index > 0 && letter.is_ascii_uppercase() {
            upper.push('_');
        }
        upper.push(letter.to_ascii_uppercase());
    }
    upper
}

const UNBOUND: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

fn summary(stack: &Stack, transport: Transport) -> SocketSummary {
    match transport {
        Transport::Tcp(handle) => {
            let status = stack.tcp.status(handle).ok();
            SocketSummary {
                kind: SocketKind::Stream,
                local: stack.tcp.local_address(handle).unwrap_or(UNBOUND),
                peer: stack.tcp.peer_address(handle).ok(),
                state: status.map(|s| tcp_state(s.state)).unwrap_or_default(),
                receive_queue: status.map_or(0, |s| s.readable as u32),
            }
        }
        Transport::Udp(handle) => SocketSummary {
            kind: SocketKind::Datagram,
            local: stack.udp.local_address(handle).unwrap_or(UNBOUND),
            peer: stack.udp.peer_address(handle),
            state: String::new(),
            receive_queue: u32::from(stack.udp.readable(handle)),
        },
    }
}

pub fn sockets(caller: &Caller<'_>) -> Vec<SocketSummary> {
    caller.net().with_stack(caller.context, |stack| {
        let transports = stack.sockets.transports().take(MAX_LISTED_SOCKETS);
        transports
            .map(|transport| summary(stack, transport))
            .collect()
    })
}

pub fn statistics(caller: &Caller<'_>) -> String {
    let context = caller.context;
    let mut text = String::new();
    caller.net().with_stack(context, |stack| {
        let _ = stack.write_stats(&mut text);
    });
    let _ = context.kernel().memory().write_stats(&mut text);
    let server = &caller.session.server;
    let _ = writeln!(text, "sysproxy clients {}", server.clients());
    let _ = writeln!(text, "sysproxy served {}", server.served());
    let _ = writeln!(text, "sysproxy refused_keys {}", server.refused_keys());
    text
}
