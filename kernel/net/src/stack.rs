//! The network stack's state and its input path: everything the net
//! faction's lock protects.
//!
//! [`Stack`] is plain data plus pure functions of it: no kernel calls, no
//! clock reads, no device calls. Time comes in with each call; frames to
//! send wait in the interfaces' send queues; readiness changes wait in
//! the transports' event lists. The kernel glue ([`crate::Net`]) takes the
//! lock, calls in, and on the way out hands queued frames to the drivers,
//! wakes waiting threads and arms the one timer at [`Stack::next_deadline`].
//! Host tests and the fuzzer drive a `Stack` directly.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr};

use wire::ipv4::protocol;
use wire::{Ipv4Header, MacAddress};

use crate::buffer::{PacketBuffer, PacketPool};
use crate::config::PendingConfig;
use crate::dhcp::DhcpSession;
use crate::ethernet::LinkInput;
use crate::icmp::{Icmp, PROTOCOL_UNREACHABLE};
use crate::interface::{
    Interface, InterfaceAddress, InterfaceIndex, InterfaceSpec, LinkKind, NetworkDevice,
};
use crate::ipv4::{IpLayer, Ipv4Input};
use crate::ipv6::{Ipv6Input, Upper};
use crate::memory::{Budget, TcpBudget};
use crate::ports::EphemeralPorts;
use crate::route::{Route, RouteError};
use crate::socket::table::SocketTable;
use crate::udp::Udp;

/// Interfaces a stack holds at most.
pub const MAX_INTERFACES: usize = 16;

/// The random values a stack starts from (from the random hypercall).
#[derive(Clone, Copy)]
pub struct StackSeeds {
    /// TCP's ISN and port keys.
    pub tcp: tcp::Secrets,
    /// The UDP port chooser's key.
    pub ports: [u8; 16],
    /// The first IPv4 identification.
    pub identification: u16,
    /// The DHCP client's seed.
    pub dhcp: u64,
}

impl core::fmt::Debug for StackSeeds {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter.write_str("StackSeeds { .. }")
    }
}

/// Why an interface call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceError {
    /// No interface with that index or name.
    NoSuchInterface,
    /// The stack has [`MAX_INTERFACES`] already.
    TooManyInterfaces,
    /// The routing table refused.
    Route(RouteError),
    /// Prefix length above 32 (128 for IPv6), or an address that cannot
    /// be a host's.
    InvalidAddress,
    /// The interface holds as many IPv6 addresses as it may.
    TooManyAddresses,
    /// An MTU the interface cannot have: below 68 (1,280 with IPv6
    /// running), or above what its device carries.
    InvalidMtu,
}

impl core::fmt::Display for InterfaceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoSuchInterface => f.write_str("no such interface"),
            Self::TooManyInterfaces => f.write_str("too many interfaces"),
            Self::Route(error) => write!(f, "{error}"),
            Self::InvalidAddress => f.write_str("invalid interface address"),
            Self::TooManyAddresses => f.write_str("too many addresses on the interface"),
            Self::InvalidMtu => f.write_str("MTU out of the interface's range"),
        }
    }
}

impl core::error::Error for InterfaceError {}

/// All state of one network stack.
pub struct Stack {
    /// Interfaces, routes, ARP, reassembly, IPv4 counters.
    pub ip: IpLayer,
    /// ICMP.
    pub icmp: Icmp,
    /// UDP.
    pub udp: Udp,
    /// TCP.
    pub tcp: tcp::Tcp,
    /// UDP's port chooser.
    pub ports: EphemeralPorts,
    /// The DHCP client, when one interface is configured by DHCP.
    pub dhcp: Option<DhcpSession>,
    /// The system-call layer's descriptors.
    pub sockets: SocketTable,
    /// The boot-time configuration of the first Ethernet interface.
    pub(crate) pending: PendingConfig,
    dhcp_seed: u64,
}

