//! Control traffic on the fake console: the handshake, odd messages,
//! odd devices.

use alloc::sync::Arc;

use dev::DevError;
use virtio::fake::console::{self, ConsoleModel, PORT_OPEN, PORT_READY};
use virtio::fake::{FakeDevice, Pass};

use super::{Harness, within};
use crate::device::{self, MAX_PORTS};

#[test]
fn the_driver_readies_every_port_it_serves_and_refuses_the_rest() {
    let harness = Harness::new(MAX_PORTS + 2);
    let ready = |port: u32, value: u16| (port, PORT_READY, value);
    harness.wait_device("every PORT_READY", |state| {
        let sent = &state.device.from_driver;
        (0..MAX_PORTS as u32).all(|port| sent.contains(&ready(port, 1)))
            && sent.contains(&ready(MAX_PORTS as u32, 0))
            && sent.contains(&ready(MAX_PORTS as u32 + 1, 0))
    });
}

#[test]
fn malformed_and_odd_control_messages_are_ignored() {
    let harness = Arc::new(Harness::new(2));
    harness.host(|model| {
        model.inject(alloc::vec![1, 2, 3]);
        model.inject(console::control(1, 99, 0));
        model.inject(console::control(9, PORT_OPEN, 1));
        model.inject(console::control(1, PORT_READY, 1));
        model.inject(console::control(u32::MAX, 1, 0));
    });
    harness.wait_device("the refusal of port u32::MAX", |state| {
        state
            .device
            .from_driver
            .contains(&(u32::MAX, PORT_READY, 0))
    });
    harness.host(|model| {
        model.host_connect(1);
        model.host_write(1, b"still");
    });
    let serving = harness.clone();
    let read = within(move || {
        let port = serving
            .listener()
            .accept(&serving.context())
            .expect("a client");
        let mut buffer = [0u8; 5];
        let length = port.read(&serving.context(), &mut buffer).expect("read");
        buffer[..length].to_vec()
    });
    assert!(b"still".starts_with(&read) && !read.is_empty());
}

#[test]
fn a_console_without_multiport_or_ports_is_refused() {
    virtio::hal::install_for_tests(Arc::new(dev::fake::FakeDeviceMemory::default()));
    let model = ConsoleModel::new(1);
    let mut identity = model.identity();
    identity.features &= !(1 << 1);
    let (_device, transport) = FakeDevice::start(identity, model, |_| Pass::Idle, || {});
    let refused = device::start(transport).err();
    let expected = DevError::Unusable("the console does not offer MULTIPORT");
    assert_eq!(refused, Some(expected));
    let model = ConsoleModel::new(0);
    let identity = model.identity();
    let (_device, transport) = FakeDevice::start(identity, model, |_| Pass::Idle, || {});
    let refused = device::start(transport).err();
    assert_eq!(
        refused,
        Some(DevError::Unusable("the console has no ports"))
    );
}
