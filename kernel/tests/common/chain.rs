//! A chain of hosted kernels on buses: A — R1 — … — Rn — B, every router
//! configured by boot parameters alone (the router appliance's).
//!
//! Link k (0..=n) is a bus of its own between node k and node k+1 (A is
//! node 0, B node n+1): 10.0.k.0/24 and fd00:0:0:k::/64, the left end .1
//! (::1), the right end .2 (::2). Each router forwards both families,
//! sends everything to its right neighbour (`ip.route=0.0.0.0/0,…`,
//! `ip6.route=::/0,…`) and A's network to its left one. With TTL 64, 63
//! routers at most.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use super::{Bus, Node, usable_address};

/// The kernels in order (A first, B last) and their buses.
pub struct Chain {
    pub nodes: Vec<Arc<Node>>,
    pub buses: Vec<Bus>,
}

/// The address of `link`'s `end` (1 left, 2 right).
pub fn link_address(link: usize, end: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, (link >> 8) as u8, link as u8, end)
}

/// The same in IPv6.
pub fn link_address6(link: usize, end: u8) -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0, 0, link as u16, 0, 0, 0, u16::from(end))
}

/// How to build a chain.
#[derive(Clone, Debug)]
pub struct ChainConfig<'a> {
    /// Names the buses (unique in the process).
    pub tag: &'a str,
    /// Routers between A and B.
    pub routers: usize,
    /// Both families (else IPv4 only, `ip6=none`).
    pub ipv6: bool,
    /// The routers forward (else they get no forwarding parameter).
    pub forwarding: bool,
    /// More parameters for every router.
    pub router_extra: &'a str,
    /// More parameters for everyone.
    pub extra: &'a str,
}

impl Default for ChainConfig<'_> {
    fn default() -> Self {
        Self {
            tag: "chain",
            routers: 1,
            ipv6: true,
            forwarding: true,
            router_extra: "",
            extra: "log=warn",
        }
    }
}

/// The boot parameters of router `i` (1..=n).
pub fn router_params(i: usize, config: &ChainConfig<'_>) -> String {
    let (left, right, ipv6) = (i - 1, i, config.ipv6);
    let mut params = format!(
        "ip={}/24 ip.1={}/24 ip.route=0.0.0.0/0,{}",
        link_address(left, 2),
        link_address(right, 1),
        link_address(right, 2),
    );
    if config.forwarding {
        params += " ip.forwarding=1";
        if ipv6 {
            params += " ip6.forwarding=1";
        }
    }
    if left > 0 {
        params += &format!(" ip.route=10.0.0.0/24,{}", link_address(left, 1));
    }
    if ipv6 {
        params += &format!(
            " ip6={}/64 ip6.1={}/64 ip6.route=::/0,{}",
            link_address6(left, 2),
            link_address6(right, 1),
            link_address6(right, 2),
        );
        if left > 0 {
            params += &format!(" ip6.route=fd00::/64,{}", link_address6(left, 1));
        }
    } else {
        params += " ip6=none";
    }
    format!("{params} {} {}", config.router_extra, config.extra)
}

/// The boot parameters of a host at end `host_end` of `link`, the
/// router at the other end its gateway.
fn host_params(link: usize, host_end: u8, ipv6: bool, extra: &str) -> String {
    let router_end = 3 - host_end;
    let mut params = format!(
        "ip={}/24 gw={}",
        link_address(link, host_end),
        link_address(link, router_end)
    );
    if ipv6 {
        params += &format!(
            " ip6={}/64 gw6={}",
            link_address6(link, host_end),
            link_address6(link, router_end)
        );
    } else {
        params += " ip6=none";
    }
    format!("{params} {extra}")
}

impl Chain {
    /// Boots A, the routers and B as `config` says; with IPv6, waits
    /// until the ends' addresses passed DAD.
    pub fn boot(config: &ChainConfig<'_>) -> Chain {
        let (routers, ipv6, extra) = (config.routers, config.ipv6, config.extra);
        let buses: Vec<Bus> = (0..=routers)
            .map(|k| Bus::new(&format!("{}{k}", config.tag)))
            .collect();
        let mut nodes = Vec::with_capacity(routers + 2);
        let a = host_params(0, 1, ipv6, extra);
        nodes.push(Arc::new(Node::boot("a", &a, &[buses[0].spec("")])));
        for i in 1..=routers {
            let params = router_params(i, config);
            let nics = [buses[i - 1].spec(""), buses[i].spec("")];
            nodes.push(Arc::new(Node::boot(&format!("r{i}"), &params, &nics)));
        }
        let b = host_params(routers, 2, ipv6, extra);
        nodes.push(Arc::new(Node::boot("b", &b, &[buses[routers].spec("")])));
        let chain = Chain { nodes, buses };
        if ipv6 {
            usable_address(chain.a(), |a| a == chain.a6());
            usable_address(chain.b(), |a| a == chain.b6());
            // A host may reach a router by the link-local address its
            // advertisements give before the router's own addresses
            // passed DAD: its errors would come from that address.
            for i in 1..=routers {
                let router = &chain.nodes[i];
                usable_address(router, |a| a == link_address6(i - 1, 2));
                usable_address(router, |a| a == link_address6(i, 1));
            }
        }
        chain
    }

    /// Routers in the chain.
    pub fn routers(&self) -> usize {
        self.nodes.len() - 2
    }

    pub fn a(&self) -> &Arc<Node> {
        &self.nodes[0]
    }

    pub fn b(&self) -> &Arc<Node> {
        &self.nodes[self.nodes.len() - 1]
    }

    /// Router `i` (1..=n).
    pub fn router(&self, i: usize) -> &Arc<Node> {
        &self.nodes[i]
    }

    pub fn b4(&self) -> Ipv4Addr {
        link_address(self.routers(), 2)
    }

    pub fn a6(&self) -> Ipv6Addr {
        link_address6(0, 1)
    }

    pub fn b6(&self) -> Ipv6Addr {
        link_address6(self.routers(), 2)
    }
}