impl Stack {
    /// An empty stack (no interfaces) drawing buffers from `pool`, and
    /// charging what it holds to the accounts of the pool's memory (see
    /// [`crate::memory`]).
    pub fn new(pool: PacketPool, seeds: StackSeeds, tcp_config: tcp::TcpConfig) -> Self {
        let memory = pool.memory().clone();
        let budget = |name: &str| Budget::new(memory.account(name));
        let mut tcp = tcp::Tcp::new(tcp_config, seeds.tcp);
        // An engine without sockets holds nothing: the budget takes it.
        tcp.set_memory_budget(Arc::new(TcpBudget(memory.account("tcp"))));
        let mut ip = IpLayer::new(pool, seeds.identification);
        // IPv6's keys are derived, under their own labels, from the port
        // key (a SipHash key too, from the random hypercall).
        ip.v6.set_secrets(seeds.ports);
        Self {
            ip,
            icmp: Icmp::default(),
            udp: Udp::new(budget("udp")),
            tcp,
            ports: EphemeralPorts::new(seeds.ports),
            dhcp: None,
            sockets: SocketTable::new(budget("sockets")),
            pending: PendingConfig::default(),
            dhcp_seed: seeds.dhcp,
        }
    }

    /// Sets the time of the call in progress.
    pub fn set_now(&mut self, now_ns: u64) {
        self.ip.now_ns = now_ns;
    }

    /// The time of the call in progress.
    pub fn now_ns(&self) -> u64 {
        self.ip.now_ns
    }

    /// Adds an interface for `device`, down and unconfigured. Its name is
    /// the spec's prefix and the first unit free for that prefix.
    ///
    /// # Errors
    /// [`InterfaceError::TooManyInterfaces`].
    pub fn attach(
        &mut self,
        spec: InterfaceSpec,
        device: Arc<dyn NetworkDevice>,
    ) -> Result<InterfaceIndex, InterfaceError> {
        let count = self.ip.interfaces.len();
        if count >= MAX_INTERFACES {
            return Err(InterfaceError::TooManyInterfaces);
        }
        let index = InterfaceIndex(count as u16);
        let unit = self
            .ip
            .interfaces
            .iter()
            .filter(|i| i.spec.name_prefix == spec.name_prefix)
            .count();
        self.ip.interfaces.push(Interface {
            index,
            name: format!("{}{unit}", spec.name_prefix),
            device_mtu: spec.mtu,
            spec,
            up: false,
            address: None,
            ipv6: Default::default(),
            counters: Default::default(),
            device,
            send_queue: Default::default(),
        });
        self.apply_pending(index);
        self.apply_pending_ipv6(index);
        self.apply_router_config(index);
        Ok(index)
    }

    fn interface_mut(&mut self, index: InterfaceIndex) -> Result<&mut Interface, InterfaceError> {
        self.ip
            .interface_mut(index)
            .ok_or(InterfaceError::NoSuchInterface)
    }

    /// Brings an interface up or down (ifconfig up/down); IPv6 starts
    /// and stops with it (see [`crate::ipv6`]).
    ///
    /// # Errors
    /// [`InterfaceError::NoSuchInterface`].
    pub fn set_up(&mut self, index: InterfaceIndex, up: bool) -> Result<(), InterfaceError> {
        let interface = self.interface_mut(index)?;
        interface.up = up;
        if !up {
            interface.send_queue.clear();
            self.ip.arp.flush_interface(index);
            self.ip.stop_ipv6(index);
            self.sync_router_name_servers();
        } else {
            self.ip.start_ipv6(index);
        }
        Ok(())
    }

    /// Sets an interface's MTU (ifconfig mtu): at most its device's, at
    /// least IPv4's 68 (IPv6's 1,280 when IPv6 runs there).
    ///
    /// # Errors
    /// [`InterfaceError::NoSuchInterface`], [`InterfaceError::InvalidMtu`].
    pub fn set_mtu(&mut self, index: InterfaceIndex, mtu: usize) -> Result<(), InterfaceError> {
        let interface = self.interface_mut(index)?;
        let least = match interface.ipv6.enabled {
            true => wire::ipv6::MINIMUM_MTU,
            false => 68,
        };
        if !(least..=interface.device_mtu).contains(&mtu) {
            return Err(InterfaceError::InvalidMtu);
        }
        interface.spec.mtu = mtu;
        Ok(())
    }

