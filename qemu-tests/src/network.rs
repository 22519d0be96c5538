//! Virtual NICs for a QEMU guest: the netdev behind them and the device.
//!
//! One [`Nic`] becomes a `-netdev` (user networking with TCP forwards
//! from 127.0.0.1, a tap device, or a `dgram` UDP socket pair for guest
//! to guest links), a virtio-net device on it (`virtio-net-pci` on q35 and
//! pc, modern only; `virtio-net-device` on microvm's virtio-mmio) and,
//! when asked, a `filter-dump` that writes every frame to a pcap file.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use crate::machine::Machine;

/// A TCP port forward from 127.0.0.1 on the host into the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forward {
    /// The host's port (on 127.0.0.1).
    pub host_port: u16,
    /// The guest's port.
    pub guest_port: u16,
}

/// What the NIC is connected to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    /// QEMU's user networking (slirp: DHCP, 10.0.2.2 as the host).
    User {
        /// TCP forwards into the guest.
        forwards: Vec<Forward>,
    },
    /// An existing tap device (root).
    Tap {
        /// Its name.
        name: String,
    },
    /// One UDP datagram per frame between 127.0.0.1 ports: two guests
    /// whose local and remote ports are crossed share a link.
    Dgram {
        /// This end's port.
        local_port: u16,
        /// The other end's port.
        remote_port: u16,
    },
}

impl Network {
    /// Parses `user`, `tap:NAME` or `dgram:LOCAL:REMOTE`; `user` gets the
    /// given forwards.
    pub fn parse(text: &str, user_forwards: &[Forward]) -> Option<Network> {
        if text == "user" {
            return Some(Network::User {
                forwards: user_forwards.to_vec(),
            });
        }
        if let Some(name) = text.strip_prefix("tap:") {
            let valid = !name.is_empty()
                && name.len() < 16
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            return valid.then(|| Network::Tap { name: name.into() });
        }
        let ports = text.strip_prefix("dgram:")?;
        let (local, remote) = ports.split_once(':')?;
        Some(Network::Dgram {
            local_port: local.parse().ok().filter(|&port| port != 0)?,
            remote_port: remote.parse().ok().filter(|&port| port != 0)?,
        })
    }

    fn netdev(&self, id: &str) -> String {
        match self {
            Network::User { forwards } => {
                let mut spec = format!("user,id={id}");
                for forward in forwards {
                    spec.push_str(&format!(
                        ",hostfwd=tcp:127.0.0.1:{}-:{}",
                        forward.host_port, forward.guest_port
                    ));
                }
                spec
            }
            Network::Tap { name } => format!("tap,id={id},ifname={name},script=no,downscript=no"),
            Network::Dgram {
                local_port,
                remote_port,
            } => format!(
                "dgram,id={id},local.type=inet,local.host=127.0.0.1,local.port={local_port},\
                 remote.type=inet,remote.host=127.0.0.1,remote.port={remote_port}"
            ),
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::User { .. } => f.write_str("user"),
            Network::Tap { name } => write!(f, "tap:{name}"),
            Network::Dgram {
                local_port,
                remote_port,
            } => write!(f, "dgram:{local_port}:{remote_port}"),
        }
    }
}

/// One virtio NIC of the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nic {
    /// What it is connected to.
    pub network: Network,
    /// Its MAC (QEMU chooses one when `None`).
    pub mac: Option<[u8; 6]>,
    /// Where to dump its frames as pcap.
    pub pcap: Option<PathBuf>,
}

impl Nic {
    /// A NIC on `network` with QEMU's MAC and no capture.
    pub fn new(network: Network) -> Nic {
        Nic {
            network,
            mac: None,
            pcap: None,
        }
    }

    /// QEMU arguments for this NIC, number `index` of the guest.
    pub(crate) fn arguments(&self, index: usize, machine: Machine) -> Vec<OsString> {
        let id = format!("n{index}");
        let mut device = match machine {
            Machine::Microvm => format!("virtio-net-device,netdev={id}"),
            Machine::Q35 | Machine::Pc => {
                format!("virtio-net-pci,netdev={id},romfile=,disable-legacy=on")
            }
        };
        if let Some(mac) = self.mac {
            let [a, b, c, d, e, g] = mac;
            device.push_str(&format!(
                ",mac={a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}"
            ));
        }
        let mut words: Vec<OsString> = vec![
            "-netdev".into(),
            self.network.netdev(&id).into(),
            "-device".into(),
            device.into(),
        ];
        if let Some(pcap) = &self.pcap {
            let mut filter =
                OsString::from(format!("filter-dump,id=dump{index},netdev={id},file="));
            filter.push(pcap.as_os_str());
            words.extend([OsString::from("-object"), filter]);
        }
        words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORWARDS: [Forward; 1] = [Forward {
        host_port: 8080,
        guest_port: 80,
    }];

    #[test]
    fn specs_parse_and_bad_ones_do_not() {
        assert_eq!(
            Network::parse("user", &FORWARDS),
            Some(Network::User {
                forwards: FORWARDS.to_vec()
            })
        );
        assert_eq!(
            Network::parse("tap:ak0", &[]),
            Some(Network::Tap { name: "ak0".into() })
        );
        assert_eq!(
            Network::parse("dgram:4000:4001", &[]),
            Some(Network::Dgram {
                local_port: 4000,
                remote_port: 4001
            })
        );
        for bad in [
            "",
            "tap:",
            "tap:a,b",
            "tap:waytoolongname123",
            "dgram:1",
            "dgram:0:2",
            "dgram:x:2",
            "wire",
        ] {
            assert_eq!(Network::parse(bad, &[]), None, "{bad}");
        }
    }

    #[test]
    fn nics_become_netdev_device_and_dump_arguments() {
        let mut nic = Nic::new(Network::parse("user", &FORWARDS).unwrap());
        nic.mac = Some([2, 0, 0, 0, 0, 1]);
        nic.pcap = Some("/tmp/x.pcap".into());
        let words: Vec<String> = nic
            .arguments(0, Machine::Q35)
            .into_iter()
            .map(|w| w.into_string().unwrap())
            .collect();
        assert_eq!(
            words,
            [
                "-netdev",
                "user,id=n0,hostfwd=tcp:127.0.0.1:8080-:80",
                "-device",
                "virtio-net-pci,netdev=n0,romfile=,disable-legacy=on,mac=02:00:00:00:00:01",
                "-object",
                "filter-dump,id=dump0,netdev=n0,file=/tmp/x.pcap",
            ]
        );
        let microvm =
            Nic::new(Network::parse("dgram:1:2", &[]).unwrap()).arguments(1, Machine::Microvm);
        assert_eq!(microvm[3], "virtio-net-device,netdev=n1");
        assert!(
            microvm[1]
                .to_string_lossy()
                .starts_with("dgram,id=n1,local.type=inet")
        );
    }
}
