//! IPv6 packets built from generated parts, so that the fuzzer reaches
//! past the checksum and the length checks: addresses the target knows,
//! a chain of well-framed extension headers, and ICMPv6 messages of the
//! types the stack handles, with targets and options that parse.

use std::net::Ipv6Addr;

use bolero::TypeGenerator;
use net::{InterfaceIndex, Stack};
use wire::ipv6::{addresses, next_header, solicited_node};

/// The ICMPv6 types worth generating.
const TYPES: [u8; 15] = [
    1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 143,
];
/// ND option types worth generating.
const OPTIONS: [u8; 6] = [1, 2, 3, 5, 14, 25];

/// The parts of one packet.
#[derive(Debug, TypeGenerator)]
pub struct Crafted {
    source: u8,
    destination: u8,
    hop_limit: u8,
    headers: Vec<(u8, Vec<u8>)>,
    upper: u8,
    kind: u8,
    code: u8,
    flags: [u8; 4],
    target: u8,
    options: Vec<(u8, Vec<u8>)>,
    seal: bool,
}

/// Addresses the target cares about, and a few it must refuse.
fn candidates(target: &Stack) -> Vec<Ipv6Addr> {
    let own: Vec<Ipv6Addr> = target
        .ip
        .interface(InterfaceIndex(0))
        .map(|i| i.ipv6.addresses.iter().map(|a| a.address).collect())
        .unwrap_or_default();
    let mut list = own.clone();
    list.extend(own.iter().map(|&a| solicited_node(a)));
    list.extend([
        addresses::ALL_NODES,
        addresses::ALL_ROUTERS,
        addresses::ALL_MLDV2_ROUTERS,
        Ipv6Addr::UNSPECIFIED,
        Ipv6Addr::LOCALHOST,
        "fe80::1".parse().unwrap(),
        "fe80::2".parse().unwrap(),
        "fd00:1::53".parse().unwrap(),
        "fd00:1::9".parse().unwrap(),
    ]);
    list
}

impl Crafted {
    /// The Ethernet frame these parts make, to the target.
    pub fn frame(&self, target: &Stack) -> Vec<u8> {
        let list = candidates(target);
        let pick = |index: u8| list[usize::from(index) % list.len()];
        let (source, destination) = (pick(self.source), pick(self.destination));
        let hop_limit = match self.hop_limit % 4 {
            0 => 255,
            1 => 1,
            2 => 64,
            _ => self.hop_limit,
        };
        let upper = match self.upper % 4 {
            0 | 1 => next_header::ICMPV6,
            2 => next_header::UDP,
            _ => self.upper,
        };
        let (first, chain) = self.chain(upper);
        let message = self.message(pick(self.target));
        super::packet_frame(
            source,
            destination,
            hop_limit,
            first,
            &chain,
            message,
            self.seal,
        )
    }

    /// Extension headers, each framed to its length field, the last
    /// naming `upper`; returns the first's type and the bytes.
    fn chain(&self, upper: u8) -> (u8, Vec<u8>) {
        let kinds: Vec<u8> = self
            .headers
            .iter()
            .take(10)
            .map(|(kind, _)| [0, 43, 44, 60, 59, *kind][usize::from(*kind % 6)])
            .collect();
        let mut bytes = Vec::new();
        for (index, (_, body)) in self.headers.iter().take(10).enumerate() {
            let next = kinds.get(index + 1).copied().unwrap_or(upper);
            let length = match kinds[index] {
                next_header::FRAGMENT => 8,
                _ => (body.len().min(62) + 2).div_ceil(8) * 8,
            };
            let mut header = vec![next, ((length / 8) - 1) as u8];
            header.extend(
                body.iter()
                    .copied()
                    .chain(std::iter::repeat(1))
                    .take(length - 2),
            );
            if kinds[index] == next_header::FRAGMENT {
                header[1] = 0;
            }
            bytes.extend(header);
        }
        (kinds.first().copied().unwrap_or(upper), bytes)
    }

    /// An ICMPv6 message: type, code, the first word, a target address
    /// (where ND has one) and well-framed options.
    fn message(&self, target: Ipv6Addr) -> Vec<u8> {
        let kind = match self.kind % 2 {
            0 => TYPES[usize::from(self.kind / 2) % TYPES.len()],
            _ => self.kind,
        };
        let code = if self.code < 200 { 0 } else { self.code };
        let mut message = vec![kind, code, 0, 0];
        message.extend_from_slice(&self.flags);
        if matches!(kind, 130 | 135 | 136 | 137) {
            message.extend_from_slice(&target.octets());
        }
        if kind == 137 {
            message.extend_from_slice(&target.octets());
        }
        if kind == 134 {
            message.extend_from_slice(&[0; 8]);
        }
        for (option, body) in self.options.iter().take(8) {
            let option = OPTIONS[usize::from(*option) % OPTIONS.len()];
            let units = (body.len().min(38) + 2).div_ceil(8).max(1);
            let mut bytes = vec![option, units as u8];
            bytes.extend(
                body.iter()
                    .copied()
                    .chain(std::iter::repeat(0))
                    .take(units * 8 - 2),
            );
            message.extend(bytes);
        }
        message
    }
}
