//! Unix sockets on the host as ports of a virtio console in the guest.
//!
//! Each [`ConsoleSocket`] is a port of one `virtio-serial` device
//! (`virtio-serial-pci` on q35 and pc, modern only as the guest's driver
//! is; `virtio-serial-device` on microvm's virtio-mmio) whose host side
//! is a listening Unix socket QEMU creates at start (`server=on,wait=off`:
//! the guest boots without a client). A program that connects is a
//! client the guest sees arrive (PORT_OPEN 1); when it closes the socket
//! the guest sees it go (PORT_OPEN 0), and the next connection is the
//! port's next client. One client per socket at a time; several sockets
//! are several ports. The appliance serves remote system calls on them
//! with the boot parameter [`ConsoleSocket::PARAMETER`].

use std::ffi::OsString;
use std::path::PathBuf;

use crate::machine::Machine;

/// The most sockets one guest gets (ports 1 to 3; QEMU keeps port 0
/// for a `virtconsole`).
pub const MAX_CONSOLE_SOCKETS: usize = 3;
/// The ports the virtio-serial device offers.
const MAX_PORTS: usize = MAX_CONSOLE_SOCKETS + 1;

/// A Unix socket QEMU listens on, as a port of the guest's console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSocket {
    /// Where QEMU creates the socket.
    pub path: PathBuf,
}

impl ConsoleSocket {
    /// The boot parameter that makes the appliance serve its consoles.
    pub const PARAMETER: &'static str = "sysproxy=console";

    /// A socket at `path`.
    pub fn new(path: impl Into<PathBuf>) -> ConsoleSocket {
        ConsoleSocket { path: path.into() }
    }

    /// The `-chardev` and `-device` arguments of `sockets` on `machine`:
    /// one virtio-serial device, then a port per socket.
    pub(crate) fn arguments(sockets: &[ConsoleSocket], machine: Machine) -> Vec<OsString> {
        if sockets.is_empty() {
            return Vec::new();
        }
        let serial = match machine {
            Machine::Microvm => format!("virtio-serial-device,id=vs0,max_ports={MAX_PORTS}"),
            Machine::Q35 | Machine::Pc => {
                format!("virtio-serial-pci,id=vs0,max_ports={MAX_PORTS},disable-legacy=on")
            }
        };
        let mut line: Vec<OsString> = vec!["-device".into(), serial.into()];
        for (index, socket) in sockets.iter().enumerate().take(MAX_CONSOLE_SOCKETS) {
            let mut chardev = OsString::from(format!("socket,id=vc{index},path="));
            chardev.push(crate::disk::escaped(&socket.path));
            chardev.push(",server=on,wait=off");
            let port = format!(
                "virtserialport,bus=vs0.0,nr={},chardev=vc{index},name=anykernel.{index}",
                index + 1
            );
            line.extend(["-chardev".into(), chardev, "-device".into(), port.into()]);
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(sockets: &[ConsoleSocket], machine: Machine) -> Vec<String> {
        let arguments = ConsoleSocket::arguments(sockets, machine);
        arguments
            .iter()
            .map(|word| word.to_string_lossy().into())
            .collect()
    }

    #[test]
    fn sockets_are_ports_of_one_virtio_serial_device() {
        let sockets = [
            ConsoleSocket::new("/tmp/a,b.sock"),
            ConsoleSocket::new("/tmp/c"),
        ];
        let q35 = words(&sockets, Machine::Q35);
        assert_eq!(
            q35,
            [
                "-device",
                "virtio-serial-pci,id=vs0,max_ports=4,disable-legacy=on",
                "-chardev",
                "socket,id=vc0,path=/tmp/a,,b.sock,server=on,wait=off",
                "-device",
                "virtserialport,bus=vs0.0,nr=1,chardev=vc0,name=anykernel.0",
                "-chardev",
                "socket,id=vc1,path=/tmp/c,server=on,wait=off",
                "-device",
                "virtserialport,bus=vs0.0,nr=2,chardev=vc1,name=anykernel.1",
            ]
        );
        let microvm = words(&sockets[..1], Machine::Microvm);
        assert_eq!(microvm[1], "virtio-serial-device,id=vs0,max_ports=4");
    }

    #[test]
    fn no_sockets_no_device() {
        assert!(words(&[], Machine::Q35).is_empty());
    }
}
