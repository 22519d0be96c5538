//! Two processes on one bus: this test binary re-runs itself as the peer.
//!
//! The parent attaches first, then starts the child with the bus path in
//! [`PEER_VARIABLE`]; the child attaches, says hello, answers every ping
//! with a pong of the same number and length, and ends on a frame
//! numbered [`QUIT`].

use std::path::Path;
use std::process::{Command, Stdio};

use hypercall::VirtualNic;
use hypercall_posix::nic::{BusNic, FaultSpec};

use crate::common::{TempBus, numbered_frame, receive, run_with_deadline, send};

/// Set in the child: the bus to serve.
const PEER_VARIABLE: &str = "ANYKERNEL_TEST_PEER_BUS";
/// The number of the child's hello and of the parent's quit.
const QUIT: u64 = u64::MAX;
const PINGS: u64 = 200;

/// The child's side: hello, then echo until told to quit.
fn serve(path: &str) {
    let mac = [2, 0, 0, 0, 0, 0xcc];
    let nic = BusNic::open(Path::new(path), mac, FaultSpec::default(), 1).expect("bus attaches");
    send(&nic, &numbered_frame(0xcc, QUIT, 64));
    loop {
        let (sender, number) = receive(&nic);
        assert_eq!(sender, 0xaa, "only the parent talks on this bus");
        if number == QUIT {
            return;
        }
        send(&nic, &numbered_frame(0xcc, number, 64 + number as usize));
    }
}

#[test]
fn two_processes_share_a_bus() {
    if let Ok(path) = std::env::var(PEER_VARIABLE) {
        return run_with_deadline(|| serve(&path));
    }
    let bus = TempBus::new("processes");
    let nic = bus.nic(0xaa);
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "processes::two_processes_share_a_bus",
            "--test-threads=1",
        ])
        .env(PEER_VARIABLE, &bus.path)
        .stdout(Stdio::null())
        .spawn()
        .expect("the peer starts");
    run_with_deadline(|| {
        assert_eq!(receive(&nic), (0xcc, QUIT), "the peer says hello");
        for number in 0..PINGS {
            send(&nic, &numbered_frame(0xaa, number, 64 + number as usize));
            assert_eq!(receive(&nic), (0xcc, number));
        }
        send(&nic, &numbered_frame(0xaa, QUIT, 64));
        assert!(child.wait().expect("the peer ends").success());
    });
    assert_eq!(nic.statistics().delivered, PINGS + 1);
    assert_eq!(nic.max_frame(), 1514);
}