    /// Sets or clears an interface's address (ifconfig inet). The
    /// connected route follows it; a new address is announced with a
    /// gratuitous ARP.
    ///
    /// # Errors
    /// [`InterfaceError`].
    pub fn set_address(
        &mut self,
        index: InterfaceIndex,
        address: Option<InterfaceAddress>,
    ) -> Result<(), InterfaceError> {
        if let Some(address) = address {
            let unusable = address.address.is_unspecified()
                || address.address.is_broadcast()
                || address.address.is_multicast();
            if address.prefix_length > 32 || unusable {
                return Err(InterfaceError::InvalidAddress);
            }
        }
        let interface = self.interface_mut(index)?;
        let old = core::mem::replace(&mut interface.address, address);
        let kind = interface.spec.kind;
        if let Some(old) = old {
            let _ = self.ip.routes.remove(old.network(), old.prefix_length);
        }
        self.ip.arp.flush_interface(index);
        let Some(new) = address else {
            return Ok(());
        };
        let connected = Route {
            destination: new.network(),
            prefix_length: new.prefix_length,
            gateway: None,
            interface: index,
        };
        match self.ip.routes.add(connected) {
            Ok(()) | Err(RouteError::Exists) => {}
            Err(error) => return Err(InterfaceError::Route(error)),
        }
        if kind == LinkKind::Ethernet {
            self.ip.send_arp_request(index, new.address);
        }
        Ok(())
    }

    /// Sets (or with `None` removes) the default route (route add default).
    ///
    /// # Errors
    /// [`InterfaceError`] when no interface reaches the gateway.
    pub fn set_default_gateway(&mut self, gateway: Option<Ipv4Addr>) -> Result<(), InterfaceError> {
        let _ = self.ip.routes.remove(Ipv4Addr::UNSPECIFIED, 0);
        let Some(gateway) = gateway else {
            return Ok(());
        };
        let interface = self
            .ip
            .routes
            .lookup(gateway)
            .filter(|route| route.gateway.is_none())
            .ok_or(InterfaceError::NoSuchInterface)?
            .interface;
        let route = Route {
            destination: Ipv4Addr::UNSPECIFIED,
            prefix_length: 0,
            gateway: Some(gateway),
            interface,
        };
        self.ip.routes.add(route).map_err(InterfaceError::Route)
    }

    /// Starts configuring `index` by DHCP.
    pub fn start_dhcp(&mut self, index: InterfaceIndex, mac: MacAddress) {
        let now = self.now_ns();
        self.dhcp = Some(DhcpSession::new(index, mac, self.dhcp_seed, now));
    }

    /// One received frame from interface `index`.
    pub fn input(&mut self, index: InterfaceIndex, frame: PacketBuffer) {
        let (packet, link_multicast) = match self.ip.link_input(index, frame) {
            LinkInput::Ipv4 {
                packet,
                link_multicast,
            } => (packet, link_multicast),
            LinkInput::Ipv6 {
                packet,
                link_multicast,
            } => return self.input6(index, packet, link_multicast),
            LinkInput::Consumed => return,
        };
        if self.dhcp_wants(index, &packet) {
            self.dhcp_input(packet);
            return;
        }
        match self.ip.input(index, packet) {
            Ipv4Input::Local(header, payload) => {
                self.ip.stats.delivered += 1;
                self.deliver(&header, payload);
            }
            Ipv4Input::Forward(header, packet) => {
                self.forward(index, &header, packet, link_multicast);
            }
            Ipv4Input::Consumed => {}
        }
    }

