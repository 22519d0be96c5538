//! Two appliances on one virtual link (dgram netdevs, crossed ports):
//! one is the server with a static address, the other the selftest
//! client that pings it, downloads from it and echoes through it.

use std::time::Duration;

use qemu_tests::clients::free_port;
use qemu_tests::{
    Machine, Network, Nic, QemuConfig, SELFTEST_DEADLINE, appliance_image, boot, selftest_image,
};

fn dgram_nic(local_port: u16, remote_port: u16, mac: u8) -> Nic {
    let mut nic = Nic::new(Network::Dgram {
        local_port,
        remote_port,
    });
    nic.mac = Some([0x52, 0x54, 0, 0x12, 0x34, mac]);
    nic
}

fn two_guests_talk(machine: Machine) {
    let (server_port, client_port) = (free_port(), free_port());
    let server = QemuConfig::kernel(appliance_image())
        .machine(machine)
        .param("ip=10.0.3.1/24")
        .nic(dgram_nic(server_port, client_port, 1));
    let mut server = boot(&server);
    server.expect_line("anykernel: ready", Duration::from_secs(30));
    let client = QemuConfig::kernel(selftest_image())
        .machine(machine)
        .params([
            "test=net-peer",
            "peer=10.0.3.1",
            "bytes=16M",
            "ip=10.0.3.2/24",
        ])
        .nic(dgram_nic(client_port, server_port, 2));
    let outcome = qemu_tests::Qemu::spawn(&client)
        .expect("the client boots")
        .wait_for_exit(SELFTEST_DEADLINE + Duration::from_secs(120));
    outcome.assert_passed();
    outcome.expect_line("1000 echoes in order");
    drop(server);
}

#[test]
fn two_q35_guests_ping_transfer_and_echo_over_a_dgram_link() {
    two_guests_talk(Machine::Q35);
}

#[test]
fn two_microvm_guests_ping_transfer_and_echo_over_a_dgram_link() {
    two_guests_talk(Machine::Microvm);
}