    fn deliver(&mut self, header: &Ipv4Header, payload: PacketBuffer) {
        let now = self.now_ns();
        if header.protocol != protocol::UDP && self.ip.is_broadcast(header.destination) {
            // Only datagrams make sense to a broadcast address: a SYN to
            // one would open a connection from it (RFC 1122 4.2.3.10).
            self.ip.stats.not_for_us += 1;
            return;
        }
        match header.protocol {
            protocol::ICMP => {
                if let Some(report) = self.icmp.input(&mut self.ip, header, payload) {
                    self.unreachable_input(report);
                }
            }
            protocol::UDP => self
                .udp
                .input(&mut self.ip, &mut self.icmp, header, payload),
            protocol::TCP => self.tcp.input(
                now,
                IpAddr::V4(header.source),
                IpAddr::V4(header.destination),
                payload.data(),
                &mut self.ip,
            ),
            _ => {
                self.ip.stats.unknown_protocol += 1;
                let quoted = payload.data();
                self.icmp
                    .send_unreachable(&mut self.ip, PROTOCOL_UNREACHABLE, header, quoted);
            }
        }
    }

    /// An IPv6 packet: ICMPv6 and ND stay in the IP layer; TCP and UDP
    /// and the errors about them go to the transports.
    fn input6(&mut self, index: InterfaceIndex, packet: PacketBuffer, link_multicast: bool) {
        match self.ip.ipv6_input(index, packet, link_multicast) {
            Ipv6Input::Transport(upper) => self.deliver6(upper),
            Ipv6Input::Error(report) => self.error_report6(report),
            Ipv6Input::Consumed => {}
        }
        if core::mem::take(&mut self.ip.v6.icmp.reply_arrived) {
            self.icmp.reply_arrived = true;
        }
        self.sync_router_name_servers();
    }

    /// TCP and UDP over IPv6. A segment to a group is dropped (RFC 9293
    /// 3.9.1: no connection to a multicast address); the engine learns
    /// the ECN field from the traffic class, the zone from the interface
    /// and whether the device vouched for the checksum from the buffer,
    /// as the IPv4 path tells it the TOS.
    fn deliver6(&mut self, upper: Upper) {
        let header = upper.header;
        if upper.protocol == protocol::UDP {
            return self.udp.input6(&mut self.ip, upper);
        }
        if upper.link_multicast || header.destination.is_multicast() {
            self.ip.v6.stats.not_for_us += 1;
            return;
        }
        self.ip.arriving_ecn = tcp::Ecn::from_bits(header.traffic_class);
        self.ip.arriving_zone = upper.interface.scope_id();
        self.ip.arriving_checksum_valid = upper.packet.checksum_valid();
        let (source, destination) = (IpAddr::V6(header.source), IpAddr::V6(header.destination));
        let now = self.now_ns();
        self.tcp
            .input(now, source, destination, upper.payload(), &mut self.ip);
        self.ip.arriving_zone = 0;
        self.ip.arriving_checksum_valid = false;
    }

    /// Runs every timer due now.
    pub fn on_timer(&mut self) {
        let now = self.now_ns();
        self.ip.arp_timers();
        self.ip.ipv6_timers();
        self.ip.reassembly.on_timer(now);
        self.tcp.on_timer(now, &mut self.ip);
        self.dhcp_timer();
        self.sync_router_name_servers();
    }

    /// The earliest timer of any layer.
    pub fn next_deadline(&self) -> Option<u64> {
        [
            self.ip.arp.next_deadline(),
            self.ip.reassembly.next_deadline(),
            self.ip.ipv6_next_deadline(),
            self.tcp.next_deadline(),
            self.dhcp.as_ref().and_then(DhcpSession::next_deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Interfaces with frames waiting for their device.
    pub fn interfaces_with_output(&self) -> impl Iterator<Item = InterfaceIndex> + '_ {
        self.ip
            .interfaces
            .iter()
            .filter(|i| !i.send_queue.is_empty())
            .map(|i| i.index)
    }

    /// Takes the frames waiting on `index`, for tests and tools that play
    /// the device themselves.
    pub fn take_output(&mut self, index: InterfaceIndex) -> Vec<PacketBuffer> {
        self.ip
            .interface_mut(index)
            .map(|i| i.send_queue.drain(..).collect())
            .unwrap_or_default()
    }
}

impl core::fmt::Debug for Stack {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stack").finish_non_exhaustive()
    }
}
